// corpus.mjs: evaluates PAC test cases with web/pacwasm.js under Node, for
// the parity test (wasm/node_test.go, TestNodeParity), which compares the
// answers with the native engine's.
//
//   node web/test/corpus.mjs MODULE.wasm < cases.json > answers.json
//
// Input, on standard input: a JSON object
//
//   {"files": [FILE...], "parse": ["PROXY a:1; junk", ...]}
//
// FILE is one script in one environment, with the cases to evaluate in
// order (as pactest runs a .pactest file: one compile, then every case):
//
//   {"name": "x.pac", "source": "function FindProxyForURL...", "zone": "Europe/Berlin",
//    "now": 1767268800000,                       the fixed clock, ms since the epoch
//    "resolve": {"host": "10.1.2.3;2001:db8::1"}, the only DNS answers
//    "client": "10.1.2.3;::1",                   myIpAddress(Ex)'s addresses
//    "full_urls": false,
//    "timeout_ms": 0,                            >0: run in a Worker that is
//                                                terminated past this deadline
//    "cases": [{"url": "http://a/", "host": ""}]}
//
// Output, on standard output: a JSON object
//
//   {"files": [{"compile_error": ERR | null, "answers": [ANSWER...]}],
//    "parse": [PARSED...]}
//
// ANSWER is {"result": "...", "parsed": PARSED} or {"error": ERR}; ERR is
// {"kind", "message"}; PARSED is {"canonical": "PROXY a:1", "warnings":
// [{"entry", "reason"}]} (what parseResult made of the string).
//
// A script with an endless loop cannot be interrupted on Node's main
// thread, so files with a timeout run through createWorkerEngine, which
// terminates the Worker at the deadline (at least minWorkerTimeout); the
// others run on one engine on the main thread, each file's script
// replacing the last.

import { readFileSync } from 'node:fs';
import { load, createWorkerEngine, parseResult, formatProxies } from '../pacwasm.js';

const modulePath = process.argv[2];
if (!modulePath) {
  console.error('usage: node corpus.mjs MODULE.wasm < cases.json');
  process.exit(2);
}

const input = JSON.parse(readFileSync(0, 'utf8'));
const bytes = readFileSync(modulePath);
const module = await WebAssembly.compile(bytes);
const workerURL = new URL('../pacwasm-worker.js', import.meta.url);

// The deadline of a Worker's call also covers passing messages and
// scheduling the Worker's thread; on a loaded machine 200 ms could then
// cut off a case that takes a millisecond. A script that loops forever
// times out whatever the deadline, so the Worker gets at least this.
const minWorkerTimeout = 1000;

const errorOf = (e) => ({ kind: e?.kind ?? 'host', message: e?.message ?? String(e) });

function parsed(s) {
  const p = parseResult(s);
  return { canonical: formatProxies(p.proxies), warnings: p.warnings ?? [] };
}

function env(f) {
  return {
    name: f.name,
    zone: f.zone ?? '',
    fullURLs: !!f.full_urls,
    now: f.now,
    resolve: f.resolve ?? {},
    myIPAddresses: f.client ?? '',
    onAlert: () => {},
  };
}

let engine = null;
const out = { files: [], parse: [] };
for (const f of input.files ?? []) {
  const answers = [];
  let compileError = null;
  if (f.timeout_ms > 0) {
    const we = await createWorkerEngine(workerURL, module, { timeout: Math.max(f.timeout_ms, minWorkerTimeout), onOutput: () => {} });
    try {
      let script = null;
      try {
        script = await we.compile(f.source, env(f));
      } catch (e) {
        compileError = errorOf(e);
      }
      if (script) {
        for (const c of f.cases) {
          try {
            const r = await script.findProxyForURL(c.url, c.host ?? '');
            answers.push({ result: r.result, parsed: parsed(r.result) });
          } catch (e) {
            answers.push({ error: errorOf(e) });
          }
        }
      }
    } finally {
      we.terminate();
    }
  } else {
    engine ??= await load(module, { onOutput: (t) => process.stderr.write(`pac.wasm: ${t}\n`) });
    let script = null;
    try {
      script = engine.compile(f.source, env(f));
    } catch (e) {
      compileError = errorOf(e);
      if (e?.kind === 'trap') engine = null;
    }
    if (script) {
      for (const c of f.cases) {
        try {
          const result = script.evaluate(c.url, c.host ?? '');
          answers.push({ result, parsed: parsed(result) });
        } catch (e) {
          answers.push({ error: errorOf(e) });
          if (e?.kind === 'trap') { engine = null; break; }
        }
      }
    }
  }
  out.files.push({ compile_error: compileError, answers });
}
for (const s of input.parse ?? []) out.parse.push(parsed(s));
process.stdout.write(JSON.stringify(out));
