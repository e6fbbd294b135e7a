// playground.mjs: the PAC playground (web/index.html) in a real browser,
// Debian's Chromium driven by playwright-core. Run by the Go test
// TestPlaygroundInChromium (web/playground_test.go), which serves the page
// and computes the expected answers with the native engine:
//
//   node web/test/playground.mjs BASE_URL ARTIFACT_DIR < input.json
//
// BASE_URL is where the page is (http://127.0.0.1:PORT/); screenshots go
// to ARTIFACT_DIR. The input, all written by the Go test:
//
//   {fixtures: "http://127.0.0.1:PORT",    another origin: /cors/NAME with
//                                          CORS allowed, /nocors/NAME without
//    noEngine: "http://127.0.0.1:PORT",    the page, served without pac.wasm
//    files: {NAME: {path, source}},        corpus scripts to open, drop, fetch
//    scenarios: [{name, pac, urls, env, nowUTC, rows}],
//        env: {time, zone, client, dns: [[host, addrs]], fullURLs, timeout}
//             as the page's fields take them
//        rows: [{url, host, returned, proxies}] what the results table
//             must show: the host the script saw, the string it returned
//             (or "Error: " and the engine's message), the proxies parsed
//    trace: {scenario, row, calls: ["f(args) = result"], outcome},
//    compare: {scenario, pacB, rowsB, changed: [row indices]},
//    syntax: {pac, line, column, message},
//    runaway: a scenario whose second URL loops until the time limit}
//
// It prints one line per check and exits 1 if any failed. Chromium runs
// headless with a fresh profile and without any background networking;
// every request the page makes must go to 127.0.0.1.
//
// CHROMIUM (or PACD_CHROMIUM) names the browser; default /usr/bin/chromium.

import { readFileSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error(`playground.mjs: playwright-core is not installed (npm ci --prefix web/test): ${e.message}`);
  process.exit(3);
}

const [base, artifacts = mkdtempSync(join(tmpdir(), 'pacd-playground-artifacts-'))] = process.argv.slice(2);
if (!base) {
  console.error('usage: node web/test/playground.mjs BASE_URL [ARTIFACT_DIR] < input.json');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const input = JSON.parse(readFileSync(0, 'utf8'));
const executablePath = process.env.CHROMIUM || process.env.PACD_CHROMIUM || '/usr/bin/chromium';

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  const d = ok || detail === undefined ? '' : `\n      ${typeof detail === 'string' ? detail : JSON.stringify(detail, null, 1).replace(/\n/g, '\n      ')}`;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${d}`);
  return ok;
}
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

const profile = mkdtempSync(join(tmpdir(), 'pacd-playground-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 1000 },
  timeout: 30000,
});
const requests = [];
context.on('request', (r) => requests.push(r.url()));
const page = context.pages()[0] ?? await context.newPage();
page.setDefaultTimeout(20000);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
page.on('console', (m) => { if (m.type() === 'error') console.log(`     (console: ${m.text()})`); });

// ---------------------------------------------------------------------------
// Helpers

const FINAL = ['done', 'error', 'engine-error'];

// settle waits until the page has run its latest change and returns the
// state it ended in.
async function settle(states = FINAL) {
  await page.waitForFunction((s) => s.includes(document.getElementById('main').dataset.state), states);
  return page.$eval('#main', (m) => m.dataset.state);
}

// paste replaces a text area's content as a paste does: one insertion.
async function paste(selector, text) {
  await page.fill(selector, '');
  await page.focus(selector);
  if (text) await page.keyboard.insertText(text);
}

async function setEnv(env) {
  await page.fill('#env-zone', env.zone);
  // A datetime-local input writes its value without ":00" seconds.
  await page.fill('#env-time', env.time.replace(/:00$/, ''));
  await page.fill('#env-client', env.client);
  await page.fill('#env-timeout', String(env.timeout));
  await page.setChecked('#env-full-urls', env.fullURLs);
  while (await page.locator('#dns-rows tr').count() > 0) await page.locator('#dns-rows .dns-remove').first().click();
  for (const [host, addrs] of env.dns) {
    await page.click('#dns-add');
    const tr = page.locator('#dns-rows tr').last();
    await tr.locator('.dns-host').fill(host);
    await tr.locator('.dns-addrs').fill(addrs);
  }
}

async function loadScenario(sc) {
  await paste('#pac-source', sc.pac);
  await paste('#urls', sc.urls);
  await setEnv(sc.env);
  return settle();
}

function readTable() {
  return page.$$eval('#results-rows tr', (trs) => trs.map((tr) => {
    const v = (sel) => tr.querySelector(sel)?.textContent ?? null;
    return {
      url: v('td.url .value'), host: v('td.host .value'),
      returned: v('td.returned.col-a .value'), proxies: v('td.proxies.col-a .value'),
      returnedB: v('td.returned.col-b .value'), proxiesB: v('td.proxies.col-b .value'),
      time: v('td.time'), changed: tr.classList.contains('changed'),
    };
  }));
}

// sameRows compares the table with the expected rows cell by cell;
// suffix "B" compares B's columns.
function sameRows(name, got, want, suffix = '') {
  const bad = [];
  if (got.length !== want.length) bad.push(`${got.length} rows, want ${want.length}`);
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const g = got[i], w = want[i];
    const cells = [['url', g.url, w.url], ['host', g.host, w.host],
      ['returned', g[`returned${suffix}`], w.returned], ['proxies', g[`proxies${suffix}`], w.proxies]];
    for (const [col, gv, wv] of cells) {
      if (gv !== wv) bad.push(`row ${i + 1} (${w.url}) ${col}${suffix}: ${JSON.stringify(gv)}, want ${JSON.stringify(wv)}`);
    }
    if (!/^\d+\.\d{2}( \/ \d+\.\d{2})?$/.test(g.time ?? '')) bad.push(`row ${i + 1}: time ${JSON.stringify(g.time)}`);
  }
  return check(`${name}: ${want.length} rows match the native engine cell by cell${suffix ? ` (version ${suffix})` : ''}`,
    bad.length === 0, bad.slice(0, 8).join('\n      '));
}

async function snapshot() {
  return page.evaluate(() => ({
    hash: location.hash,
    pac: document.getElementById('pac-source').value,
    cmp: document.getElementById('cmp-source').value,
    urls: document.getElementById('urls').value,
    time: document.getElementById('env-time').value,
    zone: document.getElementById('env-zone').value,
    client: document.getElementById('env-client').value,
    timeout: document.getElementById('env-timeout').value,
    fullURLs: document.getElementById('env-full-urls').checked,
    dns: [...document.querySelectorAll('#dns-rows tr')].map((tr) => [tr.querySelector('.dns-host').value, tr.querySelector('.dns-addrs').value]),
    rows: [...document.querySelectorAll('#results-rows tr')].map((tr) => [...tr.querySelectorAll('td')]
      .filter((td) => !td.classList.contains('time')).map((td) => td.textContent)),
    changed: [...document.querySelectorAll('#results-rows tr.changed')].map((tr) => tr.dataset.index),
  }));
}

// contrast returns the contrast ratio of each selector's text on its
// background, for the first element that matches.
function contrasts(selectors) {
  return page.evaluate((sels) => {
    const parse = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out = {};
    for (const s of sels) {
      const el = document.querySelector(s);
      if (!el) { out[s] = null; continue; }
      const fg = lum(parse(getComputedStyle(el).color));
      const bg = lum(background(el));
      out[s] = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    }
    return out;
  }, selectors);
}

function checkContrast(name, ratios) {
  const low = Object.entries(ratios).filter(([, r]) => r === null || r < 4.5);
  return check(`${name}: text contrast at least 4.5:1 (${Object.keys(ratios).length} elements)`, low.length === 0,
    low.map(([s, r]) => `${s}: ${r === null ? 'missing' : r.toFixed(2)}`).join(', '));
}

// ---------------------------------------------------------------------------
// The checks

try {
  await page.goto(base);
  const first = await settle();
  check(`the page loads and runs its example (${first}, ${since()})`, first === 'done',
    await page.textContent('#engine-status'));
  check('the engine runs in a Worker', /Worker/.test(await page.textContent('#engine-status')));

  // Every control has a name, and the live regions are there.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, textarea, button, select, summary')]
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
      ((el.tagName === 'BUTTON' || el.tagName === 'SUMMARY') && el.textContent.trim())))
    .map((el) => el.id || el.outerHTML.slice(0, 80)));
  check('every control has a label', unnamed.length === 0, unnamed);
  const live = await page.evaluate(() => ['status', 'pac-error', 'cmp-error', 'why-body', 'pac-load-status']
    .filter((id) => !document.getElementById(id)?.closest('[aria-live], [role=status], [role=alert]')));
  check('results, errors and the trace are live regions', live.length === 0, live);

  // Loading a script: file picker, drag and drop, URL with and without CORS.
  const [fPick, fDrop, fFetch] = [input.files['bench-small.pac'], input.files['dns-resolve.pac'], input.files['netscape-ex3.pac']];
  await page.setInputFiles('#pac-file', fPick.path);
  await page.waitForFunction((s) => document.getElementById('pac-source').value === s, fPick.source).catch(() => {});
  check('the file picker loads a PAC file', await page.inputValue('#pac-source') === fPick.source);
  await settle();
  const dt = await page.evaluateHandle(({ source }) => {
    const d = new DataTransfer();
    d.items.add(new File([source], 'dropped.pac', { type: 'application/x-ns-proxy-autoconfig' }));
    return d;
  }, fDrop);
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('#pac-editor', type, { dataTransfer: dt });
  await page.waitForFunction((s) => document.getElementById('pac-source').value === s, fDrop.source).catch(() => {});
  check('a file dropped on the editor loads', await page.inputValue('#pac-source') === fDrop.source);
  await settle();
  await page.fill('#pac-url', `${input.fixtures}/cors/netscape-ex3.pac`);
  await page.click('#pac-fetch');
  await page.waitForFunction((s) => document.getElementById('pac-source').value === s, fFetch.source).catch(() => {});
  check('a PAC loads from a URL that allows CORS', await page.inputValue('#pac-source') === fFetch.source,
    await page.textContent('#pac-load-status'));
  await settle();
  await page.fill('#pac-url', `${input.fixtures}/nocors/dns-resolve.pac`);
  await page.click('#pac-fetch');
  await page.waitForFunction(() => document.getElementById('pac-load-status').classList.contains('failed')).catch(() => {});
  const corsMsg = await page.textContent('#pac-load-status');
  check('a URL without CORS is refused with a message that says CORS', /CORS/.test(corsMsg) &&
    await page.inputValue('#pac-source') === fFetch.source, corsMsg);

  // The scenarios, the trace's last so that the trace and the compare
  // view work on it.
  const order = input.scenarios.map((_, i) => i).filter((i) => i !== input.trace.scenario).concat(input.trace.scenario);
  for (const i of order) {
    const sc = input.scenarios[i];
    const state = await loadScenario(sc);
    check(`${sc.name}: runs (${since()})`, state === 'done', await page.textContent('#status'));
    sameRows(sc.name, await readTable(), sc.rows);
    const utc = await page.textContent('#env-time-utc');
    check(`${sc.name}: ${sc.env.time} in ${sc.env.zone} is ${sc.nowUTC}`, utc.includes(`${sc.nowUTC} in UTC`), utc);
  }

  // Why: the trace of one URL.
  const tr = input.trace;
  await page.click(`#results-rows tr:nth-child(${tr.row + 1}) .why-button`);
  await page.waitForSelector('#why-body ol.trace');
  const calls = await page.$$eval('#why-body ol.trace li', (lis) => lis.map((l) => l.textContent));
  check(`Why lists the ${tr.calls.length} PAC calls of the native trace, in order`, JSON.stringify(calls) === JSON.stringify(tr.calls),
    { page: calls, native: tr.calls });
  const outcome = await page.textContent('#why-body .outcome');
  check('Why shows the result', outcome === tr.outcome, { page: outcome, native: tr.outcome });
  check('the explained row is marked', await page.$eval(`#results-rows tr:nth-child(${tr.row + 1})`, (r) => r.classList.contains('selected')));

  // Compare: B over the same URLs.
  const cmp = input.compare;
  const sc = input.scenarios[cmp.scenario];
  await page.click('#compare-summary');
  await paste('#cmp-source', cmp.pacB);
  check(`compare: runs (${since()})`, await settle() === 'done', await page.textContent('#status'));
  const rows = await readTable();
  sameRows('compare', rows, sc.rows);
  sameRows('compare', rows, cmp.rowsB, 'B');
  const marked = rows.map((r, i) => (r.changed ? i : -1)).filter((i) => i >= 0);
  check(`compare: exactly the ${cmp.changed.length} changed URLs are highlighted`, JSON.stringify(marked) === JSON.stringify(cmp.changed),
    { page: marked, native: cmp.changed });
  const status = await page.textContent('#status');
  check('compare: the summary counts the changes', status.includes(`${cmp.changed.length} of ${rows.length} answers changed`), status);
  const whyBlocks = await page.$$eval('#why-body h3', (hs) => hs.map((h) => h.textContent));
  check('compare: Why shows both versions', JSON.stringify(whyBlocks) === '["Version A","Version B"]', whyBlocks);
  await page.screenshot({ path: join(artifacts, 'playground.png'), fullPage: true });

  checkContrast('light scheme', await contrasts(['body', 'h1', '.lede', '.note', '#status', 'label[for=pac-source]',
    'button#run', 'button#dns-add', '#results th', '#results tr:not(.changed) td.returned code',
    '#results tr.changed td.returned code', '#results tr.changed .badge', '.editor .gutter span', '#pac-source',
    '#why-body ol.trace li', '#why-body .outcome', '.foot']));

  await page.emulateMedia({ colorScheme: 'dark' });
  checkContrast('dark scheme', await contrasts(['body', 'h1', '.lede', '.note', '#status', 'label[for=pac-source]',
    'button#run', 'button#dns-add', '#results th', '#results tr:not(.changed) td.returned code',
    '#results tr.changed td.returned code', '#results tr.changed .badge', '.editor .gutter span', '#pac-source',
    '#why-body ol.trace li', '#why-body .outcome', '.foot']));
  await page.screenshot({ path: join(artifacts, 'playground-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });

  // Keyboard: Tab from the top reaches every main control, each with a
  // visible focus mark, and Enter on "Why?" explains.
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  const want = ['pac-file', 'pac-url', 'pac-fetch', 'pac-source', 'compare-summary', 'cmp-file', 'cmp-copy', 'cmp-clear', 'cmp-source',
    'env-time', 'env-now', 'env-zone', 'env-client', 'env-timeout', 'env-full-urls', 'dns-add', 'urls', 'run', 'share', 'results-wrap'];
  const reached = new Set();
  const unmarked = new Set();
  let whyReached = false;
  for (let i = 0; i < 150 && !(want.every((id) => reached.has(id)) && whyReached); i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const cs = getComputedStyle(el);
      const marked = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
      return { id: el.id, why: el.classList.contains('why-button'), marked };
    });
    if (!f) continue;
    if (f.id) reached.add(f.id);
    if (f.why) whyReached = true;
    if (!f.marked) unmarked.add(f.id || (f.why ? 'why-button' : '?'));
  }
  const notReached = want.filter((id) => !reached.has(id));
  check('Tab reaches the main controls and a "Why?" button', notReached.length === 0 && whyReached, { notReached, whyReached });
  check('every focused control shows a focus outline', unmarked.size === 0, [...unmarked]);
  await page.focus('#results-rows tr:nth-child(1) .why-button');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#results-rows tr:nth-child(1)')?.classList.contains('selected')
    && document.querySelector('#why-body ol.trace, #why-body .trace-block'));
  check('Enter on "Why?" explains that row', await page.$eval('#why-body .why-url', (p) => p.textContent.includes('For ')));
  await settle();

  // Narrow screen: no sideways scrolling; the table becomes cards.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(`narrow screen: nothing wider than the 390 px viewport (${overflow} px over)`, overflow <= 1);
  const cards = await page.$eval('#results-rows tr', (r) => getComputedStyle(r).display);
  check('narrow screen: each result is a card', cards === 'block', cards);
  await page.screenshot({ path: join(artifacts, 'narrow.png'), fullPage: true });
  await page.setViewportSize({ width: 1400, height: 1000 });

  // The state survives a reload, through the fragment.
  await page.waitForFunction(() => document.getElementById('main').dataset.saved === 'true');
  const before = await snapshot();
  check('the fragment holds the state, compressed', before.hash.startsWith('#z.'), before.hash.slice(0, 20));
  await page.reload();
  check(`after a reload: runs (${since()})`, await settle() === 'done');
  const after = await snapshot();
  const diff = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  check('after a reload: scripts, URLs, environment and results are the same', diff.length === 0,
    Object.fromEntries(diff.map((k) => [k, { before: before[k], after: after[k] }])));
  // ...and in a new tab, as a shared link.
  const shared = await context.newPage();
  await shared.goto(`${base}${before.hash}`);
  await shared.waitForFunction(() => document.getElementById('main').dataset.state === 'done');
  const sharedChanged = await shared.$$eval('#results-rows tr.changed', (trs) => trs.map((t) => Number(t.dataset.index)));
  check('a shared link opens the same case in a new tab', JSON.stringify(sharedChanged) === JSON.stringify(cmp.changed), sharedChanged);
  await shared.close();

  // A script that does not parse: the message and the marks.
  const sy = input.syntax;
  await paste('#pac-source', sy.pac);
  check('a broken script: the page says so', await settle() === 'error');
  const msg = await page.textContent('#pac-error');
  check(`a broken script: line ${sy.line}, column ${sy.column} and the engine's message are shown`,
    msg.includes(`Line ${sy.line}, column ${sy.column}`) && msg.includes(sy.message), msg);
  const gutter = await page.$$eval('#pac-editor .gutter span.error', (ss) => ss.map((s) => s.textContent));
  check(`a broken script: the gutter marks line ${sy.line} and no other`, JSON.stringify(gutter) === JSON.stringify([String(sy.line)]), gutter);
  const marks = await page.evaluate(() => ({
    line: !document.querySelector('#pac-editor .marker').hidden,
    column: !document.querySelector('#pac-editor .caret-marker').hidden,
    invalid: document.getElementById('pac-source').getAttribute('aria-invalid'),
  }));
  check('a broken script: its line and column are marked in the editor', marks.line && marks.column && marks.invalid === 'true', marks);
  checkContrast('error message', await contrasts(['#pac-error .error-text', '#pac-editor .gutter span.error']));
  await page.evaluate(() => document.getElementById('pac-editor').scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: join(artifacts, 'syntax-error.png') });
  await page.click('#pac-error .goto');
  const caret = await page.evaluate(() => {
    const ta = document.getElementById('pac-source');
    const before = ta.value.slice(0, ta.selectionStart).split('\n');
    return { focused: document.activeElement === ta, line: before.length, column: before.at(-1).length + 1 };
  });
  check('a broken script: "Go to line" puts the cursor there', caret.focused && caret.line === sy.line && caret.column === sy.column, caret);
  const rowsShown = await page.$$eval('#results-rows tr', (r) => r.length);
  check('a broken script: no stale answers are left in the table', rowsShown === 0, rowsShown);

  // A runaway script is stopped at the time limit, and the page stays responsive.
  await page.click('#cmp-clear');
  const ra = input.runaway;
  await paste('#pac-source', ra.pac);
  await paste('#urls', ra.urls);
  await setEnv(ra.env);
  const started = Date.now();
  let slowest = 0;
  while (!FINAL.includes(await page.$eval('#main', (m) => m.dataset.state)) && Date.now() - started < 20000) {
    const s = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    slowest = Math.max(slowest, Date.now() - s);
    await page.waitForTimeout(50);
  }
  const took = Date.now() - started;
  check(`a runaway script: stopped once (${took} ms, limit ${ra.env.timeout} ms)`, await settle() === 'done' &&
    took >= ra.env.timeout && took < 2 * ra.env.timeout + 2000);
  sameRows('a runaway script', await readTable(), ra.rows);
  check(`a runaway script: the page stayed responsive (slowest frame ${slowest} ms)`, slowest < 1200);

  // A server without the module: the page says what is missing.
  const bare = await context.newPage();
  await bare.goto(`${input.noEngine}/`);
  await bare.waitForFunction(() => document.getElementById('main').dataset.state === 'engine-error');
  const why = await bare.textContent('#engine-status');
  check('served without pac.wasm, the page says what is missing and why', /pac\.wasm/.test(why) && /404/.test(why), why);
  await bare.close();

  const foreign = requests.filter((u) => !/^(data|blob):/.test(u) && new URL(u).hostname !== '127.0.0.1');
  check(`every request (${requests.length}) went to 127.0.0.1`, foreign.length === 0, foreign);
  check('no uncaught error in the page', pageErrors.length === 0, pageErrors);
} catch (e) {
  const where = await page.evaluate(() => ({ ...document.getElementById('main').dataset, status: document.getElementById('status').textContent }))
    .catch(() => ({}));
  check('the run completed', false, `${e?.stack ?? e}\n      page: ${JSON.stringify(where)}\n      page errors: ${JSON.stringify(pageErrors)}`);
  await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(`playground: ${passed} checks passed, ${failed} failed, in ${since()}; screenshots in ${artifacts}`);
process.exit(failed ? 1 : 0);
