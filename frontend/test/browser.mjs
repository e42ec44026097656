// Browser tests of the map wall: Playwright (playwright-core) drives
// Debian's /usr/bin/chromium against a real `wangge serve` on a random
// port over a throwaway database seeded with a small city. Users are
// added with `wangge user add` (password on stdin) and sign in through
// the login page; the test's own API calls carry each user's bearer token
// (`wangge token create`). Screenshots go to test-artifacts/. Run by
// `make test` (frontend-test) with WANGGE_BIN and DATABASE_URL set.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dict, problemText } from '../src/i18n.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const artifacts = path.join(root, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const BIN = process.env.WANGGE_BIN ?? path.resolve(root, '../bin/wangge');
const BASE_DB = process.env.DATABASE_URL;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FIRST_PAINT_BUDGET_MS = 2000;

function need(cond, msg) {
  if (!cond) {
    console.error(`browser tests: ${msg}`);
    process.exit(1);
  }
}
need(BASE_DB, 'DATABASE_URL is not set (make test sets it to the private cluster)');
need(existsSync(BIN), `no ${BIN}: run make build`);
need(existsSync(CHROMIUM), `no ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);

const results = [];
const timings = {};
let server;
let browser;
const dbName = `wangge_fe_${process.pid}_${Date.now().toString(36)}`;
const dbURL = (() => {
  const u = new URL(BASE_DB);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
let env; // the server's and the CLI's environment (the throwaway database)
let base; // http://127.0.0.1:<port>
const psql = (sql) => execFileSync('psql', [BASE_DB, '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function step(name, f) {
  const t0 = Date.now();
  try {
    await f();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0, err: e });
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// dropLeftovers drops the databases of earlier runs that were killed
// before their teardown (their process is gone).
function dropLeftovers() {
  const names = psql(`SELECT datname FROM pg_database WHERE datname ~ '^wangge_fe_[0-9]+_'`).split('\n').filter(Boolean);
  for (const n of names) {
    const pid = Number(n.split('_')[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) psql(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
  }
}

async function setup() {
  const t0 = Date.now();
  dropLeftovers();
  psql(`CREATE DATABASE ${dbName}`);
  env = { ...process.env, DATABASE_URL: dbURL, WANGGE_LOG_LEVEL: 'warn' };
  execFileSync(BIN, ['migrate'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync(BIN, ['seed', '-scale', '0.02', '-districts', '500103,500105'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  timings.seedMs = Date.now() - t0;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '-addr', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let serverErr = '';
  server.stderr.on('data', (b) => {
    serverErr += b;
  });
  server.on('exit', (code) => {
    if (code) console.error(`wangge serve exited ${code}: ${serverErr.slice(-2000)}`);
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  assert((await fetch(`${base}/readyz`)).ok, 'server never became ready');
  timings.setupMs = Date.now() - t0;
  return base;
}

// addUser: `wangge user add NAME -role ROLE [-region CODE] [-unit ID]`
// with the password on stdin, and a bearer token for the test's own calls.
const users = {};
function addUser(name, role, region = '', unit = null) {
  const password = `${name}-pw-${process.pid}-不可猜`;
  const args = ['user', 'add', name, '-role', role];
  if (region) args.push('-region', region);
  if (unit != null) args.push('-unit', String(unit));
  execFileSync(BIN, args, { env, input: `${password}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
  const out = execFileSync(BIN, ['token', 'create', name, '-label', 'browser test'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const token = out.toString().trim().split('\n').at(-1).trim();
  users[name] = { name, password, role, region, unit, token };
  return users[name];
}

// call: the API as a user (bearer token: no cookie, no Origin needed).
function call(u, p, init = {}) {
  return fetch(`${base}${p}`, { ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${u.token}` } });
}
const postAs = (u, p, body) => call(u, p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

// login: the login page (shown without a session) signs the user in; the
// page then starts the wall with the session's permissions.
async function login(page, u, { goto = true } = {}) {
  if (goto) await page.goto(`${base}/`);
  await page.waitForSelector('#login:not([hidden]) #login-name');
  await page.fill('#login-name', u.name);
  await page.fill('#login-password', u.password);
  await page.click('#login-submit');
  await page.waitForFunction((n) => document.querySelector('#login').hidden && window.__wangge?.session?.name === n, u.name, { timeout: 30000 });
}

// newPage: a fresh browser context (no cookie) with the console watched.
async function newPage(consoleErrors) {
  const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  watchConsole(p, consoleErrors);
  return p;
}
const expectedFailure = (text, url) =>
  // A refused plan answers 422 with its problems, a stale one 412, which
  // the planner shows; Chromium logs every 4xx fetch as a failed resource.
  (/status of 422/.test(text) && /\/api\/v1\/plans$/.test(url)) ||
  (/status of 412/.test(text) && /\/api\/v1\/plans\/\d+\/apply$/.test(url)) ||
  // who is signed in, asked before the login page (401), and refused
  // logins (401 wrong password, 429 throttled): what the login page is for
  (/status of (401|429)/.test(text) && /\/api\/v1\/session$/.test(url)) ||
  // a plan number that does not exist (the approver's page says so)
  (/status of 404/.test(text) && /\/api\/v1\/plans\/\d+$/.test(url)) ||
  // a call after the session ended: what brings the login back
  (expired && /status of 401/.test(text));
let offline = false;
let expired = false;
function watchConsole(page, errs) {
  page.on('console', (m) => {
    const url = m.location()?.url ?? '';
    if (m.type() === 'error' && !expectedFailure(m.text(), url) && !(offline && /ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(m.text()))) {
      errs.push(`${m.text()} ${url}`);
    }
  });
  page.on('pageerror', (e) => errs.push(`pageerror: ${e.message}`));
}

async function teardown() {
  await browser?.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => {
      const h = setTimeout(() => {
        server.kill('SIGKILL');
        r();
      }, 5000);
      server.on('exit', () => {
        clearTimeout(h);
        r();
      });
    });
  }
  try {
    psql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  } catch (e) {
    console.error(`drop ${dbName}: ${e.message}`);
  }
}

// paintedShare: the share of canvas pixels that differ from the
// background colour (the canvas keeps its buffer: preserveDrawingBuffer).
async function paintedShare(page) {
  return page.evaluate(() => {
    const src = window.__wangge.map.getCanvas();
    const w = 320;
    const h = Math.round((src.height / src.width) * w);
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d');
    ctx.drawImage(src, 0, 0, w, h);
    const d = ctx.getImageData(0, 0, w, h).data;
    const [br, bg, bb] = [7, 13, 24]; // #070d18, the style's background
    let n = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - br) + Math.abs(d[i + 1] - bg) + Math.abs(d[i + 2] - bb) > 24) n++;
      colours.add((d[i] >> 4) * 256 + (d[i + 1] >> 4) * 16 + (d[i + 2] >> 4));
    }
    return { share: n / (w * h), colours: colours.size };
  });
}

const idle = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const m = window.__wangge.map;
        if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) return resolve();
        m.once('idle', () => resolve());
      }),
  );

const shot0 = (p, name) => p.screenshot({ path: path.join(artifacts, `${name}.png`) });

async function main() {
  await setup();
  const cmd = addUser('zhang.wei', 'commander'); // the city's command centre
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-sandbox'],
  });
  const consoleErrors = [];
  await step('anonymous: the wall shows the login page and no data request succeeds; a wrong password and throttling in the page\'s language', async () => {
    const anon = await newPage(consoleErrors);
    const answered = [];
    anon.on('response', (r) => {
      const u = new URL(r.url());
      if (/^\/(api|tiles)\//.test(u.pathname)) answered.push([`${r.request().method()} ${u.pathname}`, r.status()]);
    });
    await anon.goto(`${base}/`);
    await anon.waitForSelector('#login:not([hidden]) #login-name');
    await sleep(1500); // whatever the page would ask for on its own
    assert(answered.length && answered.every(([, st]) => st === 401), `requests without a session: ${JSON.stringify(answered)}`);
    assert(answered.some(([r]) => r === 'GET /api/v1/session'), 'the page did not ask who is signed in');
    assert(await anon.evaluate(() => !window.__wangge.map), 'a map was made without a session');
    assert((await anon.textContent('#login-form h2')) === dict.zh['login.title'], 'the login page is not in Chinese');
    // the data itself refuses an anonymous caller
    for (const p of ['/api/v1/regions', '/api/v1/kpi', '/api/v1/stats?level=district&metric=households', '/api/v1/stream', '/tiles/districts.json',
      '/tiles/districts/8/210/107', '/api/v1/events?limit=1']) {
      const r = await fetch(`${base}${p}`);
      assert(r.status === 401, `anonymous GET ${p}: ${r.status}`);
    }
    // a wrong password: said in Chinese, and in English after the switch
    await anon.fill('#login-name', cmd.name);
    await anon.fill('#login-password', 'not the password');
    await anon.click('#login-submit');
    await anon.waitForSelector('#login-error[data-status="401"]');
    assert((await anon.textContent('#login-error')) === dict.zh['login.wrong'], `wrong password says ${await anon.textContent('#login-error')}`);
    await anon.click('#login-lang');
    assert((await anon.textContent('#login-error')) === dict.en['login.wrong'], 'the error did not follow the language switch');
    assert((await anon.textContent('#login-submit')) === dict.en['login.submit'], 'the form did not follow the language switch');
    await anon.click('#login-lang');
    await shot0(anon, '0-login-wrong');
    // failures for one name are throttled: 429, with the wait in words
    let status;
    for (let i = 0; i < 8 && status !== '429'; i++) {
      await anon.fill('#login-name', 'no.such.user');
      await anon.fill('#login-password', `guess ${i}`);
      const answer = anon.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
      await anon.click('#login-submit');
      status = String((await answer).status());
      await anon.waitForSelector(`#login-error[data-status="${status}"]`);
    }
    assert(status === '429', `no throttling after 8 failed logins (last ${status})`);
    const throttled = await anon.textContent('#login-error');
    assert(/^登录失败次数过多，请 \d+ (秒|分钟)后再试$/.test(throttled), `throttled login says ${throttled}`);
    assert(!answered.some(([r, st]) => r !== 'POST /api/v1/session' && st < 400), `data answered without a session: ${JSON.stringify(answered)}`);
    await shot0(anon, '0-login-throttled');
    await anon.context().close();
  });

  // First paint is measured from the moment the session is known (the
  // login's answer): typing the password is not the page's time. A first
  // visit warms what a running server has warm anyway (its tile cache;
  // tiles are rendered once per data version): its first paint is
  // reported as cold. The measured visits are fresh browser contexts, so
  // nothing is cached on the browser side.
  const sinceLogin = (p) => p.evaluate(() => Math.round(window.__wangge.firstPaintMs - window.__wangge.sessionMs));
  {
    const warm = await newPage(consoleErrors);
    await login(warm, cmd);
    await warm.waitForFunction(() => window.__wangge?.firstIdleMs, null, { timeout: 60000 });
    timings.coldServerFirstPaintMs = await sinceLogin(warm);
    await warm.context().close();
  }
  // Four more fresh visits: the budget is checked on the best of five,
  // so a neighbour's compile job on the shared 2 cores does not fail it;
  // all five are reported. Each is then reloaded signed in: that first
  // paint counts from navigation (who am I, then the city's bounds).
  const paints = [];
  const reloads = [];
  for (let i = 0; i < 4; i++) {
    const p = await newPage(consoleErrors);
    await login(p, cmd);
    await p.waitForFunction(() => window.__wangge?.firstPaintMs, null, { timeout: 60000 });
    paints.push(await sinceLogin(p));
    await p.reload();
    await p.waitForFunction(() => window.__wangge?.firstPaintMs, null, { timeout: 60000 });
    reloads.push(Math.round(await p.evaluate(() => window.__wangge.firstPaintMs)));
    await p.context().close();
  }
  timings.firstPaintsReloadedMs = reloads;
  // the page the steps drive: the commander's, then the planner's, the
  // approver's and the responder's (each its own browser context)
  let page = await newPage(consoleErrors);
  let planner;
  let approver;
  let plannerPage;
  let approverPage;
  const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });

  await step('city view: signed in as the city commander, first paint under 2 s after login, canvas painted', async () => {
    // Warm the server's tile cache the way a second visitor finds it?
    // No: the first visit is measured as is (tiles are warmed at start).
    await login(page, cmd);
    await page.waitForFunction(() => window.__wangge?.firstPaintMs, null, { timeout: 30000 });
    await idle(page);
    const t = await page.evaluate(() => ({ session: window.__wangge.sessionMs, paint: window.__wangge.firstPaintMs, idle: window.__wangge.firstIdleMs,
      script: window.__wangge.scriptMs, tilejson: window.__wangge.tileJSONMs, load: window.__wangge.loadMs,
      districts: window.__wangge.districtsLoadedMs }));
    timings.marksMs = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)]));
    paints.push(Math.round(t.paint - t.session));
    timings.firstPaintsMs = paints;
    timings.firstPaintMs = Math.min(...paints);
    timings.firstIdleMs = Math.round(t.idle - t.session);
    const p = await paintedShare(page);
    timings.cityPainted = p;
    await shot('1-city');
    assert(p.share > 0.1 && p.colours > 8, `city canvas looks blank: ${JSON.stringify(p)}`);
    const title = await page.textContent('#topbar h1');
    assert(title.includes('网格'), `title not Chinese: ${title}`);
    const user = await page.textContent('#user');
    assert(user === `${cmd.name} · ${dict.zh['role.commander']} · ${dict.zh['region.city']}`, `header says ${user}`);
    assert(await page.isVisible('#logout') && await page.isVisible('#modes button[data-mode="responder"]') && await page.isHidden('#modes button[data-mode="planner"]'),
      'a commander\'s modes: command and responders, no planner');
    if (timings.firstPaintMs >= FIRST_PAINT_BUDGET_MS) {
      // On a machine oversubscribed by other work (load per core > 1.5,
      // e.g. a colleague's go test -race) the budget says nothing about
      // the page: the figures are reported, not judged, unless
      // WANGGE_STRICT_PAINT=1.
      const load = os.loadavg()[0] / os.cpus().length;
      timings.loadPerCore = Math.round(load * 100) / 100;
      const msg = `first paint ${paints.join(', ')} ms: none under ${FIRST_PAINT_BUDGET_MS} ms`;
      if (load > 1.5 && process.env.WANGGE_STRICT_PAINT !== '1') console.log(`note: ${msg}, at load ${timings.loadPerCore} per core: not judged`);
      else throw new Error(msg);
    }
  });

  let district;
  await step('district: click drills down, panel counts equal /api/v1/regions', async () => {
    // the centre of the biggest district on screen
    const hit = await page.evaluate(() => {
      const m = window.__wangge.map;
      const fs = m.queryRenderedFeatures({ layers: ['districts-fill'] });
      const c = m.getCanvas().getBoundingClientRect();
      for (const f of fs) {
        // find a pixel of this district: sample a grid of points
        for (let y = 0.3; y < 0.9; y += 0.05)
          for (let x = 0.1; x < 0.9; x += 0.05) {
            const px = [c.width * x, c.height * y];
            const h = m.queryRenderedFeatures(px, { layers: ['districts-fill'] })[0];
            if (h && h.properties.code === f.properties.code && px[0] > 300) return { code: h.properties.code, x: px[0], y: px[1] };
          }
      }
      return null;
    });
    assert(hit, 'no district on screen');
    district = hit.code;
    await page.mouse.click(hit.x, hit.y);
    await page.waitForSelector('#panel:not([hidden]) #panel-counts dd[data-key="households"]');
    await page.waitForFunction(() => !document.querySelector('#panel-body').textContent.includes('加载中'));
    const api = await (await call(cmd, `/api/v1/regions/${district}`)).json();
    const shown = await page.textContent('#panel-counts dd[data-key="households"]');
    assert(Number(shown.replace(/,/g, '')) === api.counts.households, `households shown ${shown}, API ${api.counts.households}`);
    const sub = await page.textContent('#panel .sub');
    assert(sub.includes(district), `panel is not the district's: ${sub}`);
    await idle(page);
    const p = await paintedShare(page);
    timings.districtPainted = p;
    timings.districtZoom = await page.evaluate(() => window.__wangge.map.getZoom());
    await shot('2-district');
    assert(p.share > 0.03 && p.colours > 8, `district canvas looks blank: ${JSON.stringify(p)}`);
  });

  let grid;
  let liveEvent;
  await step('grid: click at grid zoom opens the grid panel with the API counts', async () => {
    // fly to the middle of a grid of that district, at grid zoom
    const target = await page.evaluate(async (district) => {
      const m = window.__wangge.map;
      const fs = m.querySourceFeatures('grids', { sourceLayer: 'grids' }).filter((f) => String(f.properties.code).startsWith(district));
      if (!fs.length) {
        m.jumpTo({ zoom: 13 });
        await new Promise((r) => m.once('idle', r));
      }
      const g = (fs.length ? fs : m.querySourceFeatures('grids', { sourceLayer: 'grids' }))[0];
      const ring = g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates[0][0];
      let [x0, y0, x1, y1] = [180, 90, -180, -90];
      for (const [x, y] of ring) {
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
      m.jumpTo({ center: [(x0 + x1) / 2, (y0 + y1) / 2], zoom: 15.5 });
      await new Promise((r) => m.once('idle', r));
      // a pixel inside a grid and outside buildings (a click on a
      // building selects the building)
      const c = m.getCanvas().getBoundingClientRect();
      for (let r = 0; r < 200; r += 6)
        for (let a = 0; a < 6.28; a += 0.4) {
          const px = [c.width / 2 + r * Math.cos(a), c.height / 2 + r * Math.sin(a)];
          const gr = m.queryRenderedFeatures(px, { layers: ['grids-fill'] })[0];
          const b = m.queryRenderedFeatures([[px[0] - 4, px[1] - 4], [px[0] + 4, px[1] + 4]], { layers: ['buildings-fill'] });
          if (gr && !b.length) return { code: String(gr.properties.code), x: px[0], y: px[1] };
        }
      return null;
    }, district);
    assert(target, 'no clickable grid found');
    grid = target.code;
    await page.mouse.click(target.x, target.y);
    await page.waitForFunction((code) => document.querySelector('#panel .sub')?.textContent.includes(code), grid);
    await page.waitForFunction(() => !document.querySelector('#panel-body').textContent.includes('加载中'));
    const api = await (await call(cmd, `/api/v1/regions/${grid}`)).json();
    for (const k of ['households', 'residents']) {
      const shown = await page.textContent(`#panel-counts dd[data-key="${k}"]`);
      assert(Number(shown.replace(/,/g, '')) === api.counts[k], `grid ${grid} ${k} shown ${shown}, API ${api.counts[k]}`);
    }
    await idle(page);
    const p = await paintedShare(page);
    timings.gridPainted = p;
    await shot('3-grid');
    assert(p.share > 0.2 && p.colours > 8, `grid canvas looks blank: ${JSON.stringify(p)}`);
  });

  await step('building: a click at building zoom opens its panel with the masked residents', async () => {
    const target = await page.evaluate(async () => {
      const m = window.__wangge.map;
      const b0 = m.querySourceFeatures('buildings', { sourceLayer: 'buildings' })[0];
      if (!b0) return null;
      const ring = b0.geometry.type === 'Polygon' ? b0.geometry.coordinates[0] : b0.geometry.coordinates[0][0];
      const cx = ring.reduce((s, p) => s + p[0], 0) / ring.length;
      const cy = ring.reduce((s, p) => s + p[1], 0) / ring.length;
      m.jumpTo({ center: [cx, cy], zoom: 17.5 });
      await new Promise((r) => m.once('idle', r));
      const c = m.getCanvas().getBoundingClientRect();
      for (let r = 0; r < 300; r += 5)
        for (let a = 0; a < 6.28; a += 0.3) {
          const px = [c.width / 2 + r * Math.cos(a), c.height / 2 + r * Math.sin(a)];
          const b = m.queryRenderedFeatures(px, { layers: ['buildings-fill'] })[0];
          if (b && b.id != null) return { id: b.id, x: px[0], y: px[1] };
        }
      return null;
    });
    assert(target, 'no building on screen at z17');
    await page.mouse.click(target.x, target.y);
    await page.waitForSelector('#panel ol.households li', { timeout: 10000 });
    const api = await (await call(cmd, `/api/v1/buildings/${target.id}`)).json();
    const shown = await page.textContent('#panel-counts dd[data-key="households"]');
    assert(Number(shown) === api.households.length, `households shown ${shown}, API ${api.households.length}`);
    const text = await page.textContent('#panel ol.households');
    const first = api.households[0].residents?.[0]?.name;
    assert(!first || text.includes(first), `resident ${first} not listed`);
    assert(!/\d{11}/.test(text), 'an unmasked phone or id number is on the page');
    await shot('4-building');
  });

  await step('search: a street found by name opens its panel', async () => {
    const d = await (await call(cmd, `/api/v1/regions/${district}`)).json();
    const street = d.children[0];
    await page.fill('#search', street.name);
    await page.waitForSelector('#search-results:not([hidden]) li small');
    const items = await page.$$('#search-results li');
    let clicked = false;
    for (const it of items) {
      if ((await it.textContent()).includes(street.code)) {
        await it.click();
        clicked = true;
        break;
      }
    }
    assert(clicked, `${street.code} not among the results`);
    await page.waitForFunction((code) => document.querySelector('#panel .sub')?.textContent.includes(code), street.code);
    await page.fill('#search', '');
  });

  await step('responders: a click lists the nearest posts and units with the API distances', async () => {
    await page.click('#modes button[data-mode="responder"]');
    const c = await page.evaluate(() => {
      const r = window.__wangge.map.getCanvas().getBoundingClientRect();
      return { x: r.width * 0.6, y: r.height * 0.5 };
    });
    await page.mouse.click(c.x, c.y);
    await page.waitForSelector('#nearest-list li');
    const ll = await page.evaluate((c) => window.__wangge.map.unproject([c.x, c.y]), c);
    const api = await (await call(cmd, `/api/v1/responders/nearest?lon=${ll.lng}&lat=${ll.lat}&k=8`)).json();
    const items = await page.$$eval('#nearest-list li', (ls) => ls.map((l) => ({ id: l.dataset.id, dist: l.querySelector('.dist').textContent })));
    assert(items.length === api.responders.length && items.length > 0, `list ${items.length} vs API ${api.responders.length}`);
    assert(items[0].id === `${api.responders[0].type}:${api.responders[0].id}`, `first ${items[0].id} vs ${api.responders[0].type}:${api.responders[0].id}`);
    const lines = await page.evaluate(() => window.__wangge.nearestLines);
    await idle(page);
    await shot('4-responders');
    assert(lines === items.length, `${lines} lines drawn for ${items.length} responders`);
    await page.click('#modes button[data-mode="command"]');
  });

  await step('live: an event posted through the API appears within 2 s', async () => {
    await page.waitForFunction(() => window.__wangge.liveState === 'live', null, { timeout: 10000 });
    const centre = await page.evaluate(() => window.__wangge.map.getCenter());
    const list = await (await call(cmd, `/api/v1/events?limit=1`)).json();
    const category = list.events?.[0]?.category;
    assert(category, 'no event category to post with');
    const t0 = Date.now();
    const r = await call(cmd, '/api/v1/events', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ category, location: { lon: centre.lng, lat: centre.lat }, description: '前端测试事件', reporter: 'browser test', source: 'hotline_12345' }),
    });
    const body = await r.json();
    assert(r.status === 201, `POST /api/v1/events = ${r.status} ${JSON.stringify(body)}`);
    const t1 = Date.now(); // committed: the event exists from here on
    timings.livePostMs = t1 - t0;
    const id = body.id ?? body.event?.id;
    liveEvent = { id, lon: centre.lng, lat: centre.lat, category };
    await page.waitForFunction((id) => String(window.__wangge.lastIncident?.id) === String(id), id, { timeout: 10000, polling: 50 });
    // the page stamps the message's arrival (same machine, same clock)
    timings.liveMs = (await page.evaluate(() => window.__wangge.lastIncident.receivedAt)) - t1;
    assert(timings.liveMs < 2000, `the event reached the page ${timings.liveMs} ms after the API committed it`);
    // the KPI panel follows: today's reported count equals the API's
    const kpi = await (await call(cmd, `/api/v1/kpi`)).json();
    await page.waitForFunction(
      (n) => document.querySelector('#kpi-body [data-key="kpi.reported"]')?.textContent.replace(/,/g, '') === String(n),
      kpi.today.all.reported, { timeout: 5000 });
    await shot('5-live');
  });

  await step('responders: click the incident, dispatch the nearest available unit', async () => {
    await page.click('#modes button[data-mode="responder"]');
    const px = await page.evaluate((e) => {
      const p = window.__wangge.map.project([e.lon, e.lat]);
      return { x: p.x, y: p.y };
    }, liveEvent);
    await page.mouse.click(px.x, px.y);
    await page.waitForFunction((id) => document.querySelector('#panel .sub')?.textContent.includes(`#${id}`), liveEvent.id);
    await page.selectOption('#panel select[name="status"]', 'available');
    await page.waitForSelector('#nearest-list button.dispatch');
    // The list re-renders as the live stream moves units: find the unit by
    // id, then click through a locator (re-resolved if the row is redrawn).
    const id = await page.$eval('#nearest-list li:has(button.dispatch)', (li) => li.getAttribute('data-id'));
    const unit = id.split(':')[1];
    await page.locator(`#nearest-list li[data-id="${id}"] button.dispatch`).click();
    await page.waitForSelector('#nearest-list button.dispatch.done');
    const r = await (await call(cmd, `/api/v1/events/${liveEvent.id}/responders?k=20&status=en_route`)).json();
    assert(r.responders.some((x) => String(x.id) === unit), `unit ${unit} is not en route after dispatch`);
    await shot('6-dispatch');
    await page.click('#modes button[data-mode="command"]');
  });

  await step('KPI: pushed on the stream (kpi.changed): an incident raises "reported today" without a request to /api/v1/kpi', async () => {
    const reported = () => page.$eval('#kpi-body [data-key="kpi.reported"]', (el) => Number(el.textContent.replace(/,/g, '')));
    const frames = () => page.evaluate(() => window.__wangge.kpiFeed.stats.framesApplied);
    const post = async (description) => {
      const r = await call(cmd, '/api/v1/events', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ category: liveEvent.category, location: { lon: liveEvent.lon, lat: liveEvent.lat }, description, reporter: 'browser test', source: 'hotline_12345' }),
      });
      assert(r.status === 201, `POST /api/v1/events = ${r.status} ${await r.text()}`);
    };
    await page.waitForFunction(() => window.__wangge.liveState === 'live', null, { timeout: 10000 });
    // A first incident and its frame: the page then trusts the push (no
    // fallback poll for 90 s), so any request below is one too many.
    const f0 = await frames();
    await post('前端测试：指标推送（预热）');
    await page.waitForFunction((n) => window.__wangge.kpiFeed.stats.framesApplied > n, f0, { timeout: 10000 })
      .catch(() => assert(false, 'no kpi.changed frame applied after an incident (does the server push kpi.changed?)'));
    const asked = [];
    const onRequest = (r) => new URL(r.url()).pathname === '/api/v1/kpi' && asked.push(`${r.method()} ${r.url()}`);
    page.on('request', onRequest);
    try {
      const before = await reported();
      await post('前端测试：指标推送');
      const kpi = await (await call(cmd, '/api/v1/kpi')).json(); // the test's own request, not the page's
      assert(kpi.today.all.reported > before, `the API counts ${kpi.today.all.reported} reported today, the panel showed ${before} before the incident`);
      await page.waitForFunction(
        (n) => document.querySelector('#kpi-body [data-key="kpi.reported"]')?.textContent.replace(/,/g, '') === String(n),
        kpi.today.all.reported, { timeout: 5000 })
        .catch(async () => assert(false, `the panel shows ${await reported()} reported today, the API ${kpi.today.all.reported}`));
      // the wall used to reload the KPI a second after each incident: wait that out
      await sleep(1500);
      assert(asked.length === 0, `the page asked for the KPI ${asked.length} time(s) after the incident: ${asked.join(', ')}`);
    } finally {
      page.off('request', onRequest);
    }
    // "updated HH:MM:SS" from the body shown
    const note = await page.evaluate(() => ({ text: document.querySelector('#kpi-updated')?.textContent, at: document.querySelector('#kpi-updated')?.dataset.at,
      shown: window.__wangge.kpiFeed.shown?.generated_at }));
    assert(note.at && note.at === note.shown, `the note is from ${note.at}, the figures from ${note.shown}`);
    const hms = new Date(note.at).toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    assert(note.text === dict.zh['kpi.updated'].replace('{time}', hms), `the KPI note says ${note.text}, not ${hms}`);
    await shot('7-kpi-pushed');
  });

  await step('events: time filter and heat map', async () => {
    await page.selectOption('#events-window', '7');
    await page.check('#events-open');
    const tiles = await page.evaluate(() => window.__wangge.eventsTiles);
    assert(tiles?.[0]?.includes('status=open') && /since=\d{4}-\d\d-\d\d/.test(tiles[0]), `events tiles ${tiles}`);
    await page.check('#layer-list input[data-group="heat"]');
    // the filtered tiles loaded (a refused filter would be a map error)
    await page.waitForFunction(() => {
      const m = window.__wangge.map;
      return m.isSourceLoaded('events') && m.getSource('events').tiles?.[0]?.includes('status=open');
    }, null, { timeout: 20000 });
    await page.evaluate(() => new Promise((r) => window.__wangge.map.once('render', r)));
    const errs = await page.evaluate(() => window.__wangge.errors);
    assert(errs.length === 0, `map errors: ${errs.join('; ')}`);
    await shot('8-heat');
    await page.uncheck('#layer-list input[data-group="heat"]');
    await page.selectOption('#events-window', '0');
    await page.uncheck('#events-open');
  });

  await step('live: a dropped stream shows stale while offline, then reconnects', async () => {
    const ctx = page.context();
    offline = true; // failed requests while offline are expected console errors
    await ctx.setOffline(true);
    // Emulated offline does not cut a stream already open: drop it as a
    // lost connection does (closed, then the error event).
    await page.evaluate(() => {
      const es = window.__wangge.stream.es;
      es.close();
      es.onerror();
    });
    await page.waitForFunction(() => window.__wangge.liveState === 'stale', null, { timeout: 15000 });
    assert((await page.getAttribute('#live', 'class')).includes('live-stale'), 'no stale indicator');
    await shot('7-stale');
    await ctx.setOffline(false);
    await page.waitForFunction(() => window.__wangge.liveState === 'live', null, { timeout: 15000 });
    offline = false;
  });

  await step('grid colouring by open events from /api/v1/stats, with a legend', async () => {
    const statsResp = page.waitForResponse((r) => r.url().includes('/api/v1/stats?level=grid&metric=open_events'));
    await page.selectOption('#metric', 'open_events');
    const r = await statsResp;
    assert(r.status() === 200, `stats answered ${r.status()}`);
    await page.waitForSelector('#legend .row');
    const rows = await page.$$eval('#legend .row', (rs) => rs.map((x) => x.textContent));
    await idle(page);
    await shot('6-open-events');
    assert(rows.length >= 1, 'no legend rows');
    // zoomed out below the grids, the same metric colours streets
    const z = await page.evaluate(() => window.__wangge.map.getZoom());
    const streetsResp = page.waitForResponse((r) => r.url().includes('/api/v1/stats?level=street&metric=open_events'));
    await page.evaluate(() => window.__wangge.map.jumpTo({ zoom: 9 }));
    assert((await streetsResp).status() === 200, 'street stats failed');
    await page.waitForFunction(() => document.querySelector('#legend .sub')?.textContent === '街道/乡镇');
    await page.evaluate((z) => window.__wangge.map.jumpTo({ zoom: z }), z);
  });

  await step('a grid edit drafted by a planner and applied by an approver (API) reaches the map without a reload', async () => {
    // four eyes: a planner of the district drafts, an approver of its
    // parent region (the city) applies
    planner = addUser('li.gui', 'planner', district);
    approver = addUser('zhao.shen', 'approver');
    // a parcel on the edge of two grids of the grid's community
    const rows = execFileSync('psql', [dbURL, '-qAtF,', '-c', `SELECT p.id, g.code FROM parcels p JOIN grids g
      ON g.community_code = p.community_code AND g.code <> p.grid_code AND g.status = 'active'
      WHERE p.community_code = '${grid.slice(0, 12)}'
        AND ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, g.geom), 2)::geography) > 1
      ORDER BY p.id, g.code LIMIT 20`]).toString().trim().split('\n').filter(Boolean);
    const before = await page.evaluate(() => window.__wangge.map.getSource('grids').tiles[0]);
    let planId;
    for (const row of rows) {
      const [parcel, to] = row.split(',');
      const r = await postAs(planner, '/api/v1/plans', { by: planner.name, reason: 'move the boundary', operations: [{ op: 'reassign', parcels: [Number(parcel)], to }] });
      if (r.status === 201) {
        planId = (await r.json()).plan_id;
        break;
      }
    }
    assert(planId, `no parcel of ${grid.slice(0, 12)} could be reassigned (${rows.length} candidates)`);
    const a = await postAs(approver, `/api/v1/plans/${planId}/apply`, {});
    assert(a.status === 200, `apply: ${a.status} ${await a.text()}`);
    await page.waitForFunction((b) => window.__wangge.map.getSource('grids').tiles[0] !== b, before, { timeout: 10000 });
    const after = await page.evaluate(() => window.__wangge.map.getSource('grids').tiles[0]);
    assert(/[?&]v=\d+/.test(after), `grids tiles ${after}`);
    timings.gridEditTiles = { before, after };
  });

  await step('English switch', async () => {
    await page.click('#lang');
    const title = await page.textContent('#topbar h1');
    assert(title.startsWith('Grid governance'), `title after switch: ${title}`);
    const note = await page.textContent('#kpi-updated');
    assert(/^updated \d\d:\d\d:\d\d$/.test(note), `the KPI note in English: ${note}`);
    await page.click('#lang');
  });

  await step('sign out: the login page again, the session is gone', async () => {
    await Promise.all([page.waitForEvent('load'), page.click('#logout')]);
    await page.waitForSelector('#login:not([hidden]) #login-name');
    const st = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    assert(st === 401, `GET /api/v1/session after sign-out: ${st}`);
    await page.context().close();
  });

  let planned; // the plan the planner submits: { id, target, grids }
  await step('planner: select a grid, reassign a neighbour\'s parcel, preview = submitted for approval, no Apply', async () => {
    page = await newPage(consoleErrors);
    await login(page, planner);
    await page.waitForFunction(() => window.__wangge?.firstPaintMs, null, { timeout: 30000 });
    // what a planner may do: draft, not apply; no dispatch, no residents
    const can = await page.evaluate(() => window.__wangge.can);
    assert(can.planDraft && !can.planApply && !can.dispatch && !can.residents, `planner's controls ${JSON.stringify(can)}`);
    assert(await page.isHidden('#modes button[data-mode="responder"]'), 'a planner sees the responders view');
    assert((await page.textContent('#user')).includes(dict.zh['role.planner']), 'the header does not name the planner');
    // no buildings.read: a building click shows what its tile carries,
    // asks nothing of /buildings and lists no household
    await page.click('#modes button[data-mode="command"]');
    const asked = [];
    page.on('request', (r) => r.url().includes('/api/v1/buildings/') && asked.push(r.url()));
    const [blon, blat] = execFileSync('psql', [dbURL, '-qAtF,', '-c', `SELECT ST_X(c), ST_Y(c) FROM buildings b, LATERAL ST_PointOnSurface(b.geom) c
      WHERE b.grid_code LIKE '${grid.slice(0, 12)}%' ORDER BY ST_Area(b.geom) DESC LIMIT 1`]).toString().trim().split(',').map(Number);
    const bld = await page.evaluate(async ([lon, lat]) => {
      const m = window.__wangge.map;
      m.jumpTo({ center: [lon, lat], zoom: 17.5 });
      await new Promise((r) => m.once('idle', r));
      const q = m.project([lon, lat]);
      const b = m.queryRenderedFeatures([q.x, q.y], { layers: ['buildings-fill'] })[0];
      return b && { id: b.id, x: q.x, y: q.y };
    }, [blon, blat]);
    assert(bld, 'no building on screen for the planner');
    await page.mouse.click(bld.x, bld.y);
    await page.waitForFunction(() => document.querySelector('#panel:not([hidden]) .sub')?.textContent.startsWith('房屋'));
    await sleep(500);
    assert(!asked.length && !(await page.$('#panel ol.households')), `a planner's building click asked ${asked.join(', ')}`);
    await page.click('#modes button[data-mode="planner"]');
    // parcels of the grid's neighbours that touch it along an edge; the
    // first the API accepts (a draft plan changes nothing) is the one
    const rows = execFileSync('psql', [dbURL, '-qAtF,', '-c', `SELECT p.id, p.grid_code, ST_X(c), ST_Y(c) FROM grids g
      JOIN parcels p ON p.community_code = g.community_code AND p.grid_code <> g.code
        AND ST_Length(ST_CollectionExtract(ST_Intersection(p.geom, g.geom), 2)::geography) > 5,
      LATERAL ST_PointOnSurface(p.geom) c
      WHERE g.code = '${grid}'
      ORDER BY (SELECT coalesce(sum(b.households), 0) FROM buildings b WHERE b.parcel_id = p.id) DESC, p.id LIMIT 20`]).toString().trim().split('\n').filter(Boolean);
    let target;
    for (const row of rows) {
      const [id, from, lon, lat] = row.split(',');
      const r = await postAs(planner, '/api/v1/plans', { by: planner.name, operations: [{ op: 'reassign', parcels: [Number(id)], to: grid }] });
      if (r.status === 201) {
        target = { id: Number(id), from, lon: Number(lon), lat: Number(lat) };
        break;
      }
    }
    assert(target, `no parcel of a neighbour of ${grid} can be reassigned to it (${rows.length} candidates)`);
    await page.click('#modes button[data-mode="planner"]');
    await page.waitForSelector('#planner');
    await page.evaluate((t) => window.__wangge.map.jumpTo({ center: [t.lon, t.lat], zoom: 17 }), target);
    await idle(page);
    // select the grid: a pixel of it left of the panel
    const px = await page.evaluate(({ grid, t }) => {
      const m = window.__wangge.map;
      const c = m.project([t.lon, t.lat]);
      for (let r = 10; r < 400; r += 8)
        for (let a = 0; a < 6.28; a += 0.3) {
          const p = [c.x + r * Math.cos(a), c.y + r * Math.sin(a)];
          if (p[0] < 20 || p[0] > 900 || p[1] < 80 || p[1] > 780) continue;
          const g = m.queryRenderedFeatures(p, { layers: ['grids-fill'] })[0];
          if (g && String(g.properties.code) === grid) return { grid: { x: p[0], y: p[1] }, parcel: { x: c.x, y: c.y } };
        }
      return null;
    }, { grid, t: target });
    assert(px, `grid ${grid} not on screen next to parcel ${target.id}`);
    await page.mouse.click(px.grid.x, px.grid.y);
    await page.waitForFunction((g) => document.querySelector('#planner .sub[data-grid]')?.dataset.grid === g, grid);
    await page.waitForSelector('#plan-history li[data-version]');
    assert(!(await page.$('#plan-history button.revert')), 'a planner is offered revert');
    await idle(page);
    await shot('9-planner-grid');
    // "move out to" offers what the API says touches the grid, in its order
    await page.waitForFunction(() => Array.isArray(window.__wangge.plannerMovable));
    const offered = await page.$$eval('#plan-out option', (os) => os.map((o) => o.value).filter(Boolean));
    const nb = await (await call(planner, `/api/v1/grids/${grid}/neighbours`)).json();
    const movable = nb.neighbours.filter((n) => n.same_community).map((n) => n.code);
    assert(JSON.stringify(offered) === JSON.stringify(movable) && movable.includes(target.from),
      `move-out list ${JSON.stringify(offered)}, API ${JSON.stringify(movable)}, parcel from ${target.from}`);
    // pick the neighbour's parcel
    await page.mouse.click(px.parcel.x, px.parcel.y);
    await page.waitForFunction(() => document.querySelector('#planner .picked')?.dataset.count === '1');
    const pick = await page.evaluate(() => window.__wangge.plannerLastPick);
    assert(pick.id === target.id && pick.grid === target.from, `picked ${JSON.stringify(pick)}, wanted parcel ${target.id} of ${target.from}`);
    await shot('10-planner-pick');
    // preview = submit for approval: households before → after as the API says
    assert((await page.textContent('#plan-preview')) === dict.zh['plan.submit'], 'the preview button does not say it submits');
    await page.click('#plan-preview');
    await page.waitForSelector('#plan-result[data-ok="1"] tr[data-code]', { timeout: 10000 });
    const planId = await page.getAttribute('#plan-result', 'data-plan');
    const shown = await page.$$eval('#plan-result tr[data-code]', (rs) => rs.map((r) => [r.dataset.code, Number(r.dataset.before), Number(r.dataset.after)]));
    const plan = await (await call(planner, `/api/v1/plans/${planId}`)).json();
    const want = plan.grids.map((g) => [g.code, g.households.before, g.households.after]);
    assert(JSON.stringify(shown) === JSON.stringify(want), `preview shows ${JSON.stringify(shown)}, API ${JSON.stringify(want)}`);
    assert(shown.some(([c]) => c === grid) && shown.some(([c]) => c === target.from), `preview grids ${JSON.stringify(shown)}`);
    timings.plannerPreview = { plan: Number(planId), grids: shown };
    await idle(page);
    await shot('11-planner-preview');
    const msg = await page.textContent('#planner .msg.ok');
    assert(msg === dict.zh['plan.submitted'].replace('{id}', planId), `after the preview: ${msg}`);
    assert(!(await page.$('#plan-apply')), 'a planner is offered Apply');
    assert(plan.status === 'draft', `the submitted plan is ${plan.status}`);
    planned = { id: planId, target, grids: shown };
    plannerPage = page;
  });

  await step('approver: opens the submitted plan by its number, applies it; the map moves to the new tile version', async () => {
    assert(planned, 'no plan was submitted');
    const { target, id: planId } = planned;
    page = approverPage = await newPage(consoleErrors);
    await login(page, approver);
    await page.waitForFunction(() => window.__wangge?.firstPaintMs, null, { timeout: 30000 });
    await page.waitForSelector('#planner #plan-open-id'); // an approver starts in the planner's view
    assert(!(await page.$('#planner .tools')) && !(await page.$('#plan-preview')), 'an approver has drafting tools');
    // a number that is no plan: said in the page's words
    await page.fill('#plan-open-id', '999999');
    await page.click('#plan-open');
    await page.waitForSelector('#planner .msg.error[data-code="not_found"]', { timeout: 10000 });
    assert((await page.textContent('#planner .msg.error')) === dict.zh['err.not_found'], 'an unknown plan is not told as not found');
    await page.fill('#plan-open-id', planId);
    await page.click('#plan-open');
    await page.waitForSelector('#plan-result tr[data-code]', { timeout: 10000 });
    const shown = await page.$$eval('#plan-result tr[data-code]', (rs) => rs.map((r) => [r.dataset.code, Number(r.dataset.before), Number(r.dataset.after)]));
    const plan = await (await call(approver, `/api/v1/plans/${planId}`)).json();
    const want = plan.grids.map((g) => [g.code, g.households.before, g.households.after]);
    assert(JSON.stringify(shown) === JSON.stringify(want), `opened plan shows ${JSON.stringify(shown)}, API ${JSON.stringify(want)}`);
    assert((await page.textContent('#plan-result')).includes(planner.name), 'the opened plan does not name its planner');
    await page.waitForSelector('#plan-apply');
    await page.evaluate((t) => window.__wangge.map.jumpTo({ center: [t.lon, t.lat], zoom: 17 }), target);
    await idle(page);
    await shot('11-approver-plan');
    const px = { parcel: await page.evaluate((t) => {
      const q = window.__wangge.map.project([t.lon, t.lat]);
      return { x: q.x, y: q.y };
    }, target) };
    // apply: the parcel's tiles come back with the grid's code
    const before = await page.evaluate(() => window.__wangge.map.getSource('parcels').tiles[0]);
    await page.click('#plan-apply');
    await page.waitForSelector('#planner .msg.ok', { timeout: 10000 });
    await page.waitForFunction((b) => window.__wangge.map.getSource('parcels').tiles[0] !== b, before, { timeout: 10000 });
    let seen;
    for (let i = 0; i < 75; i++) {
      seen = await page.evaluate(({ p }) => {
        const m = window.__wangge.map;
        const f = m.queryRenderedFeatures([p.x, p.y], { layers: ['plan-parcels'] })[0];
        return f && { id: f.id, grid: f.properties.grid_code, tiles: m.getSource('parcels').tiles[0] };
      }, { p: px.parcel });
      if (seen?.grid === grid) break;
      await sleep(200);
    }
    await shot('12-planner-applied');
    if (seen?.grid !== grid) {
      const db = execFileSync('psql', [dbURL, '-qAtc', `SELECT grid_code FROM parcels WHERE id = ${target.id}`]).toString().trim();
      const z = 16;
      const n = 2 ** z;
      const x = Math.floor(((target.lon + 180) / 360) * n);
      const la = (target.lat * Math.PI) / 180;
      const y = Math.floor(((1 - Math.log(Math.tan(la) + 1 / Math.cos(la)) / Math.PI) / 2) * n);
      const r = await call(approver, seen.tiles.replace(base, '').replace('{z}', z).replace('{x}', x).replace('{y}', y));
      const ap = await page.evaluate(() => window.__wangge.plannerApply);
      throw new Error(`after apply the map shows ${JSON.stringify(seen)} at the parcel, not in ${grid}; db says ${db}; apply ${JSON.stringify(ap)}; tile ${r.status} ${r.headers.get('etag')}`);
    }
    const hist = await (await call(approver, `/api/v1/grids/${grid}/history`)).json();
    assert(String(hist.versions[0].plan_id) === planId, `history's newest version is of plan ${hist.versions[0].plan_id}, not ${planId}`);
    assert(await page.isHidden('#modes button[data-mode="responder"]'), 'an approver sees the responders view');
  });

  await step('approver reverts from the history; planner splits by a drawn line, redraws, merges with a neighbour (previews); the approver\'s stale apply', async () => {
    assert(plannerPage && approverPage, 'no planner or approver page');
    page = approverPage;
    // the grid edited above: reselect it and revert to its first version
    const hist0 = await (await call(approver, `/api/v1/grids/${grid}/history`)).json();
    const cur = hist0.versions[0];
    const bb = (g) => {
      const pts = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).flat(2);
      return [Math.min(...pts.map((p) => p[0])), Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[1]))];
    };
    const b = bb(cur.geometry);
    await page.evaluate((b) => window.__wangge.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: { left: 300, right: 380, top: 120, bottom: 80 }, duration: 0 }), b);
    await idle(page);
    const pickGrid = (want) => page.evaluate(({ grid, want }) => {
      const m = window.__wangge.map;
      const c = m.getCanvas().getBoundingClientRect();
      for (let y = 100; y < c.height - 40; y += 10)
        for (let x = 290; x < 930; x += 10) {
          const g = m.queryRenderedFeatures([x, y], { layers: ['grids-fill'] })[0];
          const code = g && String(g.properties.code);
          if (code && code === (want === 'self' ? grid : want)) return { code, x, y };
        }
      return null;
    }, { grid, want });
    const self = await pickGrid('self');
    assert(self, `grid ${grid} not on screen`);
    await page.mouse.click(self.x, self.y);
    await page.waitForFunction((g) => document.querySelector('#planner .sub[data-grid]')?.dataset.grid === g, grid);
    const first = hist0.versions.at(-1).version;
    await page.waitForSelector(`#plan-history li[data-version="${first}"] button.revert`);
    await page.click(`#plan-history li[data-version="${first}"] button.revert`);
    await page.waitForSelector('#planner .msg.ok', { timeout: 10000 });
    const hist1 = await (await call(approver, `/api/v1/grids/${grid}/history`)).json();
    assert(hist1.versions[0].version === cur.version + 1 && hist1.versions[0].current, `after revert: ${JSON.stringify(hist1.versions.map((v) => v.version))}`);
    assert(JSON.stringify(hist1.versions[0].parcels) === JSON.stringify(hist0.versions.at(-1).parcels), 'the revert did not bring the first parcels back');
    await page.waitForFunction((v) => window.__wangge.plannerHistory?.[0]?.version === v, hist1.versions[0].version);
    await shot('13-approver-reverted');
    // the planner's drafts: on the planner's page
    page = plannerPage;
    // split: a line across the grid's middle, clicked then double-clicked
    // split and merge on a one-piece grid of the district (a grid in
    // pieces is cut in more than two by any line) with a line and a
    // neighbour the API accepts (drafts change nothing)
    const dry = async (op) => (await postAs(planner, '/api/v1/plans', { by: planner.name, operations: [op] })).status === 201;
    const cands = execFileSync('psql', [dbURL, '-qAtF,', '-c', `SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
      FROM grids WHERE status = 'active' AND ST_NumGeometries(geom) = 1 AND code LIKE '${district}%'
      ORDER BY households DESC NULLS LAST, code LIMIT 8`]).toString().trim().split('\n').filter(Boolean);
    let sg;
    let ll;
    for (const row of cands) {
      const [code, ...box] = row.split(',');
      const c = box.map(Number);
      const [dx, dy] = [(c[2] - c[0]) * 0.02, (c[3] - c[1]) * 0.02];
      for (const f of [0.5, 0.4, 0.6]) {
        const ls = [[[c[0] - dx, c[1] + f * (c[3] - c[1])], [c[2] + dx, c[1] + f * (c[3] - c[1])]],
          [[c[0] + f * (c[2] - c[0]), c[1] - dy], [c[0] + f * (c[2] - c[0]), c[3] + dy]]];
        for (const l of ls) {
          if (!ll && (await dry({ op: 'split', grid: code, line: l }))) {
            [sg, ll] = [{ code, box: c }, l];
          }
        }
      }
      if (ll) break;
    }
    assert(sg, `no grid of ${district} can be split by a straight line (${cands.length} tried)`);
    await page.click('#planner .actions button:last-child'); // another grid
    await page.evaluate((b) => window.__wangge.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: { left: 300, right: 380, top: 120, bottom: 80 }, duration: 0 }), sg.box);
    await idle(page);
    const other = await pickGrid(sg.code);
    assert(other, `grid ${sg.code} not on screen`);
    await page.mouse.click(other.x, other.y);
    await page.waitForFunction((g) => document.querySelector('#planner .sub[data-grid]')?.dataset.grid === g, sg.code);
    const line = await page.evaluate((ll) => ll.map((p) => {
      const q = window.__wangge.map.project(p);
      return [q.x, q.y];
    }), ll);
    await page.click('#planner .tools button[data-tool="split"]');
    // first a line beside the grid: refused, its problem circled on the map
    const beside = await page.evaluate((c) => {
      const m = window.__wangge.map;
      const x = c[0] - (c[2] - c[0]) * 0.02;
      return [0.6, 0.3].map((f) => {
        const q = m.project([x, c[1] + f * (c[3] - c[1])]);
        return [Math.max(q.x, 285), q.y];
      });
    }, sg.box);
    await page.mouse.click(beside[0][0], beside[0][1]);
    await page.mouse.dblclick(beside[1][0], beside[1][1]);
    await page.waitForSelector('#plan-result[data-ok="0"] ul.problems li', { timeout: 10000 });
    const refused = await page.evaluate(() => window.__wangge.plannerPreview.problems);
    const near = refused.find((p) => p.near)?.near;
    if (near) {
      await idle(page);
      const drawn = await page.evaluate((near) => {
        const m = window.__wangge.map;
        const q = m.project(near);
        return m.queryRenderedFeatures([[q.x - 3, q.y - 3], [q.x + 3, q.y + 3]], { layers: ['plan-problems'] }).length;
      }, near);
      assert(drawn > 0, `problem at ${near} not drawn on the map`);
    }
    timings.plannerRefused = refused.map((p) => p.rule);
    // the problems read in Chinese ("<grid>: <rule in words>"), the server's
    // English reason only in the tooltip
    const listed = await page.$$eval('#plan-result ul.problems li', (lis) => lis.map((li) => [li.textContent, li.title]));
    assert(JSON.stringify(listed) === JSON.stringify(refused.map((p) => [problemText(p, 'zh'), p.reason])),
      `problems shown ${JSON.stringify(listed)} for ${JSON.stringify(refused)}`);
    for (const [text] of listed) assert(/[\u4e00-\u9fff]/.test(text) && !refused.some((p) => text.includes(p.reason)), `problem not in Chinese: ${text}`);
    await shot('14-planner-problem');
    await page.mouse.click(line[0][0], line[0][1]);
    await page.mouse.dblclick(line[1][0], line[1][1]);
    await page.waitForSelector('#plan-result', { timeout: 10000 });
    const split = await page.evaluate(() => window.__wangge.plannerPreview);
    const splitOps = await page.evaluate(() => window.__wangge.planner.draft.ops());
    assert(splitOps.length === 1 && splitOps[0].op === 'split' && splitOps[0].line.length === 2, `split ops ${JSON.stringify(splitOps)}`);
    if (split.ok) assert(split.grids.some((g) => g.action === 'new'), `split preview without a new grid: ${JSON.stringify(split.grids)}`);
    else assert(split.problems.length && (await page.$$('#plan-result ul.problems li')).length === split.problems.length, 'refused split shows no problems');
    timings.plannerSplit = split.ok ? split.grids.map((g) => [g.code, g.action, g.households.after]) : split.problems.map((p) => p.rule);
    await idle(page);
    await shot('14-planner-split-preview');
    // redraw: an outline clicked point by point, closed by a double click
    await page.click('#plan-clear');
    await page.click('#planner .tools button[data-tool="draw"]');
    const ring = await page.evaluate((c) => {
      const m = window.__wangge.map;
      const at = (fx, fy) => {
        const q = m.project([c[0] + fx * (c[2] - c[0]), c[1] + fy * (c[3] - c[1])]);
        return [q.x, q.y];
      };
      return [at(0.1, 0.1), at(0.9, 0.1), at(0.9, 0.9), at(0.1, 0.9)];
    }, sg.box);
    for (const [x, y] of ring.slice(0, 3)) await page.mouse.click(x, y);
    await page.mouse.dblclick(ring[3][0], ring[3][1]);
    await page.waitForSelector('#plan-result', { timeout: 10000 });
    const drawOps = await page.evaluate(() => window.__wangge.planner.draft.ops());
    const bnd = drawOps[0]?.boundary ?? [];
    assert(drawOps.length === 1 && drawOps[0].op === 'draw' && bnd.length === 5 && JSON.stringify(bnd[0]) === JSON.stringify(bnd[4]),
      `draw ops ${JSON.stringify(drawOps)}`);
    const drawn = await page.evaluate(() => window.__wangge.plannerPreview);
    assert(drawn.ok ? drawn.grids.some((g) => g.code === sg.code) : drawn.problems.length > 0, `redraw preview ${JSON.stringify(drawn).slice(0, 300)}`);
    timings.plannerDraw = drawn.ok ? drawn.grids.map((g) => [g.code, g.action, g.households.after]) : drawn.problems.map((p) => p.rule);
    await shot('15-planner-redraw');
    // merge: click a neighbour of the same community
    await page.click('#plan-clear');
    await page.click('#planner .tools button[data-tool="merge"]');
    const adj = execFileSync('psql', [dbURL, '-qAtc', `SELECT n.code FROM grids g JOIN grids n ON n.community_code = g.community_code
      AND n.code <> g.code AND n.status = 'active' AND ST_Intersects(n.geom, g.geom) WHERE g.code = '${sg.code}' ORDER BY n.code`]).toString().trim().split('\n').filter(Boolean);
    let want = adj[0];
    for (const c of adj) {
      if (await dry({ op: 'merge', to: sg.code, from: c })) {
        want = c;
        break;
      }
    }
    const nb = await pickGrid(want);
    assert(nb, `neighbour ${want} of ${sg.code} not on screen`);
    await page.mouse.click(nb.x, nb.y);
    await page.waitForSelector('#plan-result', { timeout: 10000 });
    const merge = await page.evaluate(() => window.__wangge.plannerPreview);
    if (merge.ok) {
      const retired = merge.grids.find((g) => g.action === 'retired');
      assert(retired?.code === nb.code, `merge preview: ${JSON.stringify(merge.grids.map((g) => [g.code, g.action]))}`);
      const kept = merge.grids.find((g) => g.code === sg.code);
      assert(kept.households.after === kept.households.before + retired.households.before, 'merged households do not add up');
    } else assert(merge.problems.length, 'refused merge shows no problems');
    timings.plannerMerge = merge.ok ? merge.grids.map((g) => [g.code, g.action, g.households.after]) : merge.problems.map((p) => p.rule);
    await idle(page);
    await shot('16-planner-merge');
    // someone applies the split meanwhile: applying the merge answers 412,
    // the panel says so and the map refreshes
    if (merge.ok) {
      assert(!(await page.$('#plan-apply')), 'a planner is offered Apply');
      const r = await postAs(planner, '/api/v1/plans', { by: planner.name, operations: [{ op: 'split', grid: sg.code, line: ll }] });
      const id = (await r.json()).plan_id;
      const a = await postAs(approver, `/api/v1/plans/${id}/apply`, {});
      assert(a.status === 200, `apply of the split: ${a.status}`);
      // the approver opens the merge the planner submitted and applies it
      page = approverPage;
      await page.click('#planner .actions button:last-child'); // no grid: the "open plan" box
      await page.fill('#plan-open-id', String(merge.plan_id));
      await page.click('#plan-open');
      await page.waitForSelector('#plan-apply', { timeout: 10000 });
      await page.click('#plan-apply');
      await page.waitForSelector('#planner .msg.error', { timeout: 10000 });
      const st = await page.evaluate(() => window.__wangge.plannerApply);
      assert(st.status === 412, `apply of a stale plan answered ${st.status}`);
      const [staleText, staleTitle] = await page.$eval('#planner .msg.error', (d) => [d.textContent, d.title]);
      assert(staleText.startsWith(dict.zh['plan.stale']) && staleTitle, `stale message: ${staleText} (title ${staleTitle})`);
      assert(!(await page.$('#plan-apply')), 'a stale preview can still be applied');
      await shot('17-approver-stale');
    }
    // (three maps rendering at once on two cores slow every step after)
    await plannerPage.context().close();
    await approverPage.context().close();
  });

  await step('responder: its unit in the header, the events dispatched to it, the nearest responders', async () => {
    // a unit of the district, and an event the commander dispatches to it
    const [unit, ulon, ulat] = execFileSync('psql', [dbURL, '-qAtF,', '-c', `SELECT u.id, ST_X(u.geom), ST_Y(u.geom) FROM units u
      JOIN grids g ON ST_Contains(g.geom, u.geom) AND g.code LIKE '${district}%' AND g.status = 'active'
      WHERE u.kind <> 'grid_worker' AND u.status = 'available' ORDER BY u.id LIMIT 1`]).toString().trim().split(',').map(Number);
    assert(unit, `no available unit in ${district}`);
    const responder = addUser('chen.jun', 'responder', district, unit);
    const category = (await (await call(cmd, '/api/v1/events?limit=1')).json()).events?.[0]?.category;
    const ev = await postAs(cmd, '/api/v1/events', { category, location: { lon: ulon + 0.0005, lat: ulat }, description: '派单测试', reporter: 'browser test',
      source: 'hotline_12345' });
    const created = await ev.json();
    const id = created.id;
    assert(ev.status === 201 && id, `POST /events: ${ev.status}`);
    // (a grid-tier event may come in accepted already)
    const steps = [...(created.status === 'reported' ? [{ action: 'accept' }] : []), { action: 'dispatch', unit_id: unit }];
    for (const step of steps) {
      // the actor is the credential's; a server from before that still
      // asks for one in the body (400 "actor is required")
      let r = await postAs(cmd, `/api/v1/events/${id}/transitions`, step);
      if (r.status === 400 && /actor is required/.test(await r.clone().text())) r = await postAs(cmd, `/api/v1/events/${id}/transitions`, { ...step, actor: cmd.name });
      assert(r.ok, `${step.action}: ${r.status} ${await r.text()}`);
    }
    page = await newPage(consoleErrors);
    await login(page, responder);
    await page.waitForFunction(() => window.__wangge?.firstPaintMs, null, { timeout: 30000 });
    const user = await page.textContent('#user');
    assert(user.includes(dict.zh['role.responder']) && user.includes(`#${unit}`), `header says ${user}`);
    const can = await page.evaluate(() => window.__wangge.can);
    assert(can.responder && can.dispatch && !can.residents && !can.planner, `responder's controls ${JSON.stringify(can)}`);
    assert(await page.isHidden('#modes button[data-mode="planner"]'), 'a responder sees the planner');
    // (the view is entered once the map's style has loaded)
    await page.waitForFunction(() => document.querySelector('#modes button[data-mode="responder"]').classList.contains('on'), null, { timeout: 10000 })
      .catch(() => assert(false, 'a responder does not start in its view'));
    // its unit's events: what the API lists for it, the new one among them
    await page.waitForSelector(`#myunit:not([hidden]) li[data-id="${id}"]`, { timeout: 15000 });
    const shown = await page.$$eval('#myunit li', (ls) => ls.map((l) => Number(l.dataset.id)));
    const mine = ((await (await call(responder, '/api/v1/events?limit=200')).json()).events ?? []).filter((e) => e.unit_id === unit).map((e) => e.id);
    assert(JSON.stringify(shown) === JSON.stringify(mine), `unit's events shown ${JSON.stringify(shown)}, API ${JSON.stringify(mine)}`);
    // a click on it: its nearest responders as the API ranks them
    await page.click(`#myunit li[data-id="${id}"]`);
    await page.waitForFunction((id) => document.querySelector('#panel .sub')?.textContent.includes(`#${id}`), id);
    await page.waitForSelector('#nearest-list li');
    const items = await page.$$eval('#nearest-list li', (ls) => ls.map((l) => l.dataset.id));
    const api = await (await call(responder, `/api/v1/events/${id}/responders?k=8`)).json();
    assert(items.length === api.responders.length && items[0] === `${api.responders[0].type}:${api.responders[0].id}`,
      `nearest ${JSON.stringify(items)} vs API ${JSON.stringify(api.responders.map((r) => `${r.type}:${r.id}`))}`);
    await idle(page);
    await shot('18-responder');
    // the session ends behind the page's back (expired, revoked): the
    // next call's 401 brings the login back; the same user signing in
    // again finds the page as it was (no reload)
    await page.evaluate(() => (window.__before = true));
    expired = true;
    const st = await page.evaluate(async () => (await fetch('/api/v1/session', { method: 'DELETE' })).status);
    assert(st === 204, `DELETE /api/v1/session: ${st}`);
    await page.click(`#myunit li[data-id="${id}"]`);
    await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
    assert((await page.textContent('#login-note')) === dict.zh['login.expired'], 'the login does not say the session expired');
    await shot('19-session-expired');
    await login(page, responder, { goto: false });
    expired = false;
    assert(await page.evaluate(() => window.__before === true && window.__wangge.relogins === 1), 'the page was reloaded after signing in again');
    await page.click(`#myunit li[data-id="${id}"]`);
    await page.waitForSelector('#nearest-list li', { timeout: 10000 });
  });

  await step('viewer: the wall without tools; auditor: no map at all', async () => {
    const viewer = addUser('wu.kan', 'viewer', district);
    page = await newPage(consoleErrors);
    await login(page, viewer);
    await page.waitForFunction(() => window.__wangge?.firstPaintMs, null, { timeout: 30000 });
    const can = await page.evaluate(() => window.__wangge.can);
    assert(can.wall && can.kpi && can.events && !can.dispatch && !can.responder && !can.planner, `viewer's controls ${JSON.stringify(can)}`);
    assert(await page.isHidden('#modes'), 'a viewer is offered other views');
    assert(await page.isVisible('#kpi') && await page.isVisible('#layer-list input[data-group="events"]'), 'a viewer misses the KPIs or the events layer');
    assert((await page.textContent('#user')).includes(`${dict.zh['level.district']} ${district}`), 'the header does not name the viewer\'s district');
    await page.context().close();
    const auditor = addUser('sun.shen', 'auditor');
    page = await newPage(consoleErrors);
    const asked = [];
    page.on('request', (r) => /\/(tiles|api\/v1\/(?!session))/.test(new URL(r.url()).pathname) && asked.push(r.url()));
    await login(page, auditor);
    await page.waitForSelector('#nowall:not([hidden])');
    assert((await page.textContent('#nowall')) === dict.zh['login.nowall'], 'the auditor is not told the map is not theirs');
    assert(await page.evaluate(() => !window.__wangge.map) && !asked.length, `an auditor's page asked for ${asked.join(', ')}`);
    await shot('20-auditor');
    await page.context().close();
  });

  await step('no console errors', async () => {
    assert(consoleErrors.length === 0, `console errors:\n${consoleErrors.join('\n')}`);
  });
}

const t0 = Date.now();
try {
  await main();
} catch (e) {
  results.push({ name: 'setup', ok: false, err: e });
  console.log(`FAIL setup: ${e.stack ?? e}`);
} finally {
  await teardown();
}
timings.totalMs = Date.now() - t0;
writeFileSync(path.join(artifacts, 'timings.json'), JSON.stringify(timings, null, 2));
console.log(`timings: ${JSON.stringify(timings)}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
