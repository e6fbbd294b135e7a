// bench.mjs: a smoke benchmark of web/pacwasm.js under Node.
//
//   node web/test/bench.mjs [MODULE.wasm] [PAC] [CALLS]
//
// MODULE defaults to bin/pac.wasm (`make wasm`), PAC to
// testdata/pac/bench-small.pac, CALLS to 100000. It prints the start-up
// (reading the file, compiling, instantiating with _initialize, loading
// the PAC, the first answer, and their total: the load time to the first
// answer) and the mean time per call, rotating through five (url, host)
// pairs that cover bench-small's branches, after a warm-up that lets V8
// tier the module up. "evaluate" is the raw string, "findProxyForURL" adds
// the JavaScript result parser, "worker" is a round trip to
// createWorkerEngine's Worker.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load, createWorkerEngine } from '../pacwasm.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const modulePath = process.argv[2] ?? `${root}bin/pac.wasm`;
const pacPath = process.argv[3] ?? `${root}testdata/pac/bench-small.pac`;
const calls = Number(process.argv[4] ?? 100000);

const urls = [
  ['http://intranet/', ''],
  ['http://wiki.corp.example.com/page', ''],
  ['http://update.example.org/win/x.cab', ''],
  ['http://a.b.c.d.e.f.example.com/', ''],
  ['https://www.example.org/search?q=1', ''],
];

const ms = (t) => `${t.toFixed(1)} ms`;

const t0 = performance.now();
const bytes = readFileSync(modulePath);
const t1 = performance.now();
const module = await WebAssembly.compile(bytes);
const t2 = performance.now();
const engine = await load(module);
const t3 = performance.now();
const script = engine.compile(readFileSync(pacPath, 'utf8'), { name: 'bench-small.pac' });
const t4 = performance.now();
const first = script.evaluate(...urls[0]);
const t5 = performance.now();

console.log(`module      ${modulePath} (${(bytes.length / 1e6).toFixed(2)} MB)`);
console.log(`node        ${process.version}`);
console.log(`read        ${ms(t1 - t0)}`);
console.log(`compile     ${ms(t2 - t1)}`);
console.log(`instantiate ${ms(t3 - t2)} (with _initialize)`);
console.log(`load PAC    ${ms(t4 - t3)}`);
console.log(`first call  ${ms(t5 - t4)} -> ${first}`);
console.log(`load time   ${ms(t5 - t0)} (file to first answer)`);
console.log(`memory      ${(engine.memoryBytes / 2 ** 20).toFixed(1)} MiB of linear memory`);

function perCall(label, f, n) {
  for (let i = 0; i < Math.min(n, 20000); i++) f(urls[i % urls.length]); // warm-up
  const t = performance.now();
  for (let i = 0; i < n; i++) f(urls[i % urls.length]);
  const us = ((performance.now() - t) * 1000) / n;
  console.log(`${label.padEnd(16)} ${us.toFixed(2)} µs per call (mean of ${n})`);
}

perCall('evaluate', ([u, h]) => script.evaluate(u, h), calls);
perCall('findProxyForURL', ([u, h]) => script.findProxyForURL(u, h), calls);

const w0 = performance.now();
const we = await createWorkerEngine(new URL('../pacwasm-worker.js', import.meta.url), module);
const ws = await we.compile(readFileSync(pacPath, 'utf8'), { name: 'bench-small.pac' });
await ws.findProxyForURL(...urls[0]);
console.log(`worker up   ${ms(performance.now() - w0)} (Worker start, instantiate, load PAC, first answer)`);
const wn = Math.min(calls, 20000);
const wt = performance.now();
for (let i = 0; i < wn; i++) await ws.findProxyForURL(...urls[i % urls.length]);
console.log(`${'worker'.padEnd(16)} ${(((performance.now() - wt) * 1000) / wn).toFixed(2)} µs per call (mean of ${wn}, one at a time)`);
we.terminate();
