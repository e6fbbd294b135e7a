// pacwasm-worker.js: the Worker side of createWorkerEngine (pacwasm.js).
// Start it as a module Worker — new Worker(url, {type: 'module'}) in a
// browser, new Worker(url) from node:worker_threads in Node — or, more
// simply, let createWorkerEngine do it.
//
// The protocol, one request at a time (the page side serializes them):
//
//   page → worker  {id, op: 'load', module, options}
//                  module: a URL, bytes or a WebAssembly.Module; options:
//                  the data-only EngineOptions (resolve as a table,
//                  myIPAddresses, outputLimit)
//                  {id, op: 'compile', script, source, options, now?}
//                  {id, op: 'find' | 'trace', script, url, host, now?}
//                  {id, op: 'drop', script}
//                  script is a number the page chose; now, if present, is
//                  the wall clock (ms since the epoch) during that call
//   worker → page  {id, ok: true, value}   load: {abi, module}, compile: null,
//                                          find: the result string,
//                                          trace: {result, error, calls}
//                  {id, ok: false, error}  error: PacError.toJSON()
//                  {event: 'alert', script, message}
//                  {event: 'log', script, level, message}
//                  {event: 'output', text, fd}
//
// A call that never returns (a script looping forever) cannot be
// interrupted from inside: the page terminates this Worker and starts
// another (see createWorkerEngine's timeout).

import { load, PacError } from './pacwasm.js';

let port;
if (typeof WorkerGlobalScope !== 'undefined' && typeof self !== 'undefined' && self instanceof WorkerGlobalScope) {
  port = { post: (m) => self.postMessage(m), on: (f) => { self.onmessage = (ev) => f(ev.data); } };
} else {
  const { parentPort } = await import('node:worker_threads');
  if (!parentPort) throw new Error('pacwasm-worker.js must run as a Worker');
  port = { post: (m) => parentPort.postMessage(m), on: (f) => parentPort.on('message', f) };
}

let engine = null;
const scripts = new Map(); // script id -> Script
let clock = null; // the wall clock of the call that runs, or null for Date.now
let running = 0; // the script id of the call that runs

const post = (m) => {
  try {
    port.post(m);
  } catch {
    // A value that cannot be cloned (a WebAssembly.Module, where the
    // platform does not clone them): send the reply without it.
    if (m.value?.module) port.post({ ...m, value: { ...m.value, module: undefined } });
  }
};

function report(e) {
  if (e instanceof PacError) return e.toJSON();
  return { kind: 'internal', message: `pacwasm-worker: ${e?.message ?? e}` };
}

async function handle(m) {
  switch (m.op) {
    case 'load': {
      const o = m.options ?? {};
      engine = await load(m.module, {
        resolve: o.resolve,
        myIPAddresses: o.myIPAddresses,
        outputLimit: o.outputLimit,
        now: () => (clock ?? Date.now()),
        onAlert: (message) => post({ event: 'alert', script: running, message }),
        onLog: (level, message) => post({ event: 'log', script: running, level, message }),
        onOutput: (text, fd) => post({ event: 'output', text, fd }),
      });
      return { abi: engine.abiVersion, module: engine.module };
    }
    case 'compile': {
      if (!engine) throw new PacError({ kind: 'not_loaded', message: 'pacwasm-worker: no module loaded' });
      scripts.set(m.script, engine.compile(m.source, m.options ?? {}));
      return null;
    }
    case 'find':
    case 'trace': {
      const s = scripts.get(m.script);
      if (!s) throw new PacError({ kind: 'not_loaded', message: 'pacwasm-worker: no such script' });
      if (m.op === 'find') return s.evaluate(m.url, m.host);
      const t = s.trace(m.url, m.host);
      return { result: t.result, error: t.error ? t.error.toJSON() : null, calls: t.calls };
    }
    case 'drop':
      scripts.delete(m.script);
      return null;
  }
  throw new PacError({ kind: 'internal', message: `pacwasm-worker: unknown op ${m.op}` });
}

port.on(async (m) => {
  if (m == null || typeof m.id !== 'number') return;
  clock = typeof m.now === 'number' && Number.isFinite(m.now) ? m.now : null;
  running = m.script ?? 0;
  try {
    post({ id: m.id, ok: true, value: await handle(m) });
  } catch (e) {
    post({ id: m.id, ok: false, error: report(e) });
  } finally {
    clock = null;
  }
});
