// The map wall: command-centre view (layers, grid choropleth, drill-down,
// search, KPI, live incidents) and responder view (nearest posts/units).
import maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';
import { t, setLang, onLang, lang, pickLang, applyI18n, formatDistance, formatNumber, formatTime, showError } from './i18n.js';
import { api, fetchJSON, postJSON, levelOf, kpiRows, onUnauthorized } from './urls.js';
import { controlsFor, layerGroupsFor, metricsFor, modesFor, defaultMode, userLine } from './access.js';
import { requireSession, showLogin, logout, stillSignedIn } from './login.js';
import { buildStyle, showDeferred, GROUPS, DEFAULT_ON, KIND_COLOURS } from './style.js';
import { quantileBreaks, legendItems, stepExpression, normaliseStats } from './scale.js';
import { LiveStream } from './stream.js';
import { incidentOf, LiveIncidents } from './live.js';
import { KPIFeed, KPI_TICK_MS } from './kpi.js';
import { Labels } from './labels.js';
import { bboxOf, groupByCode } from './geom.js';
import { Planner } from './planner-ui.js';

const $ = (s) => document.querySelector(s);
const hook = (window.__wangge = { errors: [], scriptMs: performance.now() });
// Start the tile workers now, while the TileJSON requests are out.
maplibregl.prewarm();

// Metrics: the first three come with the grid tiles, the rest from the stats API.
const ALL_METRICS = [
  { key: 'none' },
  { key: 'households', prop: 'households' },
  { key: 'residents', prop: 'residents' },
  { key: 'tagged', prop: 'tagged' },
  { key: 'open_events', api: 'open_events' },
  { key: 'overdue', api: 'overdue' },
  { key: 'closure_rate', api: 'closure_rate', rate: true },
];
const LEVELS = ['district', 'street', 'community', 'grid', 'building'];
const LEVEL_SOURCE = { district: 'districts', street: 'streets', community: 'communities', grid: 'grids', building: 'buildings' };

const state = { mode: 'command', metric: 'households', on: new Set(DEFAULT_ON), selection: null, trail: [] };

// ---------- language ----------
try {
  setLang(pickLang(location.search, localStorage.getItem('wangge.lang')));
} catch {
  setLang(pickLang(location.search));
}
function renderI18n() {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  applyI18n(document);
  renderLayerList();
  renderMetricSelect();
  renderLegend();
  renderLive();
  renderKPI();
  renderMyUnit();
  if (state.panelRender) state.panelRender();
}
$('#lang').addEventListener('click', () => {
  const next = lang() === 'zh' ? 'en' : 'zh';
  setLang(next);
  try {
    localStorage.setItem('wangge.lang', next);
  } catch {
    /* private mode */
  }
});

// ---------- session ----------
// Nothing of the city is asked for before someone signed in (the boot
// script asked who is; without a session the login page shows).
let session = await requireSession();
hook.sessionMs = performance.now();
document.body.classList.remove('signed-out');
const can = controlsFor(session.permissions);
hook.session = session;
hook.can = can;
const METRICS = metricsFor(ALL_METRICS, can);
const LAYER_GROUPS = layerGroupsFor(Object.keys(GROUPS), can);
function renderUser() {
  const u = $('#user');
  u.textContent = userLine(session);
  u.hidden = false;
  $('#logout').hidden = false;
}
$('#logout').addEventListener('click', () => logout());
renderUser();
onLang(renderUser);
// A 401 later: the session expired or was revoked. The same user signing
// in again keeps the page as it is; another user starts it over (other
// permissions, other jurisdiction).
let relogin = null;
onUnauthorized(() => {
  if (relogin) return;
  hook.relogins = (hook.relogins ?? 0) + 1;
  relogin = showLogin({ note: 'login.expired' }).then((s) => {
    relogin = null;
    if (s.name !== session.name) return location.reload();
    session = s;
    hook.session = s;
    const st = hook.stream; // (set once the page is up)
    if (st && st.state !== 'idle') {
      st.stop();
      st.start();
    }
  });
});
if (!can.wall) {
  // an auditor: no map for this role; the header and sign-out stay
  $('#nowall').hidden = false;
  for (const el of document.querySelectorAll('#topbar > :not(h1):not(#lang):not(#user):not(#logout), #side')) el.hidden = true;
  applyI18n(document);
  onLang(() => applyI18n(document));
  await new Promise(() => {}); // nothing more to start
}
// Views and controls the role may not use are not shown (the server
// refuses them anyway: this spares the user the 403).
for (const b of document.querySelectorAll('#modes button')) b.hidden = !modesFor(can).includes(b.dataset.mode);
$('#modes').hidden = modesFor(can).length < 2;
$('#kpi').hidden = !can.kpi;
$('.events-filter').hidden = !can.events;
$('#live').hidden = !can.live;
if (!can.events) for (const g of ['events', 'heat']) state.on.delete(g);

// ---------- map ----------
// Whole city at start: the districts' TileJSON bounds, fetched before the
// map exists (no tile is fetched for a view thrown away) and inlined in
// the style (no second round trip). The other sources are hidden until the
// city has painted; MapLibre fetches their TileJSON meanwhile.
// (The boot script's answers are null when it found no session: then
// asked again now that there is one.)
const districtsTJ = ((await window.__districtsTJ) ?? (await fetchJSON(api.tileJSON('districts')).catch((e) => {
  console.warn('tilejson districts:', e.message);
  return null;
})));
hook.tileJSONMs = performance.now();
// The events source starts filtered to open events: at city zoom all-time
// history (hundreds of thousands at scale 1) would bury what is live.
const eventFilter = { days: 0, open: true };
const eventsTJ = can.events ? ((await window.__eventsTJ) ?? (await fetchJSON(api.tileJSON('events')).catch(() => null))) : null;
let eventsBaseTiles = eventsTJ?.tiles ?? null;
const map = makeMap(districtsTJ?.bounds ?? null, {
  districts: districtsTJ,
  events: eventsTJ && { ...eventsTJ, tiles: eventsTJ.tiles.map((u) => api.eventsTiles(u, eventFilter)) },
});
hook.map = map;

// viewPadding keeps fitted regions clear of the side panels (when the
// window is wide enough to have room beside them).
function viewPadding(panelOpen) {
  const w = window.innerWidth;
  if (w < 900) return 30;
  return { top: 70, bottom: 30, left: 280, right: panelOpen ? 350 : 30 };
}

function makeMap(b, tj) {
  hook.cityBounds = b;
  const m = new maplibregl.Map({
    container: 'map',
    style: buildStyle(location.origin, { deferred: true, tileJSON: tj, without: can.events ? [] : ['events', 'live'] }),
    ...(b ? { bounds: [[b[0], b[1]], [b[2], b[3]]], fitBoundsOptions: { padding: viewPadding(false) } } : { center: [106.55, 29.56], zoom: 8 }),
    attributionControl: false,
    hash: 'map', // the view survives a reload and can be shared (#map=zoom/lat/lon)
    canvasContextAttributes: { preserveDrawingBuffer: true }, // screenshots and pixel checks read the canvas
    fadeDuration: 0,
  });
  hook.mapCreatedMs = performance.now();
  m.once('render', () => (hook.firstRenderMs = performance.now()));
  m.once('styledata', () => (hook.styleMs = performance.now()));
  m.once('style.load', () => (hook.styleLoaded = true));
  m.on('dataloading', (e) => {
    if (e.sourceId === 'districts' && e.tile && !hook.districtsRequestMs) hook.districtsRequestMs = performance.now();
  });
  m.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
  m.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  m.on('error', (e) => {
    // a tile refused with 401: the session is gone (login again)
    if (e?.error?.status === 401) stillSignedIn();
    const msg = e?.error?.message ?? String(e);
    hook.errors.push(msg);
    console.warn('map:', msg);
  });
  // First paint: the first frame drawn with the city's outlines loaded.
  const onRender = () => {
    if (m.getSource('districts') && m.isSourceLoaded('districts')) {
      hook.firstPaintMs = performance.now();
      m.off('render', onRender);
      // then everything else
      showDeferred(m);
      hook.deferredShown = true;
      applyLayers();
      afterFirstPaint();
    }
  };
  m.on('render', onRender);
  m.once('idle', () => {
    hook.firstIdleMs = performance.now();
  });
  m.on('sourcedata', (e) => {
    if (e.sourceId === 'districts' && e.isSourceLoaded && !hook.districtsLoadedMs) hook.districtsLoadedMs = performance.now();
  });
  m.on('load', () => {
    hook.loadMs = performance.now();
    hook.loaded = true;
    applyLayers();
    applyMetric();
  });
  new Labels(m, document.querySelector('#map'));
  return m;
}

// ---------- layer switcher ----------
function renderLayerList() {
  const box = $('#layer-list');
  box.replaceChildren();
  for (const g of LAYER_GROUPS) {
    const l = document.createElement('label');
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.checked = state.on.has(g);
    cb.dataset.group = g;
    cb.addEventListener('change', () => {
      if (cb.checked) state.on.add(g);
      else state.on.delete(g);
      applyLayers();
    });
    l.append(cb, document.createTextNode(t(`layer.${g}`)));
    box.appendChild(l);
  }
}
function applyLayers() {
  if (!hook.deferredShown) return;
  for (const [g, ids] of Object.entries(GROUPS)) {
    for (const id of ids) {
      if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', state.on.has(g) ? 'visible' : 'none');
    }
  }
}

// ---------- event time filter ----------
// The events tiles take status/since filters; the page swaps the source's
// tile URL (each filter is its own cache key on the server).
function applyEventFilter() {
  const src = map.getSource('events');
  if (!src || !eventsBaseTiles) return;
  const tiles = eventsBaseTiles.map((u) => api.eventsTiles(u, eventFilter));
  src.setTiles(tiles); // reloads asynchronously
  hook.eventsTiles = tiles;
}
$('#events-window').addEventListener('change', (e) => {
  eventFilter.days = Number(e.target.value);
  applyEventFilter();
});
$('#events-open').addEventListener('change', (e) => {
  eventFilter.open = e.target.checked;
  applyEventFilter();
  pushLive();
});

// ---------- grid colouring ----------
function renderMetricSelect() {
  const sel = $('#metric');
  sel.replaceChildren();
  for (const m of METRICS) {
    const o = document.createElement('option');
    o.value = m.key;
    o.textContent = t(`metric.${m.key}`);
    o.selected = m.key === state.metric;
    sel.appendChild(o);
  }
}
$('#metric').addEventListener('change', (e) => {
  state.metric = e.target.value;
  applyMetric();
});

const statsCache = new Map();
let statValues = null;

// Below the grids' zoom the same metric colours streets, and below that
// districts (stats API by level; region tiles carry code::bigint ids, so
// feature-state needs no join).
function choroLevel(z) {
  if (z < 8.5) return 'district';
  if (z < 10) return 'street';
  return 'grid';
}
const CHORO_LAYER = { district: 'districts-choro', street: 'streets-choro' };

async function statsFor(level, metric) {
  const key = `${level}/${metric}`;
  if (statsCache.has(key)) return statsCache.get(key);
  let values = null;
  try {
    const body = await fetchJSON(api.stats({ level, metric }));
    values = body && !body.notFound ? normaliseStats(body) : null;
  } catch (e) {
    console.warn('stats:', e.message);
  }
  if (values) statsCache.set(key, values);
  return values;
}

async function applyMetric() {
  const m = METRICS.find((x) => x.key === state.metric);
  state.legend = null;
  const level = choroLevel(map.getZoom());
  state.choroLevel = level;
  for (const id of Object.values(CHORO_LAYER)) map.setPaintProperty(id, 'fill-color', 'rgba(0,0,0,0)');
  if (!m || m.key === 'none') {
    map.setPaintProperty('grids-fill', 'fill-color', 'rgba(0,0,0,0)');
    renderLegend();
    return;
  }
  if (level !== 'grid') {
    const values = await statsFor(level, m.api ?? m.prop);
    if (state.metric !== m.key || state.choroLevel !== level) return;
    if (!values) {
      state.legend = { zoomIn: true };
      renderLegend();
      return;
    }
    const src = LEVEL_SOURCE[level];
    for (const [code, v] of values) map.setFeatureState({ source: src, sourceLayer: src, id: Number(code) }, { v });
    const breaks = quantileBreaks([...values.values()], undefined, { rate: !!m.rate });
    map.setPaintProperty(CHORO_LAYER[level], 'fill-color', stepExpression(['feature-state', 'v'], breaks));
    state.legend = { breaks, rate: !!m.rate, level };
    renderLegend();
    return;
  }
  if (m.prop) {
    // breaks from the grids in view, refreshed when the view settles
    const vals = map.querySourceFeatures('grids', { sourceLayer: 'grids' }).map((f) => f.properties[m.prop]);
    const breaks = quantileBreaks(vals);
    map.setPaintProperty('grids-fill', 'fill-color', stepExpression(['get', m.prop], breaks));
    state.legend = vals.length ? { breaks, rate: false } : { zoomIn: true };
    renderLegend();
    return;
  }
  // from the stats API, joined by grid code into feature-state
  const values = await statsFor('grid', m.api);
  if (state.metric !== m.key || state.choroLevel !== 'grid') return;
  statValues = values;
  if (!values) {
    map.setPaintProperty('grids-fill', 'fill-color', 'rgba(0,0,0,0)');
    state.legend = { unavailable: true };
    renderLegend();
    return;
  }
  const breaks = quantileBreaks([...values.values()], undefined, { rate: !!m.rate });
  map.setPaintProperty('grids-fill', 'fill-color', stepExpression(['feature-state', 'v'], breaks));
  state.legend = { breaks, rate: !!m.rate };
  joinStats();
  renderLegend();
}
// feature-state is keyed by the tile's integer id (grids.id); the stats
// API keys by grid code, so the join goes through the features loaded.
function joinStats() {
  if (!statValues) return;
  for (const f of map.querySourceFeatures('grids', { sourceLayer: 'grids' })) {
    if (f.id == null) continue;
    const v = statValues.get(String(f.properties.code));
    map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id: f.id }, { v: v ?? null });
  }
}
map.on('zoomend', () => {
  if (choroLevel(map.getZoom()) !== state.choroLevel) applyMetric();
});
map.on('idle', () => {
  if (state.choroLevel !== 'grid') return;
  const m = METRICS.find((x) => x.key === state.metric);
  if (m?.prop) applyMetric();
  else if (m?.api) joinStats();
});

function renderLegend() {
  const box = $('#legend');
  box.replaceChildren();
  const l = state.legend;
  if (!l) return;
  if (l.unavailable || l.zoomIn) {
    const d = document.createElement('div');
    d.className = l.unavailable ? 'error' : 'sub';
    d.textContent = t(l.unavailable ? 'legend.nodata' : 'legend.zoomin');
    box.appendChild(d);
    return;
  }
  const lv = document.createElement('div');
  lv.className = 'sub';
  lv.textContent = t(`level.${l.level ?? 'grid'}`);
  box.appendChild(lv);
  for (const row of legendItems(l.breaks, { rate: l.rate })) {
    const d = document.createElement('div');
    d.className = 'row';
    d.innerHTML = `<span class="sw" style="background:${row.colour}"></span><span></span>`;
    d.lastChild.textContent = row.label ?? t('legend.all');
    box.appendChild(d);
  }
}

// ---------- drill-down ----------
function regionAt(point, level) {
  const src = LEVEL_SOURCE[level];
  const layer = level === 'building' ? 'buildings-fill' : level === 'grid' ? 'grids-fill' : level === 'district' ? 'districts-fill' : null;
  if (layer && map.getLayer(layer) && map.getLayoutProperty(layer, 'visibility') !== 'none') {
    const f = map.queryRenderedFeatures(point, { layers: [layer] })[0];
    if (f) return f;
  }
  // lines only hit on the edge: test the loaded polygons instead
  const ll = map.unproject(point);
  for (const f of map.querySourceFeatures(src, { sourceLayer: src })) {
    if (inside([ll.lng, ll.lat], f.geometry)) return f;
  }
  return null;
}
function inside(pt, g) {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.some((rings) => rings.reduce((acc, ring) => acc !== ringHas(ring, pt), false));
}
function ringHas(ring, [x, y]) {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}
// Drill-down: the first click picks a district, a click inside the
// selection picks its child at that point (district → street → community
// → grid → building). Zoomed in far, a click goes straight to the grid
// (z ≥ 14.5) or building (z ≥ 16.5) under it.
function zoomFloor(z) {
  if (z >= 16.5) return 'building';
  if (z >= 14.5) return 'grid';
  return 'district';
}
function pick(point) {
  let level = LEVELS.indexOf(zoomFloor(map.getZoom()));
  const sel = state.selection;
  if (sel && sel.level !== 'building') {
    const hit = regionAt(point, sel.level);
    const inside = hit && String(hit.properties.code) === sel.code;
    level = Math.max(level, LEVELS.indexOf(sel.level) + (inside ? 1 : 0));
  }
  for (let i = level; i >= 0; i--) {
    const f = regionAt(point, LEVELS[i]);
    if (f) return { level: LEVELS[i], feature: f };
  }
  return null;
}

function setSelectionFilters(level, code, id) {
  for (const l of ['district', 'street', 'community', 'grid']) {
    map.setFilter(`sel-${l}`, ['==', ['get', 'code'], l === level ? code : '']);
  }
  map.setFilter('sel-building', ['==', ['id'], level === 'building' ? Number(id) : -1]);
}

async function select(level, feature, { fly = true, lngLat = null } = {}) {
  const p = feature.properties ?? {};
  const code = level === 'building' ? String(feature.id) : String(p.code);
  state.selection = { level, code, props: p, lngLat };
  setSelectionFilters(level, code, feature.id);
  if (fly && level !== 'building') {
    const src = LEVEL_SOURCE[level];
    const parts = map.querySourceFeatures(src, { sourceLayer: src, filter: ['==', ['get', 'code'], code] });
    const b = bboxOf(parts.length ? parts : [feature]);
    if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: viewPadding(true), maxZoom: 17, duration: 600 });
  }
  const detail = { level, code, props: p, api: null, building: null, located: null, loading: true };
  const render = () => renderPanel(detail);
  state.panelRender = render;
  render();
  const jobs = [];
  if (level === 'building' && !can.residents) {
    // no buildings.read: what the tile carries, without its households
  } else if (level === 'building') {
    jobs.push(fetchJSON(api.building(feature.id)).then((b) => (detail.building = b)).catch((e) => (detail.error = e)));
  } else {
    jobs.push(fetchJSON(api.region(code)).then((r) => (detail.api = r)).catch((e) => (detail.error = e)));
  }
  if (lngLat && (level === 'grid' || level === 'building')) {
    jobs.push(fetchJSON(api.locate({ lon: lngLat.lng, lat: lngLat.lat })).then((r) => (detail.located = r)).catch(() => {}));
  }
  await Promise.all(jobs);
  detail.loading = false;
  if (state.selection?.code === code) render();
}

const PANEL_KEYS = ['households', 'residents', 'tagged', 'buildings', 'grids', 'floors', 'use', 'built_year', 'open_events', 'overdue',
  'events_30d', 'closure_rate', 'avg_handling_minutes', 'posts', 'units', 'objects'];

// buildingCounts: the panel's figures from GET /api/v1/buildings/{id}.
function buildingCounts(b) {
  const hs = Array.isArray(b.households) ? b.households : [];
  return {
    households: hs.length,
    residents: b.residents_count ?? hs.reduce((n, h) => n + (h.residents?.length ?? 0), 0),
    floors: b.floors,
    use: b.use,
    built_year: b.built_year,
  };
}

// householdList: the building's households as the API gives them: with
// their residents in the full view (the grid's own worker), as unit
// number and size in the counts view (everyone else).
function householdList(hs) {
  const h = document.createElement('h2');
  h.textContent = `${t('households')} (${hs.length})`;
  const ol = document.createElement('ol');
  ol.className = 'households';
  for (const hh of hs.slice(0, 200)) {
    const li = document.createElement('li');
    const people = (hh.residents ?? []).map((r) => [r.name, r.age != null ? `${r.age}` : '', ...(r.tags ?? [])].filter(Boolean).join(' '));
    li.textContent = `${hh.unit_no ?? ''} · ${people.length ? people.join('，') : `${hh.size ?? ''}`}`;
    ol.appendChild(li);
  }
  return [h, ol];
}

function renderPanel(d) {
  $('#panel').hidden = false;
  const body = $('#panel-body');
  body.replaceChildren();
  const h = document.createElement('h3');
  h.textContent = d.props.name ?? d.api?.name ?? (d.level === 'building' ? `#${d.code}` : d.code);
  const sub = document.createElement('div');
  sub.className = 'sub';
  sub.textContent = `${t(`level.${d.level}`)} · ${d.code}`;
  body.append(h, sub);
  const dl = document.createElement('dl');
  dl.className = 'kv';
  dl.id = 'panel-counts';
  const add = (k, v, key = k) => {
    const dt = document.createElement('dt');
    dt.textContent = t(k);
    const dd = document.createElement('dd');
    dd.dataset.key = key;
    dd.textContent = typeof v === 'number' ? formatNumber(v) : String(v);
    dl.append(dt, dd);
  };
  // Counts: the API's when it answered, else what the tile carries.
  const bld = d.building && !d.building.notFound ? d.building : null;
  const src = d.api && !d.api.notFound ? d.api : bld ? buildingCounts(bld) : null;
  const counts = { ...d.props, ...(src ?? {}), ...(src?.counts ?? {}) };
  if (bld) {
    h.textContent = bld.name || `#${bld.id}`;
    sub.textContent = `${t('level.building')} · ${bld.address ?? bld.id}`;
  }
  for (const k of PANEL_KEYS) {
    const v = counts[k];
    if (v == null || typeof v === 'object') continue;
    if (k === 'closure_rate') add(k, `${Math.round(v * 100)}%`);
    else if (k === 'avg_handling_minutes') add(k, `${Math.round(v)}`);
    else if (k === 'built_year') add(k, String(v));
    else add(k, v);
  }
  const w = d.located?.worker;
  if (w) add('worker', [w.name, w.phone].filter(Boolean).join(' '));
  body.appendChild(dl);
  // children: the next drill-down step, clickable
  const kids = src?.children ?? [];
  if (kids.length) {
    const h4 = document.createElement('h2');
    h4.textContent = `${t(`level.${kids[0].level}`)} (${kids.length})`;
    const ul = document.createElement('ul');
    ul.className = 'children';
    for (const c of kids) {
      const li = document.createElement('li');
      li.textContent = c.name ?? c.code;
      li.dataset.code = c.code;
      li.addEventListener('click', () => selectByCode(c.code));
      ul.appendChild(li);
    }
    body.append(h4, ul);
  }
  if (bld?.households?.length) body.append(...householdList(bld.households));
  if (d.loading) {
    const l = document.createElement('div');
    l.className = 'sub';
    l.textContent = t('loading');
    body.appendChild(l);
  }
  if (d.error) {
    const e = document.createElement('div');
    e.className = 'error';
    body.appendChild(showError(e, d.error));
  }
  renderBreadcrumb(d);
}

function renderBreadcrumb(d) {
  const bc = $('#breadcrumb');
  bc.replaceChildren();
  const code = d.level === 'building' ? d.props.grid_code : d.code;
  const chain = [];
  if (code && levelOf(code)) {
    for (const n of [6, 9, 12, 15]) if (code.length >= n) chain.push(code.slice(0, n));
  }
  chain.forEach((c, i) => {
    const a = document.createElement('a');
    a.textContent = `${t(`level.${levelOf(c)}`)} ${c}`;
    a.addEventListener('click', () => selectByCode(c));
    if (i) bc.append(' › ');
    bc.append(a);
  });
}

function selectByCode(code, bbox, point) {
  const level = levelOf(code);
  if (!level) return;
  const src = LEVEL_SOURCE[level];
  const parts = map.querySourceFeatures(src, { sourceLayer: src, filter: ['==', ['get', 'code'], code] });
  if (parts.length) return select(level, parts[0]);
  if (bbox) map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: viewPadding(true), duration: 600 });
  else if (point) map.flyTo({ center: point, zoom: { district: 11, street: 13, community: 14, grid: 15.5 }[level], duration: 600 });
  // not loaded yet: select from properties alone, the API fills the panel
  return select(level, { properties: { code }, id: null }, { fly: false });
}

$('#panel-close').addEventListener('click', closePanel);
function closePanel() {
  if (state.mode === 'planner' && planner.grid) planner.select(null);
  $('#panel').hidden = true;
  state.selection = null;
  state.panelRender = null;
  setSelectionFilters(null, '', -1);
  setNearest([]);
}

// ---------- responders ----------
// The responder view: from a clicked point, or an incident (then units
// can be dispatched to it), filtered by kind and status.
const responderFilter = { kind: '', status: '' };
let responderOrigin = null;

async function nearest(origin) {
  responderOrigin = origin;
  const { lngLat, eventId } = origin;
  const q = { lon: lngLat.lng, lat: lngLat.lat, k: 8, kind: responderFilter.kind, status: responderFilter.status };
  const url = eventId ? api.eventResponders(eventId, q) : api.nearest(q);
  $('#panel').hidden = false;
  const body = $('#panel-body');
  $('#breadcrumb').replaceChildren();
  const render = (res, err) => {
    body.replaceChildren();
    const h = document.createElement('h3');
    h.textContent = t('responder.title');
    const sub = document.createElement('div');
    sub.className = 'sub';
    sub.textContent = eventId ? `${t('responder.event')} #${eventId}` : `${lngLat.lng.toFixed(5)}, ${lngLat.lat.toFixed(5)}`;
    body.append(h, sub, responderFilters());
    if (err) {
      const e = document.createElement('div');
      e.className = 'error';
      body.appendChild(showError(e, err));
      return;
    }
    if (!res) {
      body.append(t('loading'));
      return;
    }
    const list = res?.responders ?? [];
    if (!list.length) body.append(t('responder.none'));
    const ol = document.createElement('ol');
    ol.id = 'nearest-list';
    for (const r of list) {
      const li = document.createElement('li');
      li.dataset.id = `${r.type}:${r.id}`;
      const sw = `<span class="swatch" style="background:${KIND_COLOURS[r.kind] ?? '#ddd'}"></span>`;
      li.innerHTML = `${sw}<span class="who"></span><span class="dist"></span><br><small class="sub"></small>`;
      li.querySelector('.who').textContent = `${t(`kind.${r.kind}`)} ${t(`type.${r.type}`)} #${r.id}`;
      li.querySelector('.dist').textContent = formatDistance(r.distance_m);
      li.querySelector('small').textContent = t(`status.${r.status}`);
      if (eventId && can.dispatch && r.type === 'unit' && r.status === 'available') li.appendChild(dispatchButton(r, eventId));
      ol.appendChild(li);
    }
    body.appendChild(ol);
  };
  state.panelRender = null;
  render(null);
  try {
    const res = await fetchJSON(url);
    if (responderOrigin !== origin) return;
    render(res);
    setNearest(res?.responders ?? [], [lngLat.lng, lngLat.lat]);
    state.panelRender = () => render(res);
  } catch (e) {
    render(null, e);
  }
}

function responderFilters() {
  const box = document.createElement('div');
  box.className = 'filters';
  const sel = (name, options) => {
    const s = document.createElement('select');
    s.name = name;
    for (const v of options) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = v ? t(`${name}.${v}`) : t(`${name}.all`);
      o.selected = responderFilter[name] === v;
      s.appendChild(o);
    }
    s.addEventListener('change', () => {
      responderFilter[name] = s.value;
      if (responderOrigin) nearest(responderOrigin);
    });
    return s;
  };
  box.append(
    sel('kind', ['', 'police', 'fire', 'medical', 'community', 'micro_fire', 'grid_worker', 'patrol', 'engine', 'ambulance']),
    sel('status', ['', 'available', 'en_route', 'on_scene']),
  );
  return box;
}

function dispatchButton(r, eventId) {
  const b = document.createElement('button');
  b.className = 'dispatch';
  b.textContent = t('responder.dispatch');
  b.addEventListener('click', async (ev) => {
    ev.stopPropagation();
    b.disabled = true;
    try {
      const res = await postJSON(api.unitStatus(r.id), { status: 'en_route', event_id: Number(eventId), at: new Date().toISOString() }, { method: 'PUT' });
      if (res.error) throw res.error;
      b.textContent = t('responder.dispatched');
      b.removeAttribute('title');
      b.classList.add('done');
    } catch (e) {
      b.disabled = false;
      showError(b, e);
    }
  });
  return b;
}

function setNearest(list, origin) {
  const feats = [];
  if (origin) feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: origin }, properties: { origin: true, colour: '#ffe066' } });
  for (const r of list) {
    const colour = KIND_COLOURS[r.kind] ?? '#ffffff';
    feats.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: [origin, [r.lon, r.lat]] }, properties: { colour } });
    feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [r.lon, r.lat] }, properties: { colour } });
  }
  map.getSource('nearest')?.setData({ type: 'FeatureCollection', features: feats });
  hook.nearestLines = list.length;
}

// ---------- modes and clicks ----------
for (const b of document.querySelectorAll('#modes button')) {
  b.addEventListener('click', () => {
    const was = state.mode;
    if (was === 'planner') planner.leave();
    state.mode = b.dataset.mode;
    for (const o of document.querySelectorAll('#modes button')) o.classList.toggle('on', o === b);
    $('#responder-hint').hidden = state.mode !== 'responder';
    closePanel();
    if (state.mode === 'planner') {
      state.panelRender = () => planner.render();
      planner.enter();
    }
  });
}
// The planner view (planner-ui.js): it owns the panel and the clicks while
// its mode is on; an apply refreshes the tiles as grid.changed does.
const planner = new Planner({
  map,
  hook,
  highlight: (code) => setSelectionFilters(code ? 'grid' : null, code ?? '', -1),
  // Not at once: refreshed right on the apply's answer, the map kept the
  // old parcels in 2 runs of 3 although the server's tiles at the new
  // version were right (checked 15 of 15). Likely the planner's own paint
  // change (a reload of the parcels from the worker's copy) racing the
  // setTiles reload. A second later (as after grid.changed) it was right
  // in every run.
  refresh: () => refreshSoon(),
  can,
  session: () => session,
  panel: () => {
    $('#panel').hidden = false;
    $('#breadcrumb').replaceChildren();
    return $('#panel-body');
  },
});
map.on('dblclick', (e) => {
  if (state.mode === 'planner') planner.dblclick(e);
});
// Where the role starts: a responder in its view, a planner or approver
// in the planner's; ?plan=N opens a submitted plan for its approver.
function startMode() {
  // the planner's layers join the style: only once it has loaded (not
  // the first full render, 'load', which waits for the tiles too)
  if (!hook.styleLoaded) return map.once('style.load', startMode);
  const planParam = new URLSearchParams(location.search).get('plan');
  const mode = planParam && can.planApply ? 'planner' : defaultMode(session, can);
  if (mode && mode !== 'command') document.querySelector(`#modes button[data-mode="${mode}"]`)?.click();
  if (planParam && can.planApply) planner.openPlan(planParam);
}

// ---------- a responder's unit ----------
// The events dispatched to the responder's unit (the server answers only
// what its jurisdiction shows); a click opens the incident's responders.
let myEvents = null;
async function loadMyUnit() {
  if (session.unit_id == null || !can.events) return;
  try {
    const body = await fetchJSON(api.events({ limit: 200 }));
    myEvents = (body?.events ?? []).filter((e) => e.unit_id === session.unit_id);
  } catch (e) {
    myEvents = { error: e };
  }
  hook.myEvents = myEvents;
  renderMyUnit();
}
function renderMyUnit() {
  const sec = $('#myunit');
  if (session.unit_id == null || !can.events) return;
  sec.hidden = false;
  const body = $('#myunit-body');
  body.replaceChildren();
  if (!myEvents) return body.append(t('loading'));
  if (myEvents.error) return body.appendChild(showError(document.createElement('div'), myEvents.error));
  if (!myEvents.length) return body.append(t('myunit.none'));
  const ol = document.createElement('ol');
  for (const e of myEvents) {
    const li = document.createElement('li');
    li.dataset.id = e.id;
    li.textContent = `#${e.id} ${e.category} · ${t(`status.${e.status}`)} · ${e.address || e.grid_code}`;
    li.addEventListener('click', () => {
      map.flyTo({ center: [e.lon, e.lat], zoom: Math.max(map.getZoom(), 15) });
      nearest({ lngLat: { lng: e.lon, lat: e.lat }, eventId: e.id });
    });
    ol.appendChild(li);
  }
  body.appendChild(ol);
}
const myUnitSoon = debounce(loadMyUnit, 1000);
map.on('click', (e) => {
  if (state.mode === 'planner') return planner.click(e);
  if (state.mode === 'responder') {
    // an incident under the click: its responders, with dispatch
    const layers = ['live-points', 'events-points'].filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
    const box = [[e.point.x - 6, e.point.y - 6], [e.point.x + 6, e.point.y + 6]];
    const inc = layers.length ? map.queryRenderedFeatures(box, { layers })[0] : null;
    const id = inc?.properties?.id ?? inc?.id;
    if (inc && id != null) {
      const [lon, lat] = inc.geometry.coordinates;
      nearest({ lngLat: { lng: lon, lat }, eventId: id });
    } else nearest({ lngLat: e.lngLat });
    return;
  }
  const hit = pick(e.point);
  if (hit) select(hit.level, hit.feature, { lngLat: e.lngLat, fly: hit.level !== 'building' });
});
map.on('mousemove', (e) => {
  if (state.mode === 'planner') planner.mousemove(e);
  map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers: ['districts-fill'] }).length ? 'pointer' : '';
});

// ---------- search ----------
let searchSeq = 0;
const results = $('#search-results');
$('#search').addEventListener('input', debounce(async (e) => {
  const q = e.target.value.trim();
  const seq = ++searchSeq;
  if (!q) {
    results.hidden = true;
    return;
  }
  let items = [];
  try {
    const body = await fetchJSON(api.search(q));
    items = body && !body.notFound ? searchItems(body) : localSearch(q);
  } catch {
    items = localSearch(q);
  }
  if (seq !== searchSeq) return;
  results.replaceChildren();
  if (!items.length) {
    const li = document.createElement('li');
    li.textContent = t('search.none');
    results.appendChild(li);
  }
  for (const it of items.slice(0, 12)) {
    const li = document.createElement('li');
    li.textContent = it.name ?? it.address ?? it.code;
    const s = document.createElement('small');
    s.textContent = [it.detail ?? it.code, t(`kind.${it.kind}`)].filter(Boolean).join(' · ');
    li.appendChild(s);
    li.addEventListener('click', () => {
      results.hidden = true;
      if (it.code && levelOf(it.code)) selectByCode(String(it.code), it.bbox, it.lon != null ? [it.lon, it.lat] : null);
      else if (it.bbox) map.fitBounds([[it.bbox[0], it.bbox[1]], [it.bbox[2], it.bbox[3]]], { padding: viewPadding(true) });
      else if (it.lon != null) map.flyTo({ center: [it.lon, it.lat], zoom: 16 });
    });
    results.appendChild(li);
  }
  results.hidden = false;
}, 200));
// searchItems: the search API's results, region hits keyed by code.
function searchItems(body) {
  return (body.results ?? []).map((r) => ({
    ...r,
    code: ['district', 'street', 'community', 'grid'].includes(r.kind) ? String(r.id) : undefined,
  }));
}
// Without the search API: the regions already loaded on the map.
function localSearch(q) {
  const out = [];
  for (const src of ['districts', 'streets', 'communities', 'grids']) {
    for (const g of groupByCode(map.querySourceFeatures(src, { sourceLayer: src })).values()) {
      if ((g.name ?? '').includes(q) || g.code.startsWith(q)) out.push({ code: g.code, name: g.name, kind: levelOf(g.code), bbox: g.bbox });
    }
  }
  return out;
}
function debounce(f, ms) {
  let h;
  return (...a) => {
    clearTimeout(h);
    h = setTimeout(() => f(...a), ms);
  };
}

// ---------- KPI ----------
// The jurisdiction's figures: loaded once, then pushed on the live stream
// (kpi.changed); kpi.js decides which body shows and when to ask again.
const kpiFeed = new KPIFeed({ load: () => fetchJSON(api.kpi()), onChange: () => renderKPI() });
hook.kpiFeed = kpiFeed;
function renderKPI() {
  const kpi = kpiFeed.shown;
  const box = $('#kpi-body');
  box.replaceChildren();
  if (!kpi) {
    box.innerHTML = `<span class="k"></span>`;
    box.firstChild.textContent = t('kpi.unavailable');
    return;
  }
  for (const [k, v, rate] of kpiRows(kpi)) {
    const a = document.createElement('span');
    a.className = 'k';
    a.textContent = t(k);
    const b = document.createElement('span');
    b.className = 'v';
    b.dataset.key = k;
    b.textContent = v == null ? '–' : rate ? `${Math.round(v * 100)}%` : formatNumber(v);
    box.append(a, b);
  }
  const tiers = kpi.today?.by_tier ?? {};
  if (Object.keys(tiers).length) {
    const a = document.createElement('span');
    a.className = 'k';
    a.textContent = t('kpi.by_tier');
    const b = document.createElement('span');
    b.className = 'tiers';
    b.textContent = ['grid', 'street', 'district'].map((x) => `${t(`tier.${x}`)} ${tiers[x]?.reported ?? 0}`).join(' · ');
    box.append(a, b);
  }
  if (kpi.generated_at) {
    const u = document.createElement('span');
    u.id = 'kpi-updated';
    u.dataset.at = kpi.generated_at;
    u.textContent = t('kpi.updated').replace('{time}', formatTime(kpi.generated_at));
    box.append(u);
  }
}


// ---------- live incidents ----------
const incidents = new LiveIncidents();
let liveState = 'connecting';
function renderLive() {
  const el = $('#live');
  el.className = `live live-${liveState}`;
  el.querySelector('b').textContent = t(`live.${liveState}`);
}
function pushLive() {
  map.getSource('live')?.setData(incidents.geojson(Date.now(), 3000, { openOnly: eventFilter.open }));
}
const stream = new LiveStream(api.stream({ kinds: can.kpi ? 'event,grid,kpi' : 'event,grid' }), {
  // each (re)connect: frames sent meanwhile are not replayed (the KPI asks)
  onOpen: (o) => can.kpi && kpiFeed.opened(o),
  onState: (s) => {
    kpiFeed.streamState(s);
    // EventSource hides the status of a refused reconnect: ask whether
    // the session is still there (a 401 brings the login back)
    if (s === 'stale') stillSignedIn();
    liveState = s === 'idle' ? 'off' : s;
    hook.liveState = liveState;
    renderLive();
  },
  onMessage: (m) => {
    // (a resync comes on a reconnect, which asked for the KPI already)
    if (m.type === 'resync') return refreshSoon();
    if (m.type === 'grid.changed') return refreshSoon();
    if (m.type === 'kpi.changed') return can.kpi && kpiFeed.pushed(m.data);
    const inc = incidentOf(m);
    if (!inc) return;
    incidents.add(inc);
    if (session.unit_id != null) myUnitSoon();
    hook.lastIncident = { ...inc, receivedAt: Date.now() };
    pushLive();
    setTimeout(pushLive, 3100); // end of the highlight
  },
});

// A grid edit bumps the tiles' data version: fetch every source's TileJSON
// again and point the source at the new versioned URLs, so the map follows
// without a reload (old URLs stay cached as immutable).
async function refreshTiles() {
  const style = map.getStyle();
  await Promise.all(
    Object.entries(style.sources)
      .filter(([, src]) => src.type === 'vector')
      .map(async ([id]) => {
        const tj = await fetchJSON(api.tileJSON(id)).catch(() => null);
        const src = map.getSource(id);
        if (!tj?.tiles || !src) return;
        const tiles = id === 'events' ? tj.tiles.map((u) => api.eventsTiles(u, eventFilter)) : tj.tiles;
        if (id === 'events') eventsBaseTiles = tj.tiles;
        if (JSON.stringify(src.tiles) !== JSON.stringify(tiles)) src.setTiles(tiles);
      }),
  );
  statsCache.clear();
  applyMetric();
  hook.tilesRefreshedAt = Date.now();
}
const refreshSoon = debounce(() => refreshTiles().catch((e) => console.warn('refresh:', e.message)), 1000);
hook.stream = stream;

// The KPI query and the stream start once the city has painted: on two
// cores they would otherwise compete with the first tiles.
let started = false;
function afterFirstPaint() {
  if (started) return;
  started = true;
  if (can.kpi) {
    kpiFeed.refresh();
    setInterval(() => kpiFeed.tick(), KPI_TICK_MS); // the fallback poll, when due
  }
  if (can.live) stream.start();
  loadMyUnit();
}
setTimeout(afterFirstPaint, 5000); // should the city never paint

onLang(renderI18n);
renderI18n();
startMode();
