// pacwasm.js: pacd's PAC engine, the WebAssembly module built from
// cmd/pac-wasm, for browsers and Node (20 or later). A dependency-free ES
// module: import it as it is, no bundler needed.
//
//   import { load } from './pacwasm.js';
//   const engine = await load('pac.wasm', { resolve: { 'intranet.example': '10.1.2.3' } });
//   const script = engine.compile(pacSource, { name: 'proxy.pac', zone: 'Europe/Berlin' });
//   const { result, proxies } = script.findProxyForURL('https://www.example.com/');
//
// The module's ABI (version 1) is documented in cmd/pac-wasm/doc.go; this
// file is its host. It supplies its own minimal WASI preview 1 shim (the
// module uses WASI only for the clock, randomness and Go's runtime
// messages on standard error) and the pac_host imports: DNS answers from a
// table or a synchronous callback (there is no synchronous DNS in a
// browser, so a name the caller does not know does not resolve; a lookup
// never waits), the machine's addresses, and alert().
//
// Nothing can interrupt WebAssembly running on the calling thread: a
// script that loops forever blocks it for good. For scripts you do not
// trust, use createWorkerEngine, which runs the module in a Worker (off
// the page's main thread, which also keeps the 70-100 ms start-up off it)
// and terminates the Worker when a call runs past its timeout.

/** The ABI version this host speaks (cmd/pac-wasm/doc.go). */
export const ABI_VERSION = 1;

/**
 * The message of the error a call fails with when it runs past its
 * deadline. It is the engine's own (pac.ErrTimeout), so that a Worker
 * that had to be terminated reports a runaway script exactly as the
 * engine does when it interrupts one itself.
 */
export const TIMEOUT_MESSAGE = 'pac: script timed out';

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOSYS = 52;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Errors

/**
 * An error of the engine or of this host. `kind` says what went wrong:
 * the guest's kinds (cmd/pac-wasm/doc.go) are "syntax", "script",
 * "timeout", "no_entry", "too_large", "config", "not_loaded" and
 * "internal"; this host adds "trap" (the instance crashed or exited and is
 * unusable: load a new one), "busy" (a call was made from inside a
 * callback of another call), "abi" (the module speaks another ABI
 * version), "closed" (the engine was closed) and "terminated" (a Worker
 * died or was terminated).
 *
 * `message` is the engine's full message, as `pacd eval` prints it, for
 * example "proxy.pac:3:41: SyntaxError: Unexpected token {". For syntax
 * and script errors `line` and `column` (1-based, 0 when unknown),
 * `scriptName` (the script's name) and `detail` (the message without the
 * position) locate it; `scriptStack` is the JavaScript stack of a script
 * error, if any.
 */
export class PacError extends Error {
  /**
   * @param {{kind: string, message: string, msg?: string, name?: string,
   *          line?: number, column?: number, stack?: string}} report
   *   an error report as pac_last_error returns it
   */
  constructor(report) {
    super(String(report.message ?? ''));
    this.name = 'PacError';
    /** @type {string} */
    this.kind = String(report.kind ?? 'internal');
    /** @type {number} */
    this.line = report.line | 0;
    /** @type {number} */
    this.column = report.column | 0;
    /** @type {string} */
    this.scriptName = report.name ?? '';
    /** @type {string} */
    this.detail = report.msg || this.message;
    /** @type {string} */
    this.scriptStack = report.stack ?? '';
  }

  /**
   * The error as a report of pac_last_error's shape, which errorFromReport
   * turns back into an error (this is how errors cross a Worker boundary).
   * @returns {{kind: string, message: string, msg: string, name: string,
   *            line: number, column: number, stack: string}}
   */
  toJSON() {
    return {
      kind: this.kind, message: this.message, msg: this.detail, name: this.scriptName,
      line: this.line, column: this.column, stack: this.scriptStack,
    };
  }
}

/** A script that does not compile (kind "syntax"). */
export class PacSyntaxError extends PacError {
  /** @param {object} report see PacError */
  constructor(report) { super(report); this.name = 'PacSyntaxError'; }
}

/**
 * A script that failed while it ran (kind "script"): an uncaught
 * exception, a stack overflow, a result that is not a string or too long.
 */
export class PacScriptError extends PacError {
  /** @param {object} report see PacError */
  constructor(report) { super(report); this.name = 'PacScriptError'; }
}

/** A script stopped at its deadline (kind "timeout"). */
export class PacTimeoutError extends PacError {
  /** @param {object} [report] see PacError; by default TIMEOUT_MESSAGE */
  constructor(report = { kind: 'timeout', message: TIMEOUT_MESSAGE }) {
    super(report);
    this.name = 'PacTimeoutError';
  }
}

/**
 * Turns an error report (pac_last_error's JSON, or PacError.toJSON) into
 * the matching error: a PacSyntaxError, PacScriptError or PacTimeoutError,
 * or else a PacError.
 * @param {object} report
 * @returns {PacError}
 */
export function errorFromReport(report) {
  switch (report?.kind) {
    case 'syntax': return new PacSyntaxError(report);
    case 'script': return new PacScriptError(report);
    case 'timeout': return new PacTimeoutError(report);
  }
  return new PacError(report ?? { kind: 'internal', message: 'unknown error' });
}

function hostError(kind, message) {
  return new PacError({ kind, message });
}

// proc_exit unwinds the guest with this; the instance is then dead.
class WasiExit extends Error {
  constructor(code) { super(`pac.wasm exited with code ${code}`); this.code = code; }
}

// ---------------------------------------------------------------------------
// Loading

const isNode = typeof process === 'object' && process?.versions?.node != null;

/**
 * Compiles (and, when it can, instantiates) the module from source.
 * Returns {module, instance?}.
 */
async function instantiateSource(source, imports) {
  if (source instanceof WebAssembly.Module) {
    return { module: source, instance: await WebAssembly.instantiate(source, imports) };
  }
  if (source && typeof source.then === 'function') source = await source;
  if (typeof Response === 'function' && source instanceof Response) {
    return instantiateResponse(source, imports);
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return WebAssembly.instantiate(source, imports);
  }
  if (typeof source === 'string' || source instanceof URL) {
    const url = toURL(source);
    if (url === null || url.protocol === 'file:') {
      if (!isNode) throw new TypeError(`pacwasm: cannot read ${source}`);
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(url ?? source);
      return WebAssembly.instantiate(bytes, imports);
    }
    return instantiateResponse(await fetch(url), imports);
  }
  throw new TypeError('pacwasm: load wants a URL, a Response, bytes or a WebAssembly.Module');
}

// toURL resolves a URL string against the page; in Node, a string that is
// not an absolute URL (or is a Windows path, C:\x) is a file path (null).
function toURL(s) {
  if (s instanceof URL) return s;
  try {
    const u = new URL(s);
    if (isNode && /^[a-z]:$/i.test(u.protocol)) return null;
    return u;
  } catch {
    if (isNode) return null;
    return new URL(s, globalThis.location?.href);
  }
}

async function instantiateResponse(response, imports) {
  if (!response.ok) {
    throw new TypeError(`pacwasm: fetching ${response.url}: ${response.status} ${response.statusText}`);
  }
  // instantiateStreaming compiles while the bytes arrive, but insists on
  // Content-Type application/wasm; anything else is read whole first.
  const type = response.headers.get('Content-Type') ?? '';
  if (typeof WebAssembly.instantiateStreaming === 'function' && /^application\/wasm\b/i.test(type)) {
    return WebAssembly.instantiateStreaming(response, imports);
  }
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}

/**
 * Loads the module and starts one instance of it.
 *
 * @param {string|URL|Response|Promise<Response>|ArrayBuffer|ArrayBufferView|WebAssembly.Module} source
 *   where the module is: a URL (fetched and compiled with
 *   WebAssembly.instantiateStreaming when the server says
 *   application/wasm; in Node a file: URL or a file path is read from
 *   disk), a fetch Response, the bytes, or an already compiled
 *   WebAssembly.Module (which instantiates without compiling again).
 * @param {EngineOptions} [options] the environment the scripts see; each
 *   compile() may override it for its script
 * @returns {Promise<Engine>}
 *
 * @typedef {object} EngineOptions
 * @property {() => (number|Date)} [now] the wall clock, in milliseconds
 *   since the epoch (default Date.now); the time functions and the
 *   script's Date objects read it. A fixed value makes answers
 *   reproducible.
 * @property {Object<string, string|string[]>|Map<string, string|string[]>|
 *            ((host: string, family: number) => (string|string[]|null|undefined))} [resolve]
 *   DNS answers: a table from host name (lower case, punycode for
 *   international names) to addresses ("10.1.2.3;2001:db8::1" or an
 *   array), or a synchronous callback given the host and the family (4
 *   for IPv4 only, 0 for all). A name without an answer, a callback that
 *   throws or returns a Promise, does not resolve. For family 4 only the
 *   IPv4 addresses are passed on.
 * @property {string|string[]|(() => (string|string[]))} [myIPAddresses]
 *   the machine's addresses, best first, for myIpAddress and
 *   myIpAddressEx (default none)
 * @property {(message: string) => void} [onAlert] receives alert()
 *   messages (default: discarded)
 * @property {(level: number, message: string) => void} [onLog] receives
 *   the module's other log messages
 * @property {(text: string, fd: number) => void} [onOutput] receives what
 *   the guest writes to standard output or error (Go's runtime messages,
 *   such as a fatal error), a line at a time; default console.warn
 * @property {number} [outputLimit] the most bytes of such output passed on
 *   per instance (default 65536); the rest is dropped
 */
export async function load(source, options = {}) {
  const host = new Host(options);
  const { module, instance } = await instantiateSource(source, host.imports());
  host.attach(instance);
  return new Engine(module, instance, host, options);
}

// ---------------------------------------------------------------------------
// The host side of one instance: WASI and pac_host

// Every function of wasi_snapshot_preview1. The module imports these (as
// WebAssembly.Module.imports shows): sched_yield, proc_exit, args_get,
// args_sizes_get, clock_time_get, environ_get, environ_sizes_get,
// fd_write, random_get, poll_oneoff, fd_close, fd_filestat_set_size,
// fd_pread, fd_pwrite, fd_read, fd_readdir, fd_seek, fd_filestat_get,
// fd_sync, path_filestat_get, path_open, fd_fdstat_get,
// fd_fdstat_set_flags, fd_prestat_get, fd_prestat_dir_name, sock_accept,
// sock_shutdown. All are supplied, so a rebuilt module that imports
// another one still links; those not implemented fail with EBADF (the fd_
// functions: there are no files) or ENOSYS.
const WASI_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get',
  'clock_time_get', 'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get',
  'fd_fdstat_set_flags', 'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size',
  'fd_filestat_set_times', 'fd_pread', 'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite',
  'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek', 'fd_sync', 'fd_tell', 'fd_write',
  'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link',
  'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
];

const monotonicBase = typeof performance === 'object' ? performance.now() : Date.now();
const monotonicNow = typeof performance === 'object' ? () => performance.now() : () => Date.now();

function msToNs(ms) {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1000000n + BigInt(Math.round((ms - whole) * 1e6));
}

class Host {
  constructor(options) {
    this.memory = null;
    this.exports = null;
    this.env = environment(options, {});
    this.outputLimit = options.outputLimit ?? 65536;
    this.outputUsed = 0;
    this.outputDropped = false;
    this.onOutput = options.onOutput ?? ((text) => console.warn(`pac.wasm: ${text}`));
    this.partial = ['', '', ''];
    this.warnedAsync = false;
  }

  attach(instance) {
    this.exports = instance.exports;
    this.memory = instance.exports.memory;
  }

  bytes() { return new Uint8Array(this.memory.buffer); }
  view() { return new DataView(this.memory.buffer); }

  str(ptr, len) { return decoder.decode(new Uint8Array(this.memory.buffer, ptr >>> 0, len >>> 0)); }

  // put writes s (truncated to cap bytes, at a ';' when it must cut) at
  // ptr and returns the length written.
  put(ptr, cap, s) {
    cap >>>= 0;
    let b = encoder.encode(s);
    if (b.length > cap) {
      let end = b.lastIndexOf(0x3b, cap);
      if (end < 0) end = 0;
      b = b.subarray(0, end);
    }
    new Uint8Array(this.memory.buffer, ptr >>> 0, b.length).set(b);
    return b.length;
  }

  // guard runs a host import, so that no exception ever unwinds through
  // the Go runtime (which would leave it in pieces): a failing callback
  // is reported as output, and the import answers as if it had found
  // nothing.
  guard(what, fallback, f) {
    try {
      return f();
    } catch (e) {
      if (e instanceof WasiExit) throw e;
      this.output(2, encoder.encode(`pacwasm: ${what}: ${e?.message ?? e}\n`));
      return fallback;
    }
  }

  output(fd, bytes) {
    if (this.outputDropped) return;
    const room = this.outputLimit - this.outputUsed;
    if (bytes.length > room) {
      bytes = bytes.subarray(0, Math.max(room, 0));
      this.outputDropped = true;
    }
    this.outputUsed += bytes.length;
    let buf = this.partial[fd] + decoder.decode(bytes);
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      this.emit(buf.slice(0, nl), fd);
      buf = buf.slice(nl + 1);
    }
    if (buf.length > 4096 || (this.outputDropped && buf)) {
      this.emit(buf, fd);
      buf = '';
    }
    this.partial[fd] = buf;
    if (this.outputDropped) this.emit(`[pacwasm: output past ${this.outputLimit} bytes dropped]`, fd);
  }

  emit(text, fd) {
    try { this.onOutput(text, fd); } catch { /* a logger's failure is not the guest's */ }
  }

  wasi() {
    const h = this;
    const impl = {
      args_sizes_get(argc, bufSize) {
        const v = h.view(); v.setUint32(argc >>> 0, 0, true); v.setUint32(bufSize >>> 0, 0, true);
        return ERRNO_SUCCESS;
      },
      args_get() { return ERRNO_SUCCESS; },
      environ_sizes_get(count, bufSize) {
        const v = h.view(); v.setUint32(count >>> 0, 0, true); v.setUint32(bufSize >>> 0, 0, true);
        return ERRNO_SUCCESS;
      },
      environ_get() { return ERRNO_SUCCESS; },
      clock_res_get(id, out) {
        h.view().setBigUint64(out >>> 0, 1000n, true);
        return ERRNO_SUCCESS;
      },
      clock_time_get(id, precision, out) {
        let ns;
        if (id === 0) { // realtime: the caller's clock
          ns = h.guard('now', null, () => {
            const ms = Number(h.env.now());
            return Number.isFinite(ms) ? msToNs(ms) : null;
          }) ?? msToNs(Date.now());
        } else if (id >= 1 && id <= 3) { // monotonic, process and thread CPU time
          ns = msToNs(monotonicNow() - monotonicBase) + 1000000000n;
        } else {
          return ERRNO_INVAL;
        }
        h.view().setBigUint64(out >>> 0, ns, true);
        return ERRNO_SUCCESS;
      },
      random_get(ptr, len) {
        ptr >>>= 0;
        len >>>= 0;
        for (let off = 0; off < len; off += 65536) {
          crypto.getRandomValues(new Uint8Array(h.memory.buffer, ptr + off, Math.min(65536, len - off)));
        }
        return ERRNO_SUCCESS;
      },
      fd_write(fd, iovs, iovsLen, nwritten) {
        if (fd !== 1 && fd !== 2) return ERRNO_BADF;
        iovs >>>= 0;
        const v = h.view();
        const chunks = [];
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const p = v.getUint32(iovs + 8 * i, true), n = v.getUint32(iovs + 8 * i + 4, true);
          chunks.push(new Uint8Array(h.memory.buffer, p, n).slice());
          total += n;
        }
        const all = new Uint8Array(total);
        let off = 0;
        for (const c of chunks) { all.set(c, off); off += c.length; }
        h.output(fd, all);
        h.view().setUint32(nwritten >>> 0, total, true);
        return ERRNO_SUCCESS;
      },
      fd_fdstat_get(fd, out) {
        if (fd < 0 || fd > 2) return ERRNO_BADF;
        out >>>= 0;
        const v = h.view();
        v.setUint8(out, 2); // character device
        v.setUint16(out + 2, 0, true);
        v.setBigUint64(out + 8, 0xffffffffffffffffn, true);
        v.setBigUint64(out + 16, 0n, true);
        return ERRNO_SUCCESS;
      },
      proc_exit(code) { throw new WasiExit(code); },
      sched_yield() { return ERRNO_SUCCESS; },
      // Nothing here can wait: every subscription (a clock, in practice)
      // is reported as having happened at once.
      poll_oneoff(inPtr, outPtr, nsubs, neventsPtr) {
        inPtr >>>= 0;
        outPtr >>>= 0;
        const v = h.view();
        for (let i = 0; i < nsubs; i++) {
          const s = inPtr + 48 * i, e = outPtr + 32 * i;
          const tag = v.getUint8(s + 8);
          v.setBigUint64(e, v.getBigUint64(s, true), true);
          v.setUint16(e + 8, tag === 0 ? ERRNO_SUCCESS : ERRNO_BADF, true);
          v.setUint8(e + 10, tag);
          v.setBigUint64(e + 16, 0n, true);
          v.setUint16(e + 24, 0, true);
        }
        v.setUint32(neventsPtr >>> 0, nsubs, true);
        return ERRNO_SUCCESS;
      },
    };
    const ns = {};
    for (const name of WASI_FUNCTIONS) {
      ns[name] = impl[name] ?? (name.startsWith('fd_') ? () => ERRNO_BADF : () => ERRNO_NOSYS);
    }
    return ns;
  }

  imports() {
    const h = this;
    return {
      wasi_snapshot_preview1: this.wasi(),
      pac_host: {
        dns_lookup(family, hostPtr, hostLen, out, outCap) {
          return h.guard('resolve', -1, () => {
            const name = h.str(hostPtr, hostLen);
            const addrs = lookup(h, h.env.resolve, name, family);
            if (addrs.length === 0) return -1;
            return h.put(out, outCap, addrs.join(';'));
          });
        },
        my_ip_addresses(out, outCap) {
          return h.guard('myIPAddresses', 0, () => {
            let a = h.env.myIPAddresses;
            if (typeof a === 'function') a = a();
            const list = addressList(a);
            return list.length ? h.put(out, outCap, list.join(';')) : 0;
          });
        },
        log(level, msg, msgLen) {
          h.guard('log', undefined, () => {
            const text = h.str(msg, msgLen);
            if (level === 0) h.env.onAlert?.(text);
            else h.env.onLog?.(level, text);
          });
        },
      },
    };
  }
}

// environment is what the host imports consult while a script runs: the
// engine's options, overridden by the script's.
function environment(base, over) {
  const pick = (k) => (over[k] !== undefined ? over[k] : base[k]);
  let now = pick('now');
  if (typeof now === 'number' || now instanceof Date) {
    const fixed = Number(now);
    now = () => fixed;
  }
  return {
    now: now ?? Date.now,
    resolve: pick('resolve'),
    myIPAddresses: pick('myIPAddresses'),
    onAlert: pick('onAlert'),
    onLog: pick('onLog'),
  };
}

function addressList(a) {
  if (a == null) return [];
  if (typeof a === 'string') a = a.split(/[;,]/);
  return Array.from(a, (s) => String(s).trim()).filter(Boolean);
}

// lookup answers a DNS question as pac.StaticResolver does: the name in
// lower case, then without a trailing dot; for family 4 only the IPv4
// addresses, IPv4-mapped IPv6 ones unmapped.
function lookup(host, resolve, name, family) {
  let answer;
  if (typeof resolve === 'function') {
    answer = resolve(name, family);
    if (answer && typeof answer.then === 'function') {
      if (!host.warnedAsync) {
        host.warnedAsync = true;
        host.output(2, encoder.encode('pacwasm: resolve returned a Promise; lookups must answer synchronously, so the name does not resolve\n'));
      }
      answer = null;
    }
  } else if (resolve != null) {
    const get = resolve instanceof Map ? (k) => resolve.get(k) : (k) => (Object.hasOwn(resolve, k) ? resolve[k] : undefined);
    const lower = name.toLowerCase();
    answer = get(lower);
    if (answer === undefined && lower.endsWith('.')) answer = get(lower.slice(0, -1));
  }
  const list = addressList(answer);
  if (family !== 4) return list;
  const out = [];
  for (const s of list) {
    const a = parseAddr(s);
    if (a?.v4) out.push(a.v4.join('.'));
    else if (a?.v6 && isV4Mapped(a.v6)) out.push(a.v6.slice(12).join('.'));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Engine and scripts

/**
 * One instance of the module, with the environment of load()'s options.
 * An instance holds one loaded script at a time: compile() loads a new one
 * into it, and a Script compiled earlier on the same engine is loaded
 * again, transparently, the next time it is used (that costs a compile,
 * runs the script's top level again and resets its global variables).
 * Scripts used in turn at a high rate should each have an engine of their
 * own: see spawn().
 *
 * An engine is not reentrant: calling it from inside one of its own
 * callbacks (onAlert, resolve, ...) throws a PacError of kind "busy".
 */
export class Engine {
  /** @hideconstructor */
  constructor(module, instance, host, options) {
    this._module = module;
    this._host = host;
    this._ex = instance.exports;
    this._options = options;
    this._current = null;
    this._busy = false;
    this._dead = null;
    this._scratch = 0;
    this._scratchCap = 0;
    this._run(() => this._ex._initialize());
    const v = this._ex.pac_abi_version();
    if (v !== ABI_VERSION) {
      this._dead = hostError('abi', `pacwasm: the module speaks ABI version ${v}, this host ${ABI_VERSION}`);
      throw this._dead;
    }
  }

  /** The compiled module, which load() and createWorkerEngine accept. @type {WebAssembly.Module} */
  get module() { return this._module; }

  /** The module's ABI version. @type {number} */
  get abiVersion() { return ABI_VERSION; }

  /** The size of the instance's linear memory, in bytes. @type {number} */
  get memoryBytes() { return this._host.memory.buffer.byteLength; }

  /** Whether the instance crashed or the engine was closed. @type {boolean} */
  get dead() { return this._dead !== null; }

  /**
   * Starts another instance of the same module (no new compile), with
   * this engine's options overridden by overrides. Scripts on different
   * engines do not displace one another.
   * @param {EngineOptions} [overrides]
   * @returns {Promise<Engine>}
   */
  spawn(overrides = {}) {
    return load(this._module, { ...this._options, ...overrides });
  }

  /**
   * Compiles a PAC script and runs its top level; it becomes the script
   * this engine's instance holds.
   *
   * @param {string} source the script
   * @param {CompileOptions} [options]
   * @returns {Script}
   * @throws {PacError} PacSyntaxError for a script that does not parse,
   *   PacScriptError for a top level that throws, and kinds "no_entry"
   *   (no FindProxyForURL), "too_large" and "config" (an unknown zone)
   *
   * @typedef {EngineOptions & {
   *   name?: string, zone?: string, fullURLs?: boolean,
   *   maxCallStackSize?: number, maxScriptSize?: number, maxResultSize?: number
   * }} CompileOptions
   *   name names the script in error messages (default "proxy.pac"); zone
   *   is the IANA time zone of the time functions ("" for UTC, the
   *   default; "local" for this machine's); fullURLs passes https URLs to
   *   the script whole instead of cut to scheme://host/; the limits, 0 for
   *   the engine's defaults, are the call depth, the script's size in
   *   bytes and the result's. The EngineOptions given here (now, resolve,
   *   myIPAddresses, onAlert, onLog) override the engine's for this script.
   */
  compile(source, options = {}) {
    let zone = options.zone ?? '';
    if (zone === 'local') zone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? '';
    const config = JSON.stringify({
      source: String(source),
      name: options.name ?? '',
      zone,
      full_urls: !!options.fullURLs,
      max_call_stack_size: options.maxCallStackSize ?? 0,
      max_script_size: options.maxScriptSize ?? 0,
      max_result_size: options.maxResultSize ?? 0,
    });
    const script = new Script(this, config, environment(this._options, options), options);
    this._loadScript(script);
    return script;
  }

  /**
   * Ends the engine: every later call throws a PacError of kind "closed".
   * The instance's memory is freed once nothing refers to it.
   */
  close() {
    if (!this._dead) this._dead = hostError('closed', 'pacwasm: engine closed');
    this._current = null;
  }

  _loadScript(script) {
    const previous = this._host.env;
    this._host.env = script._env;
    let ok = false;
    try {
      this._run(() => {
        const bytes = encoder.encode(script._config);
        const p = this._ex.pac_alloc(bytes.length) >>> 0;
        new Uint8Array(this._host.memory.buffer, p, bytes.length).set(bytes);
        let rc;
        try {
          rc = this._ex.pac_load(p, bytes.length);
        } finally {
          this._ex.pac_free(p);
        }
        if (rc !== 0) throw this._lastError();
      });
      ok = true;
      this._current = script;
    } finally {
      // pac_load that fails keeps the script loaded before.
      if (!ok) this._host.env = previous;
    }
  }

  // _find runs pac_find or pac_find_traced for script and returns the
  // string result.
  _find(script, traced, url, host) {
    if (this._current !== script) this._loadScript(script);
    return this._run(() => {
      url = String(url);
      host = host == null ? '' : String(host);
      const need = 3 * (url.length + host.length) + 2;
      if (need > this._scratchCap) {
        if (this._scratch) this._ex.pac_free(this._scratch);
        this._scratch = 0;
        const cap = Math.max(need, 4096);
        this._scratch = this._ex.pac_alloc(cap) >>> 0;
        this._scratchCap = cap;
      }
      // Memory may have grown since the last call: fresh views.
      const mem = this._host.memory.buffer;
      const u = encoder.encodeInto(url, new Uint8Array(mem, this._scratch, this._scratchCap));
      const hostPtr = this._scratch + u.written;
      const h = encoder.encodeInto(host, new Uint8Array(mem, hostPtr, this._scratchCap - u.written));
      const fn = traced ? this._ex.pac_find_traced : this._ex.pac_find;
      const v = fn(this._scratch, u.written, hostPtr, h.written);
      if (v === -1n) throw this._lastError();
      return this._string(v);
    });
  }

  _string(v) {
    const ptr = Number(BigInt.asUintN(32, v >> 32n));
    const len = Number(BigInt.asUintN(32, v));
    return this._host.str(ptr, len);
  }

  _lastError() {
    const v = this._ex.pac_last_error();
    try {
      return errorFromReport(JSON.parse(this._string(v)));
    } catch {
      return hostError('internal', 'pacwasm: unreadable error report');
    }
  }

  // _run calls into the guest: one call at a time, and a trap or an exit
  // kills the instance.
  _run(f) {
    if (this._dead) throw this._dead;
    if (this._busy) throw hostError('busy', 'pacwasm: engine called from inside one of its own callbacks');
    this._busy = true;
    try {
      return f();
    } catch (e) {
      if (e instanceof PacError) throw e;
      const why = e instanceof WasiExit ? e.message : `pac.wasm trapped: ${e?.message ?? e}`;
      this._dead = hostError('trap', `${why} (the instance is unusable; load a new one)`);
      this._dead.cause = e;
      this._current = null;
      throw this._dead;
    } finally {
      this._busy = false;
    }
  }
}

/**
 * A compiled PAC script, bound to the engine that compiled it. Get one
 * from Engine.compile.
 */
export class Script {
  /** @hideconstructor */
  constructor(engine, config, env, options) {
    this._engine = engine;
    this._config = config;
    this._env = env;
    /** The options the script was compiled with. @type {CompileOptions} */
    this.options = { ...options };
  }

  /** The engine that runs this script. @type {Engine} */
  get engine() { return this._engine; }

  /**
   * Calls the script's FindProxyForURL (or FindProxyForURLEx, if it
   * defines that) and parses its answer with Chromium's grammar (see
   * parseResult).
   *
   * @param {string} url the URL; https and wss URLs are cut to
   *   scheme://host/ unless the script was compiled with fullURLs
   * @param {string} [host] the host passed to the script; "" (the
   *   default) means the URL's
   * @returns {{result: string, proxies: Proxy[], warnings?: Warning[]}}
   *   result is the string the script returned; proxies the entries to
   *   try, in order (never empty: DIRECT when nothing usable was
   *   returned); warnings, present only when there are some, the entries
   *   that were dropped and why
   * @throws {PacError} PacScriptError when the script throws or returns
   *   something that is not a string; kind "trap" when the instance died
   */
  findProxyForURL(url, host = '') {
    const result = this._engine._find(this, false, url, host);
    return { result, ...parseResult(result) };
  }

  /**
   * Like findProxyForURL, but returns only the string the script returned.
   * @param {string} url
   * @param {string} [host]
   * @returns {string}
   * @throws {PacError}
   */
  evaluate(url, host = '') {
    return this._engine._find(this, false, url, host);
  }

  /**
   * Runs FindProxyForURL and records every PAC function it calls. The
   * script's own failure does not throw: it is returned as error.
   *
   * @param {string} url
   * @param {string} [host]
   * @returns {{result: (string|null), error: (PacError|null),
   *            calls: {func: string, args: string[], result: string}[]}}
   *   calls are in order; args and result are JavaScript literals, such
   *   as "\"10.0.0.0\"" or "true"
   * @throws {PacError} when the call itself cannot be made (kind "trap",
   *   "closed", ...)
   */
  trace(url, host = '') {
    const t = JSON.parse(this._engine._find(this, true, url, host));
    return {
      result: t.result ?? null,
      error: t.error ? errorFromReport(t.error) : null,
      calls: t.calls ?? [],
    };
  }
}

// ---------------------------------------------------------------------------
// The result grammar (a port of pacd's internal/proxylist)

/**
 * One entry of a PAC result: type is "DIRECT", "PROXY" (HTTP), "HTTPS",
 * "SOCKS4" or "SOCKS5"; host is canonical (lower case, punycode, IPv4
 * dotted decimal, IPv6 in RFC 5952 form without brackets); host is "" and
 * port 0 for DIRECT.
 * @typedef {{type: string, host: string, port: number}} Proxy
 */

/**
 * An entry of a PAC result that was dropped: the entry, blanks trimmed
 * ("" when the whole result held no usable entry), and why.
 * @typedef {{entry: string, reason: string}} Warning
 */

const DEFAULT_PORTS = { PROXY: 80, HTTPS: 443, SOCKS4: 1080, SOCKS5: 1080 };

/** The message of the warning for a result with no usable entry. */
export const NO_VALID_ENTRY = 'no valid entry, using DIRECT';

/**
 * Parses the string a PAC script returned as Chromium does (and as pacd's
 * pac.ParseResult does). Entries are separated by ';'; each is a keyword,
 * case-insensitive — DIRECT, PROXY (port 80 by default), HTTPS (443),
 * SOCKS (SOCKS4, 1080), SOCKS4 (1080) or SOCKS5 (1080) — followed for all
 * but DIRECT by host[:port], IPv6 addresses in brackets. Blanks and empty
 * entries are ignored. Entries that cannot be used are dropped with a
 * warning: an unknown keyword (including QUIC), a missing or invalid host
 * or port, DIRECT with a host, a host with user information.
 *
 * @param {string} s
 * @returns {{proxies: Proxy[], warnings?: Warning[]}} proxies is never
 *   empty: DIRECT when nothing usable was left, with a warning saying so
 */
export function parseResult(s) {
  const proxies = [];
  const warnings = [];
  for (let elem of String(s).split(';')) {
    elem = trimGo(elem);
    if (elem === '') continue;
    const r = parseEntry(elem);
    if (typeof r === 'string') warnings.push({ entry: elem, reason: r });
    else proxies.push(r);
  }
  if (proxies.length === 0) {
    proxies.push({ type: 'DIRECT', host: '', port: 0 });
    warnings.push({ entry: '', reason: NO_VALID_ENTRY });
  }
  return warnings.length ? { proxies, warnings } : { proxies };
}

/**
 * Formats proxies in canonical PAC syntax, "PROXY a.example:8080; DIRECT"
 * ("DIRECT" for an empty list).
 * @param {Proxy|Proxy[]} proxies
 * @returns {string}
 */
export function formatProxies(proxies) {
  if (!Array.isArray(proxies)) proxies = [proxies];
  if (proxies.length === 0) return 'DIRECT';
  return proxies.map((p) => {
    if (p.type === 'DIRECT') return 'DIRECT';
    const h = p.host.includes(':') ? `[${p.host}]` : p.host;
    return `${p.type} ${h}:${p.port}`;
  }).join('; ');
}

// Go's strings.TrimSpace: Unicode White_Space, which is not quite
// JavaScript's trim() (that also removes U+FEFF, and keeps U+0085).
const GO_SPACE = '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
function trimGo(s) {
  let i = 0, j = s.length;
  while (i < j && GO_SPACE.includes(s[i])) i++;
  while (j > i && GO_SPACE.includes(s[j - 1])) j--;
  return s.slice(i, j);
}

function parseEntry(elem) {
  let kw = elem, arg = '';
  const m = /[ \t\r\n\f\v]/.exec(elem);
  if (m) { kw = elem.slice(0, m.index); arg = trimGo(elem.slice(m.index + 1)); }
  let type;
  switch (foldKeyword(kw)) {
    case 'DIRECT':
      return arg !== '' ? 'DIRECT takes no host' : { type: 'DIRECT', host: '', port: 0 };
    case 'PROXY': type = 'PROXY'; break;
    case 'HTTPS': type = 'HTTPS'; break;
    case 'SOCKS': case 'SOCKS4': type = 'SOCKS4'; break;
    case 'SOCKS5': type = 'SOCKS5'; break;
    case 'QUIC': return 'QUIC proxies are not supported';
    default: return `unknown type ${goQuote(kw)}`;
  }
  if (arg === '') return 'missing host';
  const hp = splitHostPort(arg, DEFAULT_PORTS[type]);
  return typeof hp === 'string' ? hp : { type, host: hp.host, port: hp.port };
}

// foldKeyword upper-cases kw so that comparing it with a keyword is
// strings.EqualFold: ASCII letters, and the two other runes that fold onto
// letters of the keywords, 'ſ' (U+017F, onto S) and the Kelvin sign
// (U+212A, onto K). Nothing else folds (JavaScript's toUpperCase would
// also turn 'ı' into 'I').
function foldKeyword(kw) {
  return kw.replace(/[a-z\u017f\u212a]/g, (c) => (c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase()));
}

function splitHostPort(s, defPort) {
  if (s.includes('@')) return 'user information is not allowed';
  let host, portStr = '';
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return "missing ']'";
    host = s.slice(1, end);
    s = s.slice(end + 1);
    const a = host.includes('%') ? null : parseAddr(host);
    if (!a?.v6) return `invalid IPv6 address ${goQuote(host)}`;
    host = formatAddr(a);
    if (s !== '') {
      if (s[0] !== ':') return "junk after ']'";
      portStr = s.slice(1);
      if (portStr === '') return 'empty port';
    }
  } else {
    const i = s.lastIndexOf(':');
    if (i >= 0) {
      if (s.slice(0, i).includes(':')) return 'IPv6 address without brackets';
      portStr = s.slice(i + 1);
      s = s.slice(0, i);
      if (portStr === '') return 'empty port';
    }
    host = canonicalHost(s);
    if (host === null) return `invalid host ${goQuote(s)}`;
  }
  let port = defPort;
  if (portStr !== '') {
    const n = /^[0-9]+$/.test(portStr) ? Number(portStr) : NaN;
    if (!(n >= 1 && n <= 65535)) return `invalid port ${goQuote(portStr)}`;
    port = n;
  }
  return { host, port };
}

// canonicalHost is internal/hostname.Canonical: the host in lower case,
// international names in punycode (through the URL parser's IDNA, as Go
// uses x/net/idna's), a numeric host as dotted-decimal IPv4, or null.
function canonicalHost(s) {
  if (s === '' || encoder.encode(s).length > 253) return null;
  let h;
  if (/^[\x00-\x7f]*$/.test(s)) {
    h = s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
  } else {
    // Any ASCII that is not a host character would change how the URL
    // parses, and pacd rejects it anyway. x/net/idna's Lookup profile,
    // which pacd uses, also applies the STD3 rules (no '_') and checks
    // hyphens (none at either end of a label, nor in its third and fourth
    // places); the URL parser does neither.
    if (/[^\x80-\uffffa-zA-Z0-9.-]/.test(s)) return null;
    for (const label of s.split(/[.\u3002\uff0e\uff61]/)) {
      if (label.startsWith('-') || label.endsWith('-') || label.slice(2, 4) === '--') return null;
    }
    try {
      h = new URL(`http://${s}/`).hostname;
    } catch {
      return null;
    }
    if (h === '') return null;
  }
  let last = h.endsWith('.') ? h.slice(0, -1) : h;
  const dot = last.lastIndexOf('.');
  if (dot >= 0) last = last.slice(dot + 1);
  if (looksNumeric(last)) {
    const a = parseIPv4Loose(h);
    return a ? a.join('.') : null;
  }
  if (!/^[a-z0-9_.-]+$/.test(h)) return null;
  if (h[0] === '.' || h.includes('..')) return null;
  return h;
}

function looksNumeric(label) {
  if (label === '') return false;
  if (/^0[xX]/.test(label)) return /^0[xX][0-9a-fA-F]*$/.test(label);
  return /^[0-9]+$/.test(label);
}

// parseIPv4Loose is the WHATWG (and Chromium) IPv4 parser: one to four
// parts, decimal, octal (leading 0) or hex (0x), the last part filling the
// remaining bytes.
function parseIPv4Loose(s) {
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s === '') return null;
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const nums = [];
  for (const p of parts) {
    const v = parseIPv4Number(p);
    if (v === null) return null;
    nums.push(v);
  }
  const n = nums.length;
  let v = 0;
  for (let i = 0; i < n - 1; i++) {
    if (nums[i] > 255) return null;
    v += nums[i] * 2 ** (8 * (3 - i));
  }
  const last = nums[n - 1];
  if (last >= 2 ** (8 * (5 - n))) return null;
  v += last;
  return [Math.floor(v / 2 ** 24) % 256, Math.floor(v / 2 ** 16) % 256, Math.floor(v / 256) % 256, v % 256];
}

function parseIPv4Number(p) {
  if (p === '') return null;
  let base = 10;
  if (/^0[xX]/.test(p)) {
    base = 16;
    p = p.slice(2);
    if (p === '') return 0;
  } else if (p.length >= 2 && p[0] === '0') {
    base = 8;
    p = p.slice(1);
  }
  let v = 0;
  for (const c of p) {
    const d = parseInt(c, 16);
    if (Number.isNaN(d) || d >= base) return null;
    v = v * base + d;
    if (v > 0xffffffff) return null;
  }
  return v;
}

/**
 * Parses an IP address as Go's netip.ParseAddr does (strict dotted
 * decimal IPv4, IPv6 with an optional embedded IPv4 tail, no zone).
 * @param {string} s
 * @returns {{v4: number[]}|{v6: number[]}|null} the address's bytes
 */
export function parseAddr(s) {
  s = String(s);
  for (const c of s) {
    if (c === '.') { const v4 = parseIPv4Strict(s); return v4 ? { v4 } : null; }
    if (c === ':') { const v6 = parseIPv6(s); return v6 ? { v6 } : null; }
    if (c === '%') return null;
  }
  return null;
}

function parseIPv4Strict(s) {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

function parseIPv6(s) {
  if (s.includes('%')) return null; // a zone: never wanted here
  const ip = new Array(16).fill(0);
  let ellipsis = -1;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === '') return ip;
  }
  let i = 0;
  while (i < 16) {
    const m = /^[0-9a-fA-F]*/.exec(s)[0];
    if (m.length > 4 || m.length === 0) return null;
    if (s[m.length] === '.') {
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return null;
      const v4 = parseIPv4Strict(s);
      if (!v4) return null;
      ip.splice(i, 4, ...v4);
      s = '';
      i += 4;
      break;
    }
    const acc = parseInt(m, 16);
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(m.length);
    if (s === '') break;
    if (s[0] !== ':' || s.length === 1) return null;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      s = s.slice(1);
      if (s === '') break;
    }
  }
  if (s !== '') return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    for (let j = ellipsis; j < ellipsis + n; j++) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return null;
  }
  return ip;
}

function isV4Mapped(b) {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Formats an address from parseAddr as netip.Addr.String does: dotted
 * decimal, "::ffff:1.2.3.4" for IPv4-mapped IPv6, else RFC 5952.
 * @param {{v4: number[]}|{v6: number[]}} a
 * @returns {string}
 */
export function formatAddr(a) {
  if (a.v4) return a.v4.join('.');
  const b = a.v6;
  if (isV4Mapped(b)) return `::ffff:${b.slice(12).join('.')}`;
  const g = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  let zs = -1, ze = -1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i >= 2 && j - i > ze - zs) { zs = i; ze = j; }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === zs) {
      out += '::';
      i = ze;
      if (i >= 8) break;
    } else if (i > 0) {
      out += ':';
    }
    out += g[i].toString(16);
  }
  return out;
}

// goQuote is strconv.Quote for the strings the parser quotes.
function goQuote(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // a lone surrogate, as invalid UTF-8
    else if (!isGoPrintable(ch)) out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

// isGoPrintable approximates strconv.IsPrint: letters, marks, numbers,
// punctuation, symbols and the ASCII space.
function isGoPrintable(ch) {
  return ch === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch);
}

// ---------------------------------------------------------------------------
// The Worker variant (the Worker's side is pacwasm-worker.js)

/**
 * Starts the module in a Worker (a Web Worker in browsers, a
 * worker_threads Worker in Node) and returns an engine whose calls return
 * promises. Start-up and every evaluation run off the calling thread.
 *
 * A script that runs past options.timeout is stopped the only way
 * WebAssembly can be stopped from outside: the Worker is terminated. The
 * call fails with a PacTimeoutError (kind "timeout", TIMEOUT_MESSAGE), and
 * the engine starts a new Worker, which compiles every live script again
 * before the next call (their top levels run again; their global
 * variables start afresh). Without a timeout, engine.terminate() is the
 * way to stop a runaway script.
 *
 * Calls are answered one at a time, in order. A resolve callback cannot
 * cross into a Worker: resolve must be a table here. In Node a live
 * Worker keeps the process running: terminate() the engine when done.
 *
 * @param {string|URL} workerURL where pacwasm-worker.js is (in Node, a
 *   file: URL or a path)
 * @param {string|URL|ArrayBuffer|ArrayBufferView|WebAssembly.Module} moduleSource
 *   the module, as load() takes it (a URL is fetched by the Worker; a
 *   relative one is resolved against the page first)
 * @param {WorkerEngineOptions} [options]
 * @returns {Promise<WorkerEngine>}
 *
 * @typedef {object} WorkerEngineOptions
 * @property {number} [timeout] milliseconds one call (compile, find,
 *   trace) may take before the Worker is terminated; 0 or absent for no
 *   limit
 * @property {number|(() => (number|Date))} [now] the wall clock: a fixed
 *   time, or a function called on this thread for every call, whose value
 *   the Worker's clock then holds during that call (default: the Worker's
 *   Date.now)
 * @property {Object<string, string|string[]>|Map<string, string|string[]>} [resolve]
 * @property {string|string[]} [myIPAddresses]
 * @property {(message: string) => void} [onAlert]
 * @property {(level: number, message: string) => void} [onLog]
 * @property {(text: string, fd: number) => void} [onOutput]
 * @property {number} [outputLimit]
 */
export async function createWorkerEngine(workerURL, moduleSource, options = {}) {
  if (typeof moduleSource === 'string' && !isNode) moduleSource = new URL(moduleSource, globalThis.location?.href).href;
  if (moduleSource instanceof URL) moduleSource = moduleSource.href;
  const e = new WorkerEngine(workerURL, moduleSource, options);
  await e._ensureWorker();
  return e;
}

async function spawnWorker(url) {
  if (typeof Worker === 'function') {
    const w = new Worker(url, { type: 'module' });
    return {
      post: (m) => w.postMessage(m),
      listen(onMessage, onDeath) {
        w.onmessage = (ev) => onMessage(ev.data);
        w.onerror = (ev) => { ev.preventDefault?.(); onDeath(new Error(ev.message || 'worker error')); };
        w.onmessageerror = () => onDeath(new Error('worker message could not be read'));
      },
      terminate: () => w.terminate(),
    };
  }
  const { Worker: NodeWorker } = await import('node:worker_threads');
  const w = new NodeWorker(url instanceof URL || /^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url) ? new URL(url) : url);
  return {
    post: (m) => w.postMessage(m),
    listen(onMessage, onDeath) {
      w.on('message', onMessage);
      w.on('error', (err) => onDeath(err));
      w.on('exit', (code) => onDeath(new Error(`worker exited with code ${code}`)));
    },
    terminate: () => w.terminate(),
  };
}

// serializable picks the options a Worker can receive.
function workerOptions(o) {
  const out = {};
  for (const k of ['resolve', 'myIPAddresses', 'name', 'zone', 'fullURLs', 'maxCallStackSize', 'maxScriptSize', 'maxResultSize', 'outputLimit']) {
    let v = o[k];
    if (v === undefined) continue;
    if (typeof v === 'function') throw new TypeError(`pacwasm: option ${k} cannot be a function for a Worker engine`);
    if (v instanceof Map) v = Object.fromEntries(v);
    out[k] = v;
  }
  return out;
}

/**
 * The engine createWorkerEngine returns: Engine's methods, returning
 * promises.
 */
export class WorkerEngine {
  /** @hideconstructor */
  constructor(workerURL, moduleSource, options) {
    this._url = workerURL;
    this._source = moduleSource;
    this._options = options;
    this._timeout = options.timeout ?? 0;
    this._worker = null; // the live Worker, once started
    this._starting = null; // the promise of the start under way
    this._pending = new Map(); // request id -> {resolve, reject, timer}
    this._nextId = 1;
    this._queue = Promise.resolve();
    this._scripts = new Map(); // script id -> WorkerScript: the live ones, in order
    this._nextScript = 1;
    this._running = null; // the script whose request is running
    this._restarts = 0;
    this._closed = false;
  }

  /** How many times a Worker was replaced after a timeout or a crash. @type {number} */
  get restarts() { return this._restarts; }

  /**
   * Compiles a script in the Worker (see Engine.compile). Besides
   * CompileOptions, options may carry now, onAlert and onLog for this
   * script; resolve and myIPAddresses must be data, not functions.
   * @param {string} source
   * @param {CompileOptions} [options]
   * @returns {Promise<WorkerScript>}
   * @throws {PacError} as Engine.compile, and PacTimeoutError when the
   *   script's top level runs past the timeout
   */
  compile(source, options = {}) {
    const script = new WorkerScript(this, this._nextScript++, String(source), options);
    const msg = () => ({ op: 'compile', script: script._id, source: script._source, options: workerOptions(options) });
    return this._call(msg, script).then(() => {
      this._scripts.set(script._id, script);
      return script;
    });
  }

  /**
   * Terminates the Worker, which stops whatever it runs. Pending and later
   * calls fail with a PacError of kind "closed".
   */
  terminate() {
    this._closed = true;
    this._kill(hostError('closed', 'pacwasm: engine terminated'));
  }

  _kill(err) {
    const w = this._worker;
    this._worker = null;
    if (w) w.terminate();
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) { clearTimeout(p.timer); p.reject(err); }
  }

  // _call queues a request (msg() makes its message): requests go to the
  // Worker one at a time, so that the timeout of each covers its own run
  // and nothing else.
  _call(msg, script) {
    const run = async () => {
      if (this._closed) throw hostError('closed', 'pacwasm: engine terminated');
      await this._ensureWorker();
      if (script?._broken) throw script._broken;
      const m = msg();
      if (script && m.op !== 'compile' && !this._scripts.has(script._id)) {
        throw hostError('not_loaded', 'pacwasm: script closed');
      }
      return this._send(m, script, this._timeout);
    };
    const p = this._queue.then(run, run);
    this._queue = p.catch(() => {});
    return p;
  }

  _send(msg, script, timeout) {
    const w = this._worker;
    if (!w) return Promise.reject(hostError('terminated', 'pacwasm: no worker'));
    const id = this._nextId++;
    msg.id = id;
    const own = script?._options ?? {};
    const now = own.now !== undefined ? own.now : this._options.now;
    if (now != null && msg.op !== 'load') msg.now = Number(typeof now === 'function' ? now() : now);
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, timer: 0 };
      if (timeout > 0) {
        p.timer = setTimeout(() => {
          this._pending.delete(id);
          this._restarts++;
          reject(new PacTimeoutError());
          this._kill(hostError('terminated', 'pacwasm: worker terminated after a timeout'));
        }, timeout);
      }
      this._pending.set(id, p);
      this._running = script;
      w.post(msg);
    });
  }

  _onMessage(w, m) {
    if (w !== this._worker) return;
    if (m.event) {
      const s = this._scripts.get(m.script) ?? this._running;
      const own = s?._options ?? {};
      if (m.event === 'alert') (own.onAlert ?? this._options.onAlert)?.(m.message);
      else if (m.event === 'log') (own.onLog ?? this._options.onLog)?.(m.level, m.message);
      else if (m.event === 'output') (this._options.onOutput ?? ((t) => console.warn(`pac.wasm: ${t}`)))(m.text, m.fd);
      return;
    }
    const p = this._pending.get(m.id);
    if (!p) return;
    this._pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) {
      p.resolve(m.value);
      return;
    }
    const err = errorFromReport(m.error);
    if (err.kind === 'trap') {
      this._restarts++;
      this._kill(hostError('terminated', 'pacwasm: worker replaced after a trap'));
    }
    p.reject(err);
  }

  _onDeath(w, err) {
    if (w !== this._worker) return;
    this._restarts++;
    this._kill(hostError('terminated', `pacwasm: ${err?.message ?? err}`));
  }

  // _ensureWorker starts a Worker if none runs, loads the module into it
  // and compiles the live scripts again. A script whose top level now
  // fails (or times out, which costs that Worker too) is dropped: its
  // later calls fail with that error.
  _ensureWorker() {
    if (this._starting) return this._starting;
    if (this._worker) return Promise.resolve();
    this._starting = (async () => {
      try {
        for (;;) {
          const w = await spawnWorker(this._url);
          w.listen((m) => this._onMessage(w, m), (e) => this._onDeath(w, e));
          this._worker = w;
          let value;
          try {
            value = await this._send({ op: 'load', module: this._source, options: workerOptions(this._options) }, null, 0);
          } catch (e) {
            if (this._worker === w) { this._worker = null; w.terminate(); }
            throw e;
          }
          // Workers started later get the compiled module: no fetch, no compile.
          if (value?.module instanceof WebAssembly.Module) this._source = value.module;
          for (const s of [...this._scripts.values()]) {
            try {
              await this._send({ op: 'compile', script: s._id, source: s._source, options: workerOptions(s._options) }, s, this._timeout);
            } catch (e) {
              s._broken = e;
              this._scripts.delete(s._id);
              if (!this._worker) break; // it took the Worker with it: start again without it
            }
          }
          if (this._worker === w) return;
        }
      } finally {
        this._starting = null;
      }
    })();
    return this._starting;
  }
}

/** A script compiled by a WorkerEngine. */
export class WorkerScript {
  /** @hideconstructor */
  constructor(engine, id, source, options) {
    this._engine = engine;
    this._id = id;
    this._source = source;
    this._options = options;
    this._broken = null;
  }

  /**
   * See Script.findProxyForURL.
   * @param {string} url
   * @param {string} [host]
   * @returns {Promise<{result: string, proxies: Proxy[], warnings?: Warning[]}>}
   */
  async findProxyForURL(url, host = '') {
    const result = await this._engine._call(() => ({ op: 'find', script: this._id, url: String(url), host: String(host ?? '') }), this);
    return { result, ...parseResult(result) };
  }

  /**
   * See Script.trace.
   * @param {string} url
   * @param {string} [host]
   * @returns {Promise<{result: (string|null), error: (PacError|null), calls: object[]}>}
   */
  async trace(url, host = '') {
    const t = await this._engine._call(() => ({ op: 'trace', script: this._id, url: String(url), host: String(host ?? '') }), this);
    return { result: t.result, error: t.error ? errorFromReport(t.error) : null, calls: t.calls };
  }

  /**
   * Forgets the script: it is not compiled again when the Worker is
   * replaced, and later calls fail.
   * @returns {Promise<void>}
   */
  async close() {
    if (!this._engine._scripts.delete(this._id)) return;
    await this._engine._call(() => ({ op: 'drop', script: this._id }), null).catch(() => {});
  }
}
