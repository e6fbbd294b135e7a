// browser.mjs: checks web/pacwasm.js in a real browser, headless Chromium,
// by hand (nothing runs it automatically: Chromium is not a dependency).
//
//   node web/test/browser.mjs [MODULE.wasm] [CHROMIUM]
//
// It serves web/ and the module from 127.0.0.1 (the module as
// application/wasm, so instantiateStreaming is used), opens a page that
// loads the module on the main thread and in a Worker, evaluates a few
// scripts, stops an endless loop by terminating the Worker, and posts
// what happened back; it prints that and exits non-zero on a failure.
// The page is served with no-store: the first answer it reports is a cold
// load (fetch, streaming compile, instantiate, load the PAC, answer).

import { createServer } from 'node:http';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const modulePath = process.argv[2] ?? `${root}bin/pac.wasm`;
const chromium = process.argv[3] ?? 'chromium';

const page = `<!doctype html><meta charset="utf-8"><title>pacwasm</title>
<script type="module">
import { load, createWorkerEngine, PacSyntaxError } from './pacwasm.js';
const out = { checks: [] };
const check = (name, ok, detail) => out.checks.push({ name, ok: !!ok, detail });
try {
  const t0 = performance.now();
  const engine = await load('pac.wasm', { resolve: { 'intranet.example': '10.1.2.3' }, myIPAddresses: ['192.168.7.9'],
    now: () => Date.UTC(2026, 0, 7, 10) });
  const s = engine.compile('function FindProxyForURL(url, host) {' +
    ' if (isInNet(dnsResolve(host), "10.0.0.0", "255.0.0.0")) return "DIRECT";' +
    ' if (weekdayRange("WED") && timeRange(11)) return "PROXY berlin.example:3128";' +
    ' return "PROXY " + myIpAddress() + ":8080; SOCKS5 [2001:DB8::1]; junk"; }', { name: 'page.pac', zone: 'Europe/Berlin' });
  const a = s.findProxyForURL('http://intranet.example/');
  out.firstAnswerMs = performance.now() - t0;
  check('dns table', a.result === 'DIRECT', a);
  const b = s.findProxyForURL('https://www.example.com/x?y');
  check('clock and zone', b.result === 'PROXY berlin.example:3128', b);
  const c = engine.compile('function FindProxyForURL(u, h) { return "PROXY " + myIpAddress() + ":8080; SOCKS5 [2001:DB8::1]; junk"; }');
  const r = c.findProxyForURL('http://x/');
  check('parse', r.proxies.length === 2 && r.proxies[1].host === '2001:db8::1' && r.warnings?.[0]?.entry === 'junk', r);
  check('swap back', s.findProxyForURL('http://intranet.example/').result === 'DIRECT');
  const t = s.trace('http://intranet.example/');
  check('trace', t.calls.some((x) => x.func === 'dnsResolve'), t);
  try { engine.compile('function FindProxyForURL(u, h) { return', { name: 'bad.pac' }); check('syntax error', false); }
  catch (e) { check('syntax error', e instanceof PacSyntaxError && e.line === 1 && e.kind === 'syntax', e.message); }
  const n = 20000, u = ['http://intranet.example/', 'http://a.example/', 'https://b.example/'];
  for (let i = 0; i < n; i++) c.evaluate(u[i % 3]); // warm-up: let V8 tier the module up
  let t1 = performance.now();
  for (let i = 0; i < n; i++) c.evaluate(u[i % 3]);
  out.perCallUs = ((performance.now() - t1) * 1000) / n;

  const w0 = performance.now();
  const we = await createWorkerEngine('pacwasm-worker.js', 'pac.wasm', { timeout: 1000 });
  const ws = await we.compile('function FindProxyForURL(u, h) { if (h == "loop") while (true) {} return "DIRECT"; }');
  check('worker', (await ws.findProxyForURL('http://a/')).result === 'DIRECT');
  out.workerUpMs = performance.now() - w0;
  try { await ws.findProxyForURL('http://loop/'); check('worker timeout', false); }
  catch (e) { check('worker timeout', e.kind === 'timeout', e.message); }
  check('worker after restart', (await ws.findProxyForURL('http://a/')).result === 'DIRECT' && we.restarts === 1);
  we.terminate();
} catch (e) {
  check('no exception', false, String(e?.stack ?? e));
}
await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
</script>`;

const files = {
  '/': ['text/html', () => page],
  '/pacwasm.js': ['text/javascript', () => readFileSync(`${root}web/pacwasm.js`)],
  '/pacwasm-worker.js': ['text/javascript', () => readFileSync(`${root}web/pacwasm-worker.js`)],
  '/pac.wasm': ['application/wasm', () => readFileSync(modulePath)],
};

let done;
const result = new Promise((r) => { done = r; });
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/result') {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { res.end('ok'); done(JSON.parse(body)); });
    return;
  }
  const f = files[req.url];
  if (!f) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'Content-Type': f[0], 'Cache-Control': 'no-store' }).end(f[1]());
});
server.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const profile = mkdtempSync(join(tmpdir(), 'pacwasm-chromium-'));
const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
  `--user-data-dir=${profile}`, url], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
browser.stderr.on('data', (d) => { stderr += d; });
const timer = setTimeout(() => done({ checks: [{ name: 'page answered within 60 s', ok: false, detail: stderr.slice(-2000) }] }), 60000);
const out = await result;
clearTimeout(timer);
browser.kill();
server.close();
await new Promise((r) => browser.once('exit', r));
rmSync(profile, { recursive: true, force: true });

let failed = 0;
for (const c of out.checks) {
  if (!c.ok) failed++;
  console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : ` ${JSON.stringify(c.detail)}`}`);
}
if (out.firstAnswerMs !== undefined) {
  console.log(`first answer ${out.firstAnswerMs.toFixed(0)} ms (fetch, streaming compile, instantiate, load PAC), ` +
    `${out.perCallUs.toFixed(2)} µs per call, worker up ${out.workerUpMs.toFixed(0)} ms`);
}
process.exit(failed ? 1 : 0);
