// pacresolver_bench.mjs: the pac-resolver side of bench/engines (see
// bench/README.md, "PAC engines"). It reads one JSON job on stdin (the
// PAC script, a preamble, the calls, the fixed DNS answers, client address
// and clock, how long to run) and prints one JSON object on stdout: the
// answers of the first pass over the calls and, for each timed run, the
// calls made, the nanoseconds they took and the process's CPU time in
// them.
//
// The outside world is fixed here, in the host, before pac-resolver is
// loaded, because its PAC helpers are Node functions:
//
//   - DNS: node:dns's lookup is replaced by a function that answers from
//     job.dns (host name -> IPv4 address); an IP literal answers itself,
//     as Node's lookup does, and any other name fails with ENOTFOUND.
//     syncBuiltinESMExports() makes the `import { lookup } from 'dns'` of
//     pac-resolver's util.js see the replacement, so its own dnsResolve,
//     isResolvable and isInNet code runs, against the fixed table.
//   - myIpAddress: given to createPacResolver's sandbox as an async
//     function returning job.myip (pac-resolver's own one connects to
//     8.8.8.8:53 to learn the local address).
//   - the clock: globalThis.Date is replaced by a Date whose no-argument
//     form (`new Date()`, what pac-resolver's weekdayRange and timeRange
//     call) gives job.now_ms; the zone comes from the TZ variable of the
//     environment (bench/engines sets it). Date.now() is left running:
//     quickjs-wasi's WASI shim serves the guest's realtime and monotonic
//     clocks from it, and with it frozen every call took milliseconds.
//     Date objects made inside QuickJS, by the script itself, are not
//     fixed; none of the measured scripts makes one.
//
// Usage: node pacresolver_bench.mjs NODE_MODULES_DIR < job.json

import dns from 'node:dns';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const job = JSON.parse(readFileSync(0, 'utf8'));
const out = { engine: 'pac-resolver' };

function emit() {
  process.stdout.write(JSON.stringify(out) + '\n');
}

// The clock.
const RealDate = Date;
const NOW = job.now_ms;
function FixedDate(...args) {
  if (!new.target) {
    return new RealDate(NOW).toString();
  }
  return args.length ? new RealDate(...args) : new RealDate(NOW);
}
FixedDate.prototype = RealDate.prototype;
FixedDate.now = RealDate.now;
FixedDate.UTC = RealDate.UTC;
FixedDate.parse = RealDate.parse;
globalThis.Date = FixedDate;

// DNS.
const table = job.dns || {};
dns.lookup = function lookup(host, opts, cb) {
  if (typeof opts === 'function') {
    cb = opts;
    opts = {};
  }
  const name = String(host);
  process.nextTick(() => {
    const fam = net.isIP(name);
    if (fam) {
      cb(null, name, fam);
      return;
    }
    const key = name.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(table, key)) {
      cb(null, table[key], 4);
      return;
    }
    const err = new Error('getaddrinfo ENOTFOUND ' + name);
    err.code = 'ENOTFOUND';
    err.hostname = name;
    cb(err);
  });
};
syncBuiltinESMExports();

const nodeModules = process.argv[2] && resolve(process.argv[2]);
if (!nodeModules) {
  out.error = 'usage: node pacresolver_bench.mjs NODE_MODULES_DIR < job.json';
  emit();
  process.exit(2);
}
const req = createRequire(join(nodeModules, 'pacd-bench.js'));

function version(pkg) {
  try {
    return JSON.parse(readFileSync(join(nodeModules, pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}
out.version = `pac-resolver ${version('pac-resolver')}, quickjs-wasi ${version('quickjs-wasi')}, degenerator ${version('degenerator')}, Node ${process.versions.node}`;

function answer(v) {
  if (typeof v === 'string') {
    return v;
  }
  return 'non-string: ' + JSON.stringify(v);
}

function errText(e) {
  if (e && typeof e === 'object' && 'message' in e) {
    // QuickJS puts the position in the stack, not the message.
    const at = String(e.stack || '').split('\n').map((l) => l.trim()).find((l) => l.startsWith('at '));
    return `${e.name || 'Error'}: ${e.message}` + (at ? ` (${at})` : '');
  }
  return String(e);
}

async function main() {
  const { QuickJS } = await import(pathToFileURL(req.resolve('quickjs-wasi')).href);
  const { createPacResolver } = await import(pathToFileURL(req.resolve('pac-resolver')).href);
  const wasm = readFileSync(req.resolve('quickjs-wasi/quickjs.wasm'));

  const t0 = process.hrtime.bigint();
  let F;
  try {
    const qjs = await QuickJS.create({ wasm });
    const myip = job.myip;
    F = createPacResolver(qjs, (job.preamble || '') + job.script, {
      filename: job.name || 'proxy.pac',
      sandbox: { myIpAddress: async () => myip },
    });
  } catch (e) {
    out.error = 'load: ' + errText(e);
    return;
  }
  out.setup_ns = Number(process.hrtime.bigint() - t0);

  const calls = job.calls;
  async function one(c) {
    try {
      return answer(await F(c.url, c.host));
    } catch (e) {
      return 'error: ' + errText(e);
    }
  }

  out.answers = [];
  for (const c of calls) {
    out.answers.push(await one(c));
  }

  const minPasses = Math.max(1, job.min_passes || 1);
  async function run(ms) {
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(ms * 1e6));
    let n = 0;
    let passes = 0;
    let now;
    for (;;) {
      for (const c of calls) {
        await one(c);
      }
      n += calls.length;
      passes++;
      now = process.hrtime.bigint();
      if (now >= deadline && passes >= minPasses) {
        break;
      }
    }
    const cpu = process.cpuUsage(cpu0);
    return { calls: n, ns: Number(now - start), cpu_ns: (cpu.user + cpu.system) * 1000 };
  }

  await run(job.warmup_ms || 0);
  out.runs = [];
  for (let i = 0; i < (job.runs || 1); i++) {
    out.runs.push(await run(job.min_run_ms || 0));
  }
}

main().then(emit, (e) => {
  out.error = errText(e);
  emit();
  process.exitCode = 1;
});
