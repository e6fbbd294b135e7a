// api.mjs: tests of web/pacwasm.js's API under Node, with node:test.
//
//   PACWASM_MODULE=bin/pac.wasm node web/test/api.mjs
//
// wasm/node_test.go (TestNodeAPI) runs it with a freshly built module.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import {
  load, createWorkerEngine, parseResult, formatProxies, parseAddr, formatAddr, errorFromReport,
  PacError, PacSyntaxError, PacScriptError, PacTimeoutError, TIMEOUT_MESSAGE, ABI_VERSION,
} from '../pacwasm.js';

const modulePath = process.env.PACWASM_MODULE ?? fileURLToPath(new URL('../../bin/pac.wasm', import.meta.url));
const bytes = readFileSync(modulePath);
const module = await WebAssembly.compile(bytes);
const workerURL = new URL('../pacwasm-worker.js', import.meta.url);
const quiet = { onOutput: () => {} };

const pac = (body) => `function FindProxyForURL(url, host) { ${body} }`;

test('load takes a path, a file: URL, bytes, a Response and a Module', async () => {
  const sources = [
    modulePath,
    pathToFileURL(modulePath),
    bytes,
    new Response(bytes, { headers: { 'Content-Type': 'application/wasm' } }), // instantiateStreaming
    new Response(bytes), // no wasm type: read whole
    module,
  ];
  for (const src of sources) {
    const e = await load(src, quiet);
    assert.equal(e.abiVersion, ABI_VERSION);
    assert.equal(e.compile(pac('return "DIRECT";')).evaluate('http://a/'), 'DIRECT');
  }
  await assert.rejects(load(new Response('nope', { status: 404 })), /404/);
});

test('findProxyForURL returns the string and the parsed proxies', async () => {
  const e = await load(module, quiet);
  const s = e.compile(pac('return "PROXY a.example:8080; junk; socks [2001:DB8::1]; DIRECT";'));
  assert.deepEqual(s.findProxyForURL('http://x/'), {
    result: 'PROXY a.example:8080; junk; socks [2001:DB8::1]; DIRECT',
    proxies: [
      { type: 'PROXY', host: 'a.example', port: 8080 },
      { type: 'SOCKS4', host: '2001:db8::1', port: 1080 },
      { type: 'DIRECT', host: '', port: 0 },
    ],
    warnings: [{ entry: 'junk', reason: 'unknown type "junk"' }],
  });
  assert.deepEqual(e.compile(pac('return "DIRECT";')).findProxyForURL('http://x/'),
    { result: 'DIRECT', proxies: [{ type: 'DIRECT', host: '', port: 0 }] });
});

test('url, host and full URLs reach the script', async () => {
  const e = await load(module, quiet);
  const s = e.compile(pac('return url + " " + host;'));
  assert.equal(s.evaluate('https://user@www.example.com:8443/p?q#f'), 'https://www.example.com:8443/ www.example.com');
  assert.equal(s.evaluate('http://a/b', 'other'), 'http://a/b other');
  const full = e.compile(pac('return url;'), { fullURLs: true });
  assert.equal(full.evaluate('https://www.example.com/p?q'), 'https://www.example.com/p?q');
});

test('compile errors are exceptions with kind, position and message', async () => {
  const e = await load(module, quiet);
  assert.throws(() => e.compile('function FindProxyForURL(u, h) {\n  return', { name: 'bad.pac' }), (err) => {
    assert.ok(err instanceof PacSyntaxError && err instanceof PacError && err instanceof Error);
    assert.equal(err.kind, 'syntax');
    assert.equal(err.line, 2);
    assert.ok(err.column > 0);
    assert.equal(err.scriptName, 'bad.pac');
    assert.match(err.message, /^bad\.pac:2:\d+: SyntaxError: /);
    assert.match(err.detail, /^SyntaxError: /);
    return true;
  });
  assert.throws(() => e.compile('var x = 1;'), { kind: 'no_entry', message: 'pac: script defines no FindProxyForURL function' });
  assert.throws(() => e.compile(pac('return "DIRECT";'), { zone: 'Mars/Olympus' }), { kind: 'config' });
  assert.throws(() => e.compile(pac('return "DIRECT";'), { maxScriptSize: 10 }), { kind: 'too_large' });
  assert.throws(() => e.compile('throw new Error("top");\n' + pac('return "DIRECT";')), (err) => err instanceof PacScriptError && err.line === 1);
});

test('evaluation errors are exceptions; trace returns them', async () => {
  const e = await load(module, quiet);
  const s = e.compile('function FindProxyForURL(u, h) {\n  if (h == "bad") throw new TypeError("no");\n  return h == "num" ? 1 : "DIRECT";\n}', { name: 't.pac' });
  assert.throws(() => s.findProxyForURL('http://bad/'), (err) => {
    assert.ok(err instanceof PacScriptError);
    assert.equal(err.line, 2);
    assert.match(err.message, /^t\.pac:2:\d+: TypeError: no/);
    assert.match(err.scriptStack, /FindProxyForURL/);
    return true;
  });
  assert.throws(() => s.findProxyForURL('http://num/'), { kind: 'script' });
  const t = s.trace('http://bad/');
  assert.equal(t.result, null);
  assert.ok(t.error instanceof PacScriptError);
  const ok = e.compile(pac('return isPlainHostName(host) ? "DIRECT" : "PROXY p:1";')).trace('http://a/');
  assert.deepEqual(ok, { result: 'DIRECT', error: null, calls: [{ func: 'isPlainHostName', args: ['"a"'], result: 'true' }] });
  const big = e.compile(pac('var s = "PROXY a:1"; while (s.length < 70000) s += "; PROXY a:1"; return s;'));
  assert.throws(() => big.evaluate('http://a/'), { kind: 'script' });
  const deep = e.compile(pac('function f(n) { return f(n + 1); } return f(0);'));
  assert.throws(() => deep.evaluate('http://a/'), /maximum call stack size exceeded/);
  assert.equal(e.compile(pac('return "DIRECT";')).evaluate('http://a/'), 'DIRECT'); // the instance lives on
});

test('DNS: a table, as pac.StaticResolver answers, and a callback', async () => {
  const resolve = { 'mixed.example': '2001:db8::1;10.0.0.1; ::ffff:10.0.0.2', 'v6.example': ['2001:db8::2'], 'dot.example': '10.0.0.3' };
  const e = await load(module, { ...quiet, resolve });
  const s = e.compile(pac('return [dnsResolve(host), dnsResolveEx(host), isResolvable(host), isResolvableEx(host)].join(" ");'));
  assert.equal(s.evaluate('http://MIXED.example/'), '10.0.0.1 2001:db8::1;10.0.0.1;::ffff:a00:2 true true');
  assert.equal(s.evaluate('http://v6.example/'), ' 2001:db8::2 false true');
  assert.equal(s.evaluate('http://x/', 'dot.example.'), '10.0.0.3 10.0.0.3 true true');
  assert.equal(s.evaluate('http://unknown.example/'), '  false false'); // at once: nothing waits
  const asked = [];
  const cb = e.compile(pac('return [dnsResolve(host), dnsResolveEx(host)].join(" ");'), {
    resolve: (host, family) => { asked.push([host, family]); return host === 'cb.example' ? ['10.9.9.9', '2001:db8::9'] : null; },
  });
  assert.equal(cb.evaluate('http://cb.example/'), '10.9.9.9 10.9.9.9;2001:db8::9');
  assert.deepEqual(asked, [['cb.example', 4], ['cb.example', 0]]);
  assert.equal(cb.evaluate('http://bücher.example/'), ' ');
  assert.deepEqual(asked.at(-1), ['xn--bcher-kva.example', 0]);
  const out = [];
  const e2 = await load(module, { onOutput: (t) => out.push(t), resolve: () => { throw new Error('resolver down'); } });
  assert.equal(e2.compile(pac('return "" + isResolvable(host);')).evaluate('http://a/'), 'false');
  assert.match(out.join('\n'), /resolver down/);
  const e3 = await load(module, { onOutput: (t) => out.push(t), resolve: async () => '10.0.0.1' });
  const s3 = e3.compile(pac('return "" + isResolvable(host);'));
  assert.equal(s3.evaluate('http://a/'), 'false');
  assert.equal(s3.evaluate('http://b/'), 'false');
  assert.equal(out.filter((t) => /Promise/.test(t)).length, 1);
});

test('the clock, the zone, the client addresses and alert come from the options', async () => {
  const alerts = [];
  let now = Date.UTC(2026, 0, 7, 10, 30); // a Wednesday
  const e = await load(module, { ...quiet, now: () => now, myIPAddresses: ['2001:db8::7', '10.7.7.7'], onAlert: (m) => alerts.push(m) });
  const s = e.compile(pac('alert("at " + host); return [weekdayRange("WED"), timeRange(11), timeRange(10, "GMT"), myIpAddress(), myIpAddressEx(), new Date().toISOString()].join(" ");'), { zone: 'Europe/Berlin' });
  assert.equal(s.evaluate('http://a/'), 'true true true 10.7.7.7 2001:db8::7;10.7.7.7 2026-01-07T10:30:00.000Z');
  now = Date.UTC(2026, 0, 8, 9);
  assert.equal(s.evaluate('http://b/'), 'false false false 10.7.7.7 2001:db8::7;10.7.7.7 2026-01-08T09:00:00.000Z');
  assert.deepEqual(alerts, ['at a', 'at b']);
  const own = [];
  const o = e.compile(pac('alert("x"); return myIpAddress() + " " + weekdayRange("FRI");'), { now: Date.UTC(2026, 0, 9), myIPAddresses: '192.168.1.1', onAlert: (m) => own.push(m) });
  assert.equal(o.evaluate('http://a/'), '192.168.1.1 true');
  assert.deepEqual(own, ['x']);
  assert.equal(e.compile(pac('return myIpAddress();'), { myIPAddresses: [] }).evaluate('http://a/'), '127.0.0.1');
  assert.equal(e.compile(pac('return "" + weekdayRange("THU");'), { zone: 'local' }).evaluate('http://a/'), 'true');
});

test('one instance holds one script: an older script is loaded again when used', async () => {
  const e = await load(module, quiet);
  const a = e.compile('var n = 0; ' + pac('return "PROXY a:" + (++n);'));
  assert.equal(a.evaluate('http://x/'), 'PROXY a:1');
  assert.equal(a.evaluate('http://x/'), 'PROXY a:2');
  const b = e.compile(pac('return "PROXY b:1";'));
  assert.equal(b.evaluate('http://x/'), 'PROXY b:1');
  assert.equal(a.evaluate('http://x/'), 'PROXY a:1'); // reloaded: its globals start afresh
  assert.throws(() => e.compile('syntax error here'), { kind: 'syntax' });
  assert.equal(a.evaluate('http://x/'), 'PROXY a:2'); // a failed compile keeps the loaded script
  const e2 = await e.spawn();
  const c = e2.compile('var n = 0; ' + pac('return "PROXY c:" + (++n);'));
  assert.equal(c.evaluate('http://x/'), 'PROXY c:1');
  assert.equal(a.evaluate('http://x/'), 'PROXY a:3');
  assert.equal(c.evaluate('http://x/'), 'PROXY c:2'); // another engine: no swap
  e.close();
  assert.throws(() => a.evaluate('http://x/'), { kind: 'closed' });
  assert.equal(c.evaluate('http://x/'), 'PROXY c:3');
});

test('calling the engine from its own callback is refused', async () => {
  let kind = '';
  let s;
  const e = await load(module, { ...quiet, onAlert: () => { try { s.evaluate('http://b/'); } catch (err) { kind = err.kind; } } });
  s = e.compile(pac('if (host == "a") alert("again"); return "DIRECT";'));
  assert.equal(s.evaluate('http://a/'), 'DIRECT');
  assert.equal(kind, 'busy');
});

test('results survive memory growth and long inputs', async () => {
  const e = await load(module, quiet);
  const s = e.compile('var keep = []; ' + pac('for (var i = 0; i < 20; i++) keep.push(new Array(500).join(host + i)); return "PROXY " + host + ":1";'));
  const before = e.memoryBytes;
  for (let i = 0; i < 60; i++) {
    const host = `h${i}.${'x'.repeat(50)}.example`;
    assert.equal(s.evaluate(`http://${host}/${'p'.repeat(10000)}`), `PROXY ${host}:1`);
  }
  assert.ok(e.memoryBytes > before, `memory grew from ${before} to ${e.memoryBytes}`);
  const u = e.compile(pac('return "PROXY " + host.length + ":" + (url.length > 5000 ? 1 : 2);'));
  assert.equal(u.evaluate(`http://a.example/${'ü'.repeat(5000)}`, 'h'.repeat(5000)), 'PROXY 5000:1');
});

test('the guest output is capped', async () => {
  const out = [];
  const e = await load(module, { outputLimit: 200, onOutput: (t) => out.push(t), resolve: () => { throw new Error('x'.repeat(50)); } });
  const s = e.compile(pac('for (var i = 0; i < 20; i++) isResolvable("a" + i); return "DIRECT";'));
  assert.equal(s.evaluate('http://a/'), 'DIRECT');
  assert.ok(out.join('\n').length < 400, out.join('\n'));
  assert.match(out.at(-1), /dropped/);
});

test('errors cross a Worker as reports', () => {
  const err = errorFromReport({ kind: 'syntax', message: 'p.pac:1:2: SyntaxError: x', msg: 'SyntaxError: x', name: 'p.pac', line: 1, column: 2 });
  assert.ok(err instanceof PacSyntaxError);
  const back = errorFromReport(JSON.parse(JSON.stringify(err)));
  assert.deepEqual([back.kind, back.message, back.line, back.column, back.scriptName, back.detail], ['syntax', err.message, 1, 2, 'p.pac', 'SyntaxError: x']);
  assert.ok(errorFromReport({ kind: 'timeout', message: TIMEOUT_MESSAGE }) instanceof PacTimeoutError);
  assert.equal(new PacTimeoutError().message, TIMEOUT_MESSAGE);
});

test('parseResult, formatProxies, parseAddr and formatAddr', () => {
  assert.equal(formatProxies(parseResult('proxy A.example; HTTPS [::FFFF:1.2.3.4]:8443; socks5 0x7f.1').proxies),
    'PROXY a.example:80; HTTPS [::ffff:1.2.3.4]:8443; SOCKS5 127.0.0.1:1080');
  assert.deepEqual(parseResult(''), { proxies: [{ type: 'DIRECT', host: '', port: 0 }], warnings: [{ entry: '', reason: 'no valid entry, using DIRECT' }] });
  assert.equal(formatAddr(parseAddr('2001:0db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(parseAddr('1.2.3.04'), null);
  assert.equal(parseAddr('fe80::1%eth0'), null);
});

test('Worker engine: answers, alerts, a per-call clock, traces and errors', async () => {
  const alerts = [];
  let now = Date.UTC(2026, 0, 7, 12); // a Wednesday
  const we = await createWorkerEngine(workerURL, module, { ...quiet, now: () => now, resolve: { 'a.example': '10.0.0.1' }, onAlert: (m) => alerts.push(['engine', m]) });
  try {
    const s = await we.compile(pac('alert(host); return weekdayRange("WED") ? "PROXY " + dnsResolve(host) + ":1" : "DIRECT";'));
    const own = await we.compile(pac('alert("own"); return "DIRECT";'), { onAlert: (m) => alerts.push(['own', m]) });
    assert.deepEqual(await s.findProxyForURL('http://a.example/'), { result: 'PROXY 10.0.0.1:1', proxies: [{ type: 'PROXY', host: '10.0.0.1', port: 1 }] });
    now = Date.UTC(2026, 0, 8, 12);
    assert.equal((await s.findProxyForURL('http://a.example/')).result, 'DIRECT');
    await own.findProxyForURL('http://x/');
    assert.deepEqual(alerts, [['engine', 'a.example'], ['engine', 'a.example'], ['own', 'own']]);
    const t = await s.trace('http://a.example/');
    assert.equal(t.result, 'DIRECT');
    assert.deepEqual(t.calls.map((c) => c.func), ['alert', 'weekdayRange']);
    await assert.rejects(we.compile('nope nope', { name: 'w.pac' }), (err) => err instanceof PacSyntaxError && err.scriptName === 'w.pac');
    const bad = await we.compile(pac('throw new Error("x");'));
    await assert.rejects(bad.findProxyForURL('http://a/'), PacScriptError);
    assert.ok((await bad.trace('http://a/')).error instanceof PacScriptError);
    await bad.close();
    await assert.rejects(bad.findProxyForURL('http://a/'), { kind: 'not_loaded' });
    await assert.rejects(we.compile(pac('return "DIRECT";'), { resolve: () => null }), TypeError);
  } finally {
    we.terminate();
  }
});

test('Worker engine: a runaway script is stopped by terminating the Worker', async () => {
  const we = await createWorkerEngine(workerURL, module, { ...quiet, timeout: 1000 }); // generous: a loaded machine must not time out the quick calls
  try {
    const s = await we.compile('var n = 0; ' + pac('if (host == "loop") while (true) {} return "PROXY p:" + (++n);'));
    const other = await we.compile(pac('return "DIRECT";'));
    assert.equal((await s.findProxyForURL('http://a/')).result, 'PROXY p:1');
    const t0 = performance.now();
    await assert.rejects(s.findProxyForURL('http://loop/'), (err) => err instanceof PacTimeoutError && err.message === TIMEOUT_MESSAGE);
    assert.ok(performance.now() - t0 < 10000);
    assert.equal(we.restarts, 1);
    // Queued calls are answered by the new Worker, where the scripts were
    // compiled again (and their globals started afresh).
    const [a, b] = await Promise.all([s.findProxyForURL('http://a/'), other.findProxyForURL('http://a/')]);
    assert.deepEqual([a.result, b.result], ['PROXY p:1', 'DIRECT']);
    await assert.rejects(we.compile('while (true) {}\n' + pac('return "DIRECT";')), PacTimeoutError);
    assert.equal((await other.findProxyForURL('http://a/')).result, 'DIRECT');
    assert.equal(we.restarts, 2);
  } finally {
    we.terminate();
  }
  await assert.rejects(we.compile(pac('return "DIRECT";')), { kind: 'closed' });
});

test('Worker engine: terminate stops a call that has no timeout', async () => {
  const we = await createWorkerEngine(workerURL, modulePath, quiet);
  const s = await we.compile(pac('while (true) {}'));
  const p = s.findProxyForURL('http://a/');
  setTimeout(() => we.terminate(), 200);
  await assert.rejects(p, { kind: 'closed' });
});
