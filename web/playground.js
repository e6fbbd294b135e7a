// playground.js: the PAC playground (index.html). A dependency-free ES
// module: it runs pacd's engine (pac.wasm, next to index.html) in a Web
// Worker through pacwasm.js's createWorkerEngine, with a time limit per
// call, so that a script that never returns cannot freeze the page.
//
// What it does, in order of the page: a PAC script (version A) is typed,
// pasted, dropped, opened or fetched into an editor whose gutter marks
// the line and column of a syntax error; an optional version B is
// compared with it; the environment (clock and zone, the client's
// addresses, a table of DNS answers, the time limit) is what the script
// sees; every test URL is evaluated and shown with the host the script
// saw, the string it returned, the proxies that string means, and the
// time it took; "Why?" traces one evaluation, every PAC function called
// with its arguments and result.
//
// The whole case (scripts, URLs, environment) lives in the page's URL
// fragment, "#z." and base64url of deflate-raw'd JSON where the browser
// has CompressionStream, else "#j." and base64url of the JSON, so that a
// link reproduces it; fragments are never sent to a server, and nothing
// else leaves the page either, except a PAC fetched from a URL the user
// typed.
//
// For tests, <main> carries data-state ("loading", "pending" while a
// change waits to be run, "running", "done", "error" when a script does
// not compile or a field is invalid, "engine-error") and data-saved
// ("true" once the fragment holds the current state).

import { createWorkerEngine, parseAddr, formatProxies } from './pacwasm.js';

const $ = (id) => document.getElementById(id);

const STATE_VERSION = 1;
const DEFAULT_TIMEOUT = 1000;
const RUN_DELAY = 250; // ms after the last keystroke
const SAVE_DELAY = 400;

// The script that reports what FindProxyForURL receives: it runs on the
// same engine, so the "host seen" column is the engine's own derivation
// (https URLs cut, user information removed, host lower-cased...).
const SEEN_SOURCE = 'function FindProxyForURL(url, host) { return url + "\\n" + host; }';

const EXAMPLE = {
  v: STATE_VERSION,
  pac: `// An example: change it, or paste your own.
function FindProxyForURL(url, host) {
  // Plain names and the intranet go direct.
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example.com"))
    return "DIRECT";
  // So do private addresses, by name or literal.
  if (isInNet(dnsResolve(host), "10.0.0.0", "255.0.0.0"))
    return "DIRECT";
  // Office hours through the filtering proxy.
  if (weekdayRange("MON", "FRI") && timeRange(8, 18))
    return "PROXY filter.example.com:8080; PROXY proxy.example.com:8080";
  return "PROXY proxy.example.com:8080; DIRECT";
}
`,
  cmp: '',
  urls: `http://intranet/
https://wiki.corp.example.com/page
http://build.example.com/
https://www.example.org/search?q=pac
`,
  env: { time: '', zone: '', client: '10.1.2.3', dns: [['build.example.com', '10.20.30.40']], fullURLs: false, timeout: DEFAULT_TIMEOUT },
};

// ---------------------------------------------------------------------------
// Time: wall-clock time in an IANA zone <-> milliseconds since the epoch

const formatters = new Map();
function zoneFormatter(zone) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether zone is an IANA time zone name this browser knows. */
function validZone(zone) {
  if (!zone) return false;
  try { zoneFormatter(zone); return true; } catch { return false; }
}

// wallParts returns the wall-clock fields of t (ms) in zone.
function wallParts(t, zone) {
  const p = {};
  for (const { type, value } of zoneFormatter(zone).formatToParts(new Date(t))) p[type] = value;
  return { y: +p.year, mo: +p.month, d: +p.day, h: +p.hour % 24, mi: +p.minute, s: +p.second };
}

function zoneOffset(t, zone) {
  const w = wallParts(t, zone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000;
}

const WALL = /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;

/** The instant at which the clock on the wall in zone reads wall ("YYYY-MM-DDTHH:MM[:SS]"), or NaN. */
function wallToEpoch(wall, zone) {
  const m = WALL.exec(wall ?? '');
  if (!m) return NaN;
  const asUTC = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  let t = asUTC - zoneOffset(asUTC, zone);
  t = asUTC - zoneOffset(t, zone); // once more, for the hours around a change of offset
  return t;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** The wall-clock time of t in zone, as a datetime-local value with seconds. */
function epochToWall(t, zone) {
  const w = wallParts(t, zone);
  return `${pad(w.y, 4)}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}`;
}

function browserZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; }
}

// ---------------------------------------------------------------------------
// The state in the URL fragment

function b64url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

async function encodeState(state) {
  const json = new TextEncoder().encode(JSON.stringify(state));
  if (typeof CompressionStream === 'function') {
    try { return 'z.' + b64url(await pipe(json, new CompressionStream('deflate-raw'))); } catch { /* plain below */ }
  }
  return 'j.' + b64url(json);
}

async function decodeState(fragment) {
  const s = fragment.replace(/^#/, '');
  let json;
  if (s.startsWith('z.')) {
    if (typeof DecompressionStream !== 'function') throw new Error('this link is compressed, and this browser cannot decompress it (no DecompressionStream)');
    json = await pipe(unb64url(s.slice(2)), new DecompressionStream('deflate-raw'));
  } else if (s.startsWith('j.')) {
    json = unb64url(s.slice(2));
  } else {
    throw new Error('the address does not hold a playground case');
  }
  const v = JSON.parse(new TextDecoder().decode(json));
  if (typeof v !== 'object' || v === null) throw new Error('the case in the address is not an object');
  return normalizeState(v);
}

// normalizeState takes whatever a fragment held and returns a well-formed
// state: the fragment is input from anywhere.
function normalizeState(v) {
  const str = (x, d = '') => (typeof x === 'string' ? x : d);
  const env = typeof v.env === 'object' && v.env !== null ? v.env : {};
  const dns = Array.isArray(env.dns)
    ? env.dns.filter((r) => Array.isArray(r)).map((r) => [str(r[0]), str(r[1])]).slice(0, 10000)
    : [];
  const timeout = Number.isFinite(env.timeout) ? env.timeout : DEFAULT_TIMEOUT;
  return {
    v: STATE_VERSION,
    pac: str(v.pac),
    cmp: str(v.cmp),
    urls: str(v.urls),
    env: { time: str(env.time), zone: str(env.zone), client: str(env.client), dns, fullURLs: env.fullURLs === true, timeout },
  };
}

// ---------------------------------------------------------------------------
// The editor: a textarea, its gutter, and the marks of an error

class Editor {
  constructor(root) {
    this.root = root;
    this.textarea = root.querySelector('textarea');
    this.gutter = root.querySelector('.gutter');
    this.marker = root.querySelector('.marker');
    this.caret = root.querySelector('.caret-marker');
    this.lines = 0;
    this.error = null; // {line, column}
    this.charWidth = 0;
    this.textarea.addEventListener('input', () => this.refresh());
    this.textarea.addEventListener('scroll', () => this.sync());
    new ResizeObserver(() => this.sync()).observe(this.textarea);
    this.refresh();
  }

  get value() { return this.textarea.value; }
  set value(v) { this.textarea.value = v; this.refresh(); }

  refresh() {
    const n = this.textarea.value.split('\n').length;
    if (n !== this.lines) {
      const frag = document.createDocumentFragment();
      for (let i = this.lines; i < n; i++) {
        const s = document.createElement('span');
        s.textContent = String(i + 1);
        frag.append(s);
      }
      while (this.gutter.childElementCount > n) this.gutter.lastElementChild.remove();
      this.gutter.append(frag);
      this.lines = n;
      this.markGutter();
    }
    this.sync();
  }

  markGutter() {
    for (const s of this.gutter.querySelectorAll('span.error')) { s.classList.remove('error'); s.removeAttribute('title'); }
    const line = this.error?.line ?? 0;
    if (line > 0 && line <= this.gutter.childElementCount) {
      const s = this.gutter.children[line - 1];
      s.classList.add('error');
      s.title = this.error.message;
    }
  }

  /** Marks the error at line and column (1-based; 0 for unknown), or clears the mark (null). */
  setError(err) {
    this.error = err && err.line > 0 ? err : null;
    this.textarea.setAttribute('aria-invalid', err ? 'true' : 'false');
    this.markGutter();
    this.sync();
  }

  // sync keeps the gutter and the marks where the text is.
  sync() {
    const ta = this.textarea;
    this.gutter.scrollTop = ta.scrollTop;
    if (!this.error) {
      this.marker.hidden = true;
      this.caret.hidden = true;
      return;
    }
    const cs = getComputedStyle(ta);
    const lh = parseFloat(cs.lineHeight) || 20;
    const padTop = parseFloat(cs.paddingTop) || 0;
    const padLeft = parseFloat(cs.paddingLeft) || 0;
    const top = ta.offsetTop + padTop + (this.error.line - 1) * lh - ta.scrollTop;
    const visible = top + lh > ta.offsetTop && top < ta.offsetTop + ta.clientHeight;
    this.marker.hidden = !visible;
    this.marker.style.top = `${top}px`;
    if (this.error.column > 0 && visible) {
      if (!this.charWidth) this.charWidth = measureChar(cs.font);
      const text = ta.value.split('\n')[this.error.line - 1] ?? '';
      const col = visualColumn(text, this.error.column - 1, parseInt(cs.tabSize, 10) || 8);
      const left = ta.offsetLeft + padLeft + col * this.charWidth - ta.scrollLeft;
      this.caret.hidden = left < ta.offsetLeft || left > ta.offsetLeft + ta.clientWidth;
      this.caret.style.top = `${top}px`;
      this.caret.style.left = `${left - 1}px`;
    } else {
      this.caret.hidden = true;
    }
  }

  /** Puts the cursor at line and column, and scrolls there. */
  goTo(line, column) {
    const ta = this.textarea;
    const lines = ta.value.split('\n');
    let pos = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) pos += lines[i].length + 1;
    pos += Math.max(0, Math.min((column || 1) - 1, (lines[line - 1] ?? '').length));
    ta.focus();
    ta.setSelectionRange(pos, pos);
    const lh = parseFloat(getComputedStyle(ta).lineHeight) || 20;
    ta.scrollTop = Math.max(0, (line - 3) * lh);
    this.sync();
  }
}

let measureCanvas;
function measureChar(font) {
  measureCanvas ??= document.createElement('canvas');
  const ctx = measureCanvas.getContext('2d');
  ctx.font = font;
  return ctx.measureText('0'.repeat(100)).width / 100 || 8;
}

// visualColumn is the screen column of the character at index i of text,
// tabs expanded. The engine counts columns in characters, 1-based.
function visualColumn(text, i, tab) {
  let col = 0;
  for (let k = 0; k < Math.min(i, text.length); k++) col = text[k] === '\t' ? col + tab - (col % tab) : col + 1;
  return col + Math.max(0, i - text.length);
}

// ---------------------------------------------------------------------------
// The page

const main = $('main');
const editorA = new Editor($('pac-editor'));
const editorB = new Editor($('cmp-editor'));
const urlsBox = $('urls');
const timeInput = $('env-time');
const zoneInput = $('env-zone');
const clientInput = $('env-client');
const timeoutInput = $('env-timeout');
const fullURLsInput = $('env-full-urls');
const dnsRows = $('dns-rows');
const statusLine = $('status');
const engineStatus = $('engine-status');
const resultsTable = $('results');
const resultsBody = $('results-rows');
const whyBody = $('why-body');

function setState(s) { main.dataset.state = s; }

// --- the DNS table

let dnsCounter = 0;
function addDNSRow(host = '', addrs = '', focus = false) {
  const n = ++dnsCounter;
  const tr = document.createElement('tr');
  const h = document.createElement('input');
  h.type = 'text'; h.className = 'dns-host'; h.id = `dns-host-${n}`; h.value = host;
  h.autocomplete = 'off'; h.spellcheck = false; h.placeholder = 'intranet.example.com';
  const a = document.createElement('input');
  a.type = 'text'; a.className = 'dns-addrs'; a.id = `dns-addrs-${n}`; a.value = addrs;
  a.autocomplete = 'off'; a.spellcheck = false; a.placeholder = '10.1.2.3, 2001:db8::1';
  const rm = document.createElement('button');
  rm.type = 'button'; rm.className = 'small dns-remove'; rm.textContent = 'Remove';
  const label = () => {
    const i = [...dnsRows.children].indexOf(tr) + 1;
    h.setAttribute('aria-label', `Host name of DNS answer ${i}`);
    a.setAttribute('aria-label', `Addresses of DNS answer ${i}`);
    rm.setAttribute('aria-label', `Remove DNS answer ${i}${h.value ? ` (${h.value})` : ''}`);
  };
  tr.relabel = label;
  for (const [el, th] of [[h, 'Host name'], [a, 'Addresses'], [rm, '']]) {
    const td = document.createElement('td');
    if (th) td.dataset.label = th;
    td.append(el);
    tr.append(td);
  }
  h.addEventListener('input', label);
  rm.addEventListener('click', () => {
    const next = tr.nextElementSibling ?? tr.previousElementSibling;
    tr.remove();
    relabelDNS();
    (next?.querySelector('.dns-remove') ?? $('dns-add')).focus();
    changed();
  });
  dnsRows.append(tr);
  label();
  if (focus) h.focus();
  return tr;
}

function relabelDNS() { for (const tr of dnsRows.children) tr.relabel?.(); }

// --- reading and writing the state

function readState() {
  return {
    v: STATE_VERSION,
    pac: editorA.value,
    cmp: editorB.value,
    urls: urlsBox.value,
    env: {
      time: timeInput.value,
      zone: zoneInput.value.trim(),
      client: clientInput.value,
      dns: [...dnsRows.children].map((tr) => [tr.querySelector('.dns-host').value, tr.querySelector('.dns-addrs').value])
        .filter(([h, a]) => h.trim() || a.trim()),
      fullURLs: fullURLsInput.checked,
      timeout: timeoutInput.value === '' ? DEFAULT_TIMEOUT : Number(timeoutInput.value),
    },
  };
}

function applyState(s) {
  editorA.value = s.pac;
  editorB.value = s.cmp;
  urlsBox.value = s.urls;
  const zone = s.env.zone || browserZone();
  zoneInput.value = zone;
  timeInput.value = s.env.time || epochToWall(Math.floor(Date.now() / 1000) * 1000, validZone(zone) ? zone : 'UTC');
  clientInput.value = s.env.client;
  timeoutInput.value = String(s.env.timeout);
  fullURLsInput.checked = s.env.fullURLs;
  dnsRows.replaceChildren();
  for (const [h, a] of s.env.dns) addDNSRow(h, a);
  if (s.env.dns.length === 0) addDNSRow();
  $('compare').open = s.cmp.trim() !== '' || $('compare').open;
  updateClockNote();
}

// --- the environment, checked

function splitAddrs(s) { return s.split(/[\s,;]+/).filter(Boolean); }

function checkAddrs(list) {
  const bad = list.filter((a) => parseAddr(a) === null);
  return bad.length ? `not an IP address: ${bad.join(', ')}` : '';
}

function fieldError(input, el, msg) {
  input.setAttribute('aria-invalid', msg ? 'true' : 'false');
  if (el) el.textContent = msg;
  return !msg;
}

// environment returns the options the engine gets, or null when a field
// is invalid (each says why).
function environment(s) {
  let ok = true;
  const zone = s.env.zone;
  ok = fieldError(zoneInput, $('env-zone-error'), !zone ? 'Give a time zone, such as UTC or Europe/Berlin.'
    : validZone(zone) ? '' : `This browser does not know the time zone "${zone}".`) && ok;
  const now = validZone(zone) ? wallToEpoch(s.env.time, zone) : NaN;
  ok = fieldError(timeInput, null, Number.isFinite(now) ? '' : 'bad time') && ok;
  const client = splitAddrs(s.env.client);
  ok = fieldError(clientInput, $('env-client-error'), checkAddrs(client)) && ok;
  const resolve = {};
  const dnsProblems = [];
  for (const [i, [h, a]] of s.env.dns.entries()) {
    const host = h.trim().toLowerCase().replace(/\.$/, '');
    const addrs = splitAddrs(a);
    const row = dnsRows.children[i];
    const bad = checkAddrs(addrs);
    row?.querySelector('.dns-addrs').setAttribute('aria-invalid', bad ? 'true' : 'false');
    row?.querySelector('.dns-host').setAttribute('aria-invalid', !host && addrs.length ? 'true' : 'false');
    if (bad) dnsProblems.push(`answer ${i + 1}: ${bad}`);
    else if (!host && addrs.length) dnsProblems.push(`answer ${i + 1}: no host name`);
    if (!host || !addrs.length || bad) continue;
    resolve[host] = resolve[host] ? `${resolve[host]};${addrs.join(';')}` : addrs.join(';');
  }
  $('dns-error').textContent = dnsProblems.join('; ');
  if (dnsProblems.length) ok = false;
  const timeout = s.env.timeout;
  ok = fieldError(timeoutInput, null, Number.isFinite(timeout) && timeout >= 50 ? '' : 'bad') && ok;
  if (!ok) return null;
  return { zone, now, myIPAddresses: client, resolve, fullURLs: s.env.fullURLs, timeout: Math.min(timeout, 600000) };
}

function updateClockNote() {
  const zone = zoneInput.value.trim();
  const out = $('env-time-utc');
  if (!validZone(zone)) { out.textContent = ''; return; }
  const t = wallToEpoch(timeInput.value, zone);
  if (!Number.isFinite(t)) { out.textContent = 'Give a date and a time.'; return; }
  const d = new Date(t);
  const day = d.toLocaleDateString('en-GB', { weekday: 'long', timeZone: zone });
  out.textContent = `${day}; ${d.toISOString().replace('.000Z', 'Z')} in UTC`;
}

// ---------------------------------------------------------------------------
// The engine

let engine = null; // the WorkerEngine
let engineTimeout = 0;
let wasmModule = null; // the compiled WebAssembly.Module, shared by every Worker engine
const scripts = new Map(); // role ("seen", "a", "b") -> {key, script} or {key, error}

async function compileModule(url) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url}: ${e.message}`);
  }
  if (!res.ok) {
    // pacd's own server says why in plain text; other servers' HTML pages say nothing useful.
    const plain = /^text\/plain\b/i.test(res.headers.get('Content-Type') ?? '');
    const body = plain ? (await res.text().catch(() => '')).trim().slice(0, 300) : '';
    throw new Error(`${url}: ${res.status} ${res.statusText}${body ? `: ${body}` : ''}`);
  }
  if (typeof WebAssembly.compileStreaming === 'function' && /^application\/wasm\b/i.test(res.headers.get('Content-Type') ?? '')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

async function ensureEngine(timeout) {
  if (engine && engineTimeout === timeout) return engine;
  if (engine) engine.terminate();
  engine = null;
  scripts.clear();
  const t0 = performance.now();
  if (!wasmModule) {
    engineStatus.textContent = 'Loading the engine (pac.wasm)…';
    wasmModule = await compileModule(new URL('pac.wasm', document.baseURI).href);
  }
  engine = await createWorkerEngine(new URL('pacwasm-worker.js', import.meta.url), wasmModule, { timeout });
  engineTimeout = timeout;
  engineStatus.classList.remove('error');
  engineStatus.textContent = `Engine ready (WebAssembly in a Worker, ${Math.round(performance.now() - t0)} ms to start).`;
  return engine;
}

// script returns the compiled script of role for source and options,
// compiling it when either changed; a failed compile is returned as
// {error}.
async function script(role, source, name, env) {
  const options = { name, zone: env.zone, now: env.now, resolve: env.resolve, myIPAddresses: env.myIPAddresses, fullURLs: env.fullURLs };
  const key = JSON.stringify([source, options]);
  const have = scripts.get(role);
  if (have?.key === key) return have;
  if (have?.script) have.script.close();
  scripts.delete(role);
  let entry;
  try {
    entry = { key, script: await engine.compile(source, options) };
  } catch (e) {
    entry = { key, error: e };
  }
  scripts.set(role, entry);
  return entry;
}

// ---------------------------------------------------------------------------
// Running

function parseURLs(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [url, host = ''] = line.split(/\s+/);
    out.push({ url, host });
  }
  return out;
}

let generation = 0; // bumped by every change; a run that is overtaken stops
let ranGeneration = -1; // the generation the last complete run was for
let runChain = Promise.resolve(); // runs one at a time, so they never share a half-compiled script
let runTimer = 0;
let saveTimer = 0;
let selected = -1; // the index of the row whose "Why" is shown
let lastRows = [];

function changed({ now = false } = {}) {
  generation++;
  main.dataset.saved = 'false';
  if (main.dataset.state !== 'loading' && main.dataset.state !== 'engine-error') setState('pending');
  clearTimeout(runTimer);
  runTimer = setTimeout(run, now ? 0 : RUN_DELAY);
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, SAVE_DELAY);
}

function run() {
  clearTimeout(runTimer);
  runChain = runChain.then(runOnce, runOnce);
  return runChain;
}

async function save() {
  const gen = generation;
  const s = readState();
  const fragment = await encodeState(s);
  if (gen !== generation) return;
  if (location.hash !== `#${fragment}`) history.replaceState(null, '', `#${fragment}`);
  main.dataset.saved = 'true';
}

function showCompileError(which, editor, box, err) {
  box.replaceChildren();
  if (!err) { editor.setError(null); return; }
  const where = err.line > 0 ? `Line ${err.line}${err.column > 0 ? `, column ${err.column}` : ''}: ` : '';
  const label = err.kind === 'syntax' ? 'Syntax error' : err.kind === 'timeout' ? 'Runaway script' : 'Does not load';
  const p = document.createElement('div');
  p.className = 'error-text';
  p.textContent = `${label} in version ${which}. ${where}${err.detail ?? err.message}`;
  const full = document.createElement('div');
  full.className = 'note-code';
  full.textContent = err.message;
  box.append(p);
  if (err.message !== (err.detail ?? err.message) || !where) box.append(full);
  if (err.line > 0) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'small goto';
    b.textContent = `Go to line ${err.line}`;
    b.addEventListener('click', () => editor.goTo(err.line, err.column));
    box.append(b);
  }
  editor.setError({ line: err.line, column: err.column, message: err.message });
}

async function evaluate(s, u) {
  const t0 = performance.now();
  let r;
  try {
    const a = await s.findProxyForURL(u.url, u.host);
    r = { ok: true, result: a.result, proxies: a.proxies, warnings: a.warnings ?? [] };
  } catch (e) {
    r = { ok: false, error: e };
  }
  r.ms = performance.now() - t0;
  return r;
}

// evaluateAll answers every URL with script s. The first call also loads
// s into the engine's instance (a compile); when it succeeds it is made
// again, so that its time is the evaluation's alone.
async function evaluateAll(s, urls, gen) {
  const out = [];
  for (const [i, u] of urls.entries()) {
    let r = await evaluate(s, u);
    if (i === 0 && r.ok && gen === generation) r = await evaluate(s, u);
    out.push(r);
    if (gen !== generation) return null;
  }
  return out;
}

async function runOnce() {
  const gen = generation;
  if (gen === ranGeneration) return;
  const s = readState();
  updateClockNote();
  const env = environment(s);
  if (!env) {
    setState('error');
    statusLine.className = 'status error';
    statusLine.textContent = 'Fix the environment: a field above is not valid.';
    ranGeneration = gen;
    return;
  }
  setState('running');
  try {
    await ensureEngine(env.timeout);
  } catch (e) {
    setState('engine-error');
    engineStatus.classList.add('error');
    engineStatus.textContent = `The engine did not start: ${e.message}. The page needs pac.wasm next to index.html (make wasm; see web/README.md).`;
    statusLine.className = 'status error';
    statusLine.textContent = 'No engine: nothing can be evaluated.';
    return;
  }
  if (gen !== generation) return;
  const comparing = s.cmp.trim() !== '';
  const urls = parseURLs(s.urls);
  const t0 = performance.now();
  const a = await script('a', s.pac, 'proxy.pac', env);
  const b = comparing ? await script('b', s.cmp, 'proxy-b.pac', env) : null;
  if (gen !== generation) return;
  showCompileError('A', editorA, $('pac-error'), a.error);
  showCompileError('B', editorB, $('cmp-error'), b?.error);
  if (!comparing) {
    scripts.get('b')?.script?.close();
    scripts.delete('b');
  }
  if (a.error || b?.error) {
    setState('error');
    statusLine.className = 'status error';
    statusLine.textContent = a.error ? 'Version A does not load: see the message under the script.' : 'Version B does not load: see the message under it.';
    renderRows([], [], null, null, comparing);
    clearWhy();
    ranGeneration = gen;
    return;
  }
  // What each URL reaches the script as, then A's answers, then B's:
  // grouped, so the engine's instance swaps scripts as little as it can.
  const seen = await script('seen', SEEN_SOURCE, 'seen.pac', { zone: '', now: 0, resolve: {}, myIPAddresses: [], fullURLs: env.fullURLs });
  const seenRows = [];
  for (const u of urls) {
    try {
      const r = await seen.script.findProxyForURL(u.url, u.host);
      const [url, host] = r.result.split('\n');
      seenRows.push({ url, host });
    } catch {
      seenRows.push(null);
    }
    if (gen !== generation) return;
  }
  const rowsA = await evaluateAll(a.script, urls, gen);
  if (!rowsA) return;
  let rowsB = null;
  if (comparing) {
    rowsB = await evaluateAll(b.script, urls, gen);
    if (!rowsB) return;
  }
  if (gen !== generation) return;
  const elapsed = performance.now() - t0;
  const changes = renderRows(urls, seenRows, rowsA, rowsB, comparing);
  const failed = rowsA.filter((r) => !r.ok).length;
  statusLine.className = 'status';
  let msg = `${urls.length} URL${urls.length === 1 ? '' : 's'} evaluated in ${Math.round(elapsed)} ms`;
  if (failed) msg += `; ${failed} failed`;
  if (comparing) msg += `. ${changes} of ${urls.length} answer${urls.length === 1 ? '' : 's'} changed between A and B`;
  statusLine.textContent = urls.length ? `${msg}.` : 'No URLs to evaluate: add some under "Test URLs".';
  if (selected >= 0 && selected < urls.length) await explain(selected, gen);
  else if (selected >= 0) clearWhy();
  if (gen === generation) {
    ranGeneration = gen;
    setState('done');
  }
}

// answerKey is what "the answer changed" compares.
const answerKey = (r) => (r.ok ? `r:${r.result}` : `e:${r.error.message}`);

function cell(tr, cls, label) {
  const td = document.createElement('td');
  td.className = cls;
  td.dataset.label = label;
  tr.append(td);
  return td;
}

function answerCells(tr, r, suffix, labelPrefix) {
  const ret = cell(tr, `returned col-${suffix}`, `${labelPrefix}Returned`);
  const prox = cell(tr, `proxies col-${suffix}`, `${labelPrefix}Proxies`);
  if (!r.ok) {
    const e = document.createElement('span');
    e.className = 'err value';
    e.textContent = `Error: ${r.error.message}`;
    ret.append(e);
    const none = document.createElement('span');
    none.className = 'value empty';
    prox.append(none);
    return;
  }
  const code = document.createElement('code');
  code.className = 'value';
  code.textContent = r.result;
  ret.append(code);
  if (r.result === '') {
    const note = document.createElement('span');
    note.className = 'empty';
    note.textContent = '(empty string)';
    ret.append(note);
  }
  const v = document.createElement('code');
  v.className = 'value';
  v.textContent = formatProxies(r.proxies);
  prox.append(v);
  for (const w of r.warnings) {
    const s = document.createElement('span');
    s.className = 'warn';
    s.textContent = w.entry ? `dropped "${w.entry}": ${w.reason}` : w.reason;
    prox.append(s);
  }
}

function renderRows(urls, seenRows, rowsA, rowsB, comparing) {
  resultsTable.classList.toggle('comparing', comparing);
  lastRows = [];
  const frag = document.createDocumentFragment();
  let changes = 0;
  if (rowsA) {
    urls.forEach((u, i) => {
      const tr = document.createElement('tr');
      tr.dataset.index = String(i);
      const num = cell(tr, 'idx', '#');
      num.textContent = String(i + 1);
      const urlTd = cell(tr, 'url', 'URL');
      const uc = document.createElement('code');
      uc.className = 'value';
      uc.textContent = u.url;
      urlTd.append(uc);
      const seen = seenRows[i];
      if (seen && seen.url !== u.url) {
        const s = document.createElement('span');
        s.className = 'seen';
        s.textContent = `seen as ${seen.url}`;
        urlTd.append(s);
      }
      const hostTd = cell(tr, 'host', 'Host seen');
      const hc = document.createElement('code');
      hc.className = 'value';
      hc.textContent = seen ? seen.host : '?';
      hostTd.append(hc);
      answerCells(tr, rowsA[i], 'a', '');
      let isChanged = false;
      if (comparing) {
        answerCells(tr, rowsB[i], 'b', 'B: ');
        isChanged = answerKey(rowsA[i]) !== answerKey(rowsB[i]);
        if (isChanged) {
          changes++;
          tr.classList.add('changed');
          const badge = document.createElement('span');
          badge.className = 'badge';
          badge.textContent = 'changed';
          num.append(badge);
        }
      } else {
        cell(tr, 'returned col-b', 'B: Returned');
        cell(tr, 'proxies col-b', 'B: Proxies');
      }
      const time = cell(tr, 'time num', 'Time (ms)');
      time.textContent = comparing ? `${rowsA[i].ms.toFixed(2)} / ${rowsB[i].ms.toFixed(2)}` : rowsA[i].ms.toFixed(2);
      time.title = 'Round trip to the engine in its Worker' + (comparing ? ', A / B' : '');
      const whyTd = cell(tr, 'why-cell', '');
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'small why-button';
      btn.textContent = 'Why?';
      btn.setAttribute('aria-label', `Why: explain the answer for ${u.url}${u.host ? ` with host ${u.host}` : ''}`);
      btn.addEventListener('click', () => { selected = i; explain(i, generation); });
      whyTd.append(btn);
      if (i === selected) tr.classList.add('selected');
      frag.append(tr);
      lastRows.push({ ...u, changed: isChanged });
    });
  }
  resultsBody.replaceChildren(frag);
  return changes;
}

// ---------------------------------------------------------------------------
// Why: the trace of one evaluation

function clearWhy() {
  selected = -1;
  whyBody.replaceChildren();
  const p = document.createElement('p');
  p.className = 'note';
  p.textContent = 'Choose "Why?" on a result to see every PAC function the script called for it.';
  whyBody.append(p);
}

function traceBlock(title, t, editor) {
  const div = document.createElement('div');
  div.className = 'trace-block';
  const h = document.createElement('h3');
  h.textContent = title;
  div.append(h);
  if (t.calls.length === 0) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = 'No PAC function was called.';
    div.append(p);
  } else {
    const ol = document.createElement('ol');
    ol.className = 'trace';
    ol.setAttribute('aria-label', `${title}: PAC function calls, in order`);
    for (const c of t.calls) {
      const li = document.createElement('li');
      li.textContent = `${c.func}(${c.args.join(', ')}) = ${c.result}`;
      ol.append(li);
    }
    div.append(ol);
  }
  const out = document.createElement('p');
  out.className = t.error ? 'outcome err' : 'outcome';
  out.textContent = t.error ? `Failed: ${t.error.message}` : `Returned ${JSON.stringify(t.result)}`;
  div.append(out);
  if (t.error?.line > 0) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'small';
    b.textContent = `Go to line ${t.error.line}`;
    b.addEventListener('click', () => editor.goTo(t.error.line, t.error.column));
    div.append(b);
  }
  return div;
}

async function explain(i, gen) {
  const u = lastRows[i];
  if (!u) return;
  for (const tr of resultsBody.children) tr.classList.toggle('selected', tr.dataset.index === String(i));
  const a = scripts.get('a');
  const b = resultsTable.classList.contains('comparing') ? scripts.get('b') : null;
  if (!a?.script) return;
  const blocks = [];
  try {
    const ta = await a.script.trace(u.url, u.host);
    blocks.push(traceBlock(b ? 'Version A' : 'Calls', ta, editorA));
    if (b?.script) blocks.push(traceBlock('Version B', await b.script.trace(u.url, u.host), editorB));
  } catch (e) {
    const p = document.createElement('p');
    p.className = 'outcome err';
    p.textContent = `The trace failed: ${e.message}`;
    blocks.push(p);
  }
  if (gen !== generation || selected !== i) return;
  const head = document.createElement('p');
  head.className = 'why-url';
  head.textContent = `For ${u.url}${u.host ? ` with host ${u.host}` : ''}${u.changed ? ' (the answer changed between A and B)' : ''}:`;
  const wrap = document.createElement('div');
  wrap.className = 'traces';
  wrap.append(...blocks);
  whyBody.replaceChildren(head, wrap);
}

// ---------------------------------------------------------------------------
// Loading scripts: files, drops, URLs

// loadMessage says how loading a script went, in the box under its loaders.
function loadMessage(box, text, failed = false) {
  box.textContent = text;
  box.classList.toggle('failed', failed);
}

async function loadFile(file, editor, box) {
  if (!file) return;
  try {
    editor.value = await file.text();
    loadMessage(box, `Loaded ${file.name} (${file.size} bytes).`);
    changed({ now: true });
  } catch (e) {
    loadMessage(box, `Could not read ${file.name}: ${e.message}`, true);
  }
}

function dropTarget(editor, box) {
  const root = editor.root;
  root.addEventListener('dragover', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    root.classList.add('dragging');
  });
  root.addEventListener('dragleave', () => root.classList.remove('dragging'));
  root.addEventListener('drop', (e) => {
    root.classList.remove('dragging');
    const file = e.dataTransfer?.files?.[0];
    if (!file) return; // text dropped: the textarea inserts it
    e.preventDefault();
    loadFile(file, editor, box);
  });
}

async function fetchPAC(ev) {
  ev.preventDefault();
  const box = $('pac-load-status');
  const input = $('pac-url');
  const raw = input.value.trim();
  let url;
  try {
    url = new URL(raw, document.baseURI);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('only http and https URLs can be fetched');
  } catch (e) {
    input.setAttribute('aria-invalid', 'true');
    loadMessage(box, `Cannot load "${raw}": ${raw ? e.message : 'give a URL'}.`, true);
    return;
  }
  input.setAttribute('aria-invalid', 'false');
  loadMessage(box, `Fetching ${url.href}…`);
  let res;
  try {
    res = await fetch(url, { mode: 'cors', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
  } catch (e) {
    loadMessage(box, `Could not fetch ${url.href} (${e.message}). Either the server did not answer, or it does not let ` +
      'other sites read the file: a server must send Access-Control-Allow-Origin (CORS) for a page to read it. ' +
      'Download the file and open it with "Open a PAC file" instead.', true);
    return;
  }
  if (!res.ok) {
    loadMessage(box, `Could not load ${url.href}: the server answered ${res.status} ${res.statusText}.`, true);
    return;
  }
  let text;
  try {
    text = await res.text();
  } catch (e) {
    loadMessage(box, `Could not read ${url.href}: ${e.message}`, true);
    return;
  }
  editorA.value = text;
  loadMessage(box, `Loaded ${url.href} (${text.length} characters).`);
  changed({ now: true });
}

// ---------------------------------------------------------------------------
// Wiring

async function stateFromFragment() {
  if (location.hash.length > 1) {
    try {
      return await decodeState(location.hash);
    } catch (e) {
      statusLine.className = 'status error';
      statusLine.textContent = `The case in this page's address could not be read (${e.message}); showing an example instead.`;
    }
  }
  return normalizeState(EXAMPLE);
}

async function start() {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const dl = $('zones');
  for (const z of ['UTC', ...zones]) {
    const o = document.createElement('option');
    o.value = z;
    dl.append(o);
  }
  applyState(await stateFromFragment());

  for (const el of [editorA.textarea, editorB.textarea, urlsBox, zoneInput, clientInput, dnsRows, timeInput, timeoutInput]) {
    el.addEventListener('input', () => changed());
  }
  // Typing makes what a load said old news.
  editorA.textarea.addEventListener('input', () => loadMessage($('pac-load-status'), ''));
  editorB.textarea.addEventListener('input', () => loadMessage($('cmp-load-status'), ''));
  fullURLsInput.addEventListener('change', () => changed());
  zoneInput.addEventListener('change', () => changed());
  $('dns-add').addEventListener('click', () => { addDNSRow('', '', true); });
  $('env-now').addEventListener('click', () => {
    const zone = zoneInput.value.trim();
    timeInput.value = epochToWall(Math.floor(Date.now() / 1000) * 1000, validZone(zone) ? zone : 'UTC');
    changed();
  });
  $('run').addEventListener('click', () => changed({ now: true }));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); changed({ now: true }); }
  });
  $('pac-file').addEventListener('change', (e) => loadFile(e.target.files[0], editorA, $('pac-load-status')));
  $('cmp-file').addEventListener('change', (e) => {
    $('compare').open = true;
    loadFile(e.target.files[0], editorB, $('cmp-load-status'));
  });
  $('pac-fetch-form').addEventListener('submit', fetchPAC);
  $('cmp-copy').addEventListener('click', () => { editorB.value = editorA.value; changed({ now: true }); });
  $('cmp-clear').addEventListener('click', () => { editorB.value = ''; changed({ now: true }); });
  dropTarget(editorA, $('pac-load-status'));
  dropTarget(editorB, $('cmp-load-status'));
  $('share').addEventListener('click', async () => {
    await save();
    const note = $('share-status');
    try {
      await navigator.clipboard.writeText(location.href);
      note.textContent = 'Link copied.';
    } catch {
      note.textContent = 'Copy the address from the address bar: it holds this case.';
    }
  });
  window.addEventListener('hashchange', async () => {
    if (location.hash.length <= 1) return;
    const s = await stateFromFragment();
    selected = -1;
    clearWhy();
    applyState(s);
    changed({ now: true });
  });

  setState('pending');
  changed({ now: true });
}

start();
