// The planner view (a planner drafts, an approver of the parent region
// applies: four eyes): select a grid, pick parcels of a neighbour (or of the
// grid, out to a neighbour), merge with a neighbour or split along a drawn
// line; preview through POST /api/v1/plans, apply, and the grid's history
// with revert. The map follows an apply through the tiles' new version
// (the same refresh the stream's grid.changed triggers).
import { t, lang, formatNumber, formatDateTime, errorText, errorTitle, problemText } from './i18n.js';
import { api, fetchJSON, postJSON } from './urls.js';
import { PlanDraft, LineDraw, closeRing, previewRows, problemsGeoJSON, previewGeoJSON, neighbours, movableTo, MOVE_KEYS } from './planner.js';

const EMPTY = { type: 'FeatureCollection', features: [] };
const TOOLS = ['reassign', 'merge', 'split', 'draw'];
const DRAWING = new Set(['split', 'draw']);

// errorMsg: the panel's message for a failed request: localized text, the
// server's reason (and request id) as its title.
function errorMsg(err, text = errorText(err)) {
  return { kind: 'error', text, title: errorTitle(err), code: err?.code };
}

// refusal: a refused apply or revert in words: the error's summary and,
// when the server listed a plan's problems, each of them.
function refusal(err) {
  const probs = err?.body?.problems ?? [];
  if (!probs.length) return errorText(err);
  const [colon, semi] = lang() === 'zh' ? ['：', '；'] : [': ', '; '];
  return `${errorText(err)}${colon}${probs.map((p) => problemText(p)).join(semi)}`;
}

// msgEl: a panel message with the server's reason as its tooltip.
function msgEl(el, msg) {
  const d = el('div', `msg ${msg.kind}`, msg.text);
  if (msg.title) d.title = msg.title;
  if (msg.code) d.dataset.code = msg.code;
  return d;
}

export class Planner {
  // deps: map, hook (window.__wangge), highlight(code) for the selection
  // outline, refresh() re-reads the tiles' versions, panel() opens the
  // side panel and returns its body; can: the session's controls
  // (access.js), session() the signed-in user.
  constructor({ map, hook, highlight, refresh, panel, can = {}, session = () => null }) {
    Object.assign(this, { map, hook, highlight, refresh, panel, can, session });
    this.active = false;
    this.grid = null;
    this.tool = 'reassign';
    this.draft = null;
    this.line = new LineDraw();
    this.preview = null; // the last POST /plans answer (201) or refusal (422)
    this.msg = null; // { kind: 'ok' | 'error' | 'hint', text, title? }
    this.history = null;
    this.reason = '';
    this.openId = '';
    hook.planner = this;
  }

  // ---------- map layers (added on first use: no cost when unused) ----------
  ensureLayers() {
    const m = this.map;
    if (m.getLayer('plan-parcels')) return;
    for (const id of ['plan-draw', 'plan-preview', 'plan-problems']) m.addSource(id, { type: 'geojson', data: EMPTY });
    m.addLayer({ id: 'plan-parcels', type: 'fill', source: 'parcels', 'source-layer': 'parcels', minzoom: 13,
      paint: { 'fill-color': 'rgba(0,0,0,0.01)', 'fill-outline-color': 'rgba(0,0,0,0)' } });
    m.addLayer({ id: 'plan-parcels-line', type: 'line', source: 'parcels', 'source-layer': 'parcels', minzoom: 13,
      filter: ['==', ['get', 'grid_code'], ''], paint: { 'line-color': '#35c2ff', 'line-width': 0.8, 'line-opacity': 0.8 } });
    m.addLayer({ id: 'plan-preview-line', type: 'line', source: 'plan-preview',
      paint: { 'line-color': '#ff9f1c', 'line-width': 2.5, 'line-dasharray': [2, 1.5] } });
    m.addLayer({ id: 'plan-draw-line', type: 'line', source: 'plan-draw', filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': '#ff4fd8', 'line-width': 2.5 } });
    m.addLayer({ id: 'plan-draw-points', type: 'circle', source: 'plan-draw', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 4, 'circle-color': '#ff4fd8', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
    m.addLayer({ id: 'plan-problems', type: 'circle', source: 'plan-problems',
      paint: { 'circle-radius': 9, 'circle-color': 'rgba(255,60,60,0.35)', 'circle-stroke-color': '#ff3c3c', 'circle-stroke-width': 2.5 } });
  }

  setVisible(on) {
    if (!this.map.getLayer('plan-parcels')) return;
    for (const id of ['plan-parcels', 'plan-parcels-line', 'plan-preview-line', 'plan-draw-line', 'plan-draw-points', 'plan-problems']) {
      this.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    }
  }

  paintParcels() {
    const m = this.map;
    if (!m.getLayer('plan-parcels')) return;
    const sel = this.grid ?? '';
    const picked = this.draft ? [...this.draft.picked.keys()] : [];
    m.setPaintProperty('plan-parcels', 'fill-color', ['case',
      ['in', ['id'], ['literal', picked]], 'rgba(255,224,102,0.75)',
      ['==', ['get', 'grid_code'], sel], 'rgba(53,194,255,0.22)',
      'rgba(0,0,0,0.01)']);
    m.setFilter('plan-parcels-line', ['==', ['get', 'grid_code'], sel]);
  }

  setData(id, data) {
    this.map.getSource(id)?.setData(data);
  }

  // ---------- mode ----------
  enter() {
    this.active = true;
    this.ensureLayers();
    this.setVisible(true);
    if (this.map.getZoom() < 14 && !this.grid) this.msg = { kind: 'hint', text: t('plan.zoomin') };
    this.render();
  }

  leave() {
    this.active = false;
    this.select(null);
    this.setVisible(false);
    this.map.doubleClickZoom.enable();
  }

  select(code) {
    this.grid = code;
    this.draft = code ? new PlanDraft(code) : null;
    this.line.reset();
    this.preview = null;
    this.msg = null;
    this.history = null;
    this.movable = null;
    this.highlight(code);
    this.paintParcels();
    this.setData('plan-draw', EMPTY);
    this.setData('plan-preview', EMPTY);
    this.setData('plan-problems', EMPTY);
    this.setTool(this.tool);
    if (code) {
      this.loadHistory();
      this.loadMovable();
    }
    if (this.active) this.render();
  }

  setTool(tool) {
    // an unfinished line or outline does not carry over to another tool
    if (tool !== this.tool && !this.line.done) {
      this.line.reset();
      this.setData('plan-draw', EMPTY);
    }
    this.tool = tool;
    // a double click ends the line or outline instead of zooming
    if (DRAWING.has(tool) && this.grid) this.map.doubleClickZoom.disable();
    else this.map.doubleClickZoom.enable();
  }

  // the draft changed: the old preview no longer says what will happen
  changed() {
    this.preview = null;
    this.msg = null;
    this.setData('plan-preview', EMPTY);
    this.setData('plan-problems', EMPTY);
    this.paintParcels();
    this.render();
  }

  gridAt(point) {
    const m = this.map;
    const layers = ['grids-fill'].filter((l) => m.getLayer(l) && m.getLayoutProperty(l, 'visibility') !== 'none');
    const f = layers.length ? m.queryRenderedFeatures(point, { layers })[0] : null;
    if (f) return String(f.properties.code);
    const p = m.queryRenderedFeatures(point, { layers: ['plan-parcels'] })[0];
    return p ? String(p.properties.grid_code) : null;
  }

  // ---------- clicks ----------
  click(e) {
    if (!this.grid) {
      const code = this.gridAt(e.point);
      if (code) this.select(code);
      else {
        this.msg = { kind: 'hint', text: t('plan.zoomin') };
        this.render();
      }
      return;
    }
    if (this.tool === 'reassign') {
      const f = this.map.queryRenderedFeatures(e.point, { layers: ['plan-parcels'] })[0];
      if (!f || f.id == null) return;
      if (!this.draft.toggle(f.id, f.properties.grid_code)) {
        this.msg = { kind: 'error', text: t('plan.out.need') };
        this.render();
        return;
      }
      this.hook.plannerLastPick = { id: f.id, grid: f.properties.grid_code };
      this.changed();
    } else if (this.tool === 'merge') {
      const code = this.gridAt(e.point);
      if (!code || code === this.grid) return;
      this.draft.mergeWith = code;
      this.changed();
      this.runPreview();
    } else if (DRAWING.has(this.tool)) {
      this.line.add([e.lngLat.lng, e.lngLat.lat]);
      if (this.tool === 'split') this.draft.line = null;
      else this.draft.boundary = null;
      this.setData('plan-draw', this.line.geojson(null, { closed: this.tool === 'draw' }));
      this.changed();
    }
  }

  dblclick(e) {
    if (!this.grid || !DRAWING.has(this.tool)) return;
    e.preventDefault();
    const draw = this.tool === 'draw';
    const line = this.line.finish([e.lngLat.lng, e.lngLat.lat]);
    const ring = draw ? closeRing(line) : null;
    if (draw && line && !ring) this.line.done = false; // an outline needs three points
    this.setData('plan-draw', this.line.geojson(null, { closed: draw }));
    if (!line || (draw && !ring)) return;
    if (draw) this.draft.boundary = ring;
    else this.draft.line = line;
    this.changed();
    this.runPreview();
  }

  mousemove(e) {
    if (this.grid && DRAWING.has(this.tool) && this.line.points.length && !this.line.done) {
      this.setData('plan-draw', this.line.geojson([e.lngLat.lng, e.lngLat.lat], { closed: this.tool === 'draw' }));
    }
  }

  // ---------- API ----------
  async runPreview() {
    if (!this.draft || this.draft.empty) return;
    const draft = this.draft;
    this.msg = { kind: 'hint', text: t('loading') };
    this.render();
    const res = await postJSON(api.plans(), draft.body({ by: this.actor(), reason: this.reason }));
    if (draft !== this.draft) return;
    this.msg = null;
    if (res.status === 201) {
      this.preview = { ok: true, ...res.body };
      this.setData('plan-preview', previewGeoJSON(res.body));
      // a planner's draft waits for an approver (it cannot apply it)
      if (!this.can.planApply) this.msg = { kind: 'ok', text: t('plan.submitted').replace('{id}', res.body.plan_id) };
    } else if (res.status === 422) {
      this.preview = { ok: false, problems: res.body?.problems ?? [], error: res.error };
    } else {
      this.preview = null;
      this.msg = errorMsg(res.error);
    }
    this.setData('plan-problems', problemsGeoJSON(this.preview?.problems));
    this.hook.plannerPreview = this.preview;
    this.render();
  }

  async apply() {
    const p = this.preview;
    if (!p?.ok) return;
    this.msg = { kind: 'hint', text: t('loading') };
    this.render();
    const res = await postJSON(api.planApply(p.plan_id), {});
    this.hook.plannerApply = { status: res.status, planId: p.plan_id };
    if (res.status === 200) {
      this.draft?.clear();
      this.line.reset();
      this.preview = null;
      this.setData('plan-draw', EMPTY);
      this.setData('plan-preview', EMPTY);
      this.setData('plan-problems', EMPTY);
      this.msg = { kind: 'ok', text: t('plan.applied').replace('{id}', p.plan_id) };
      this.paintParcels();
      this.afterEdit();
    } else if (res.status === 412) {
      // someone else changed these grids: the preview is void
      this.preview = null;
      this.setData('plan-preview', EMPTY);
      this.msg = errorMsg(res.error, `${t('plan.stale')} (${(res.body?.changed ?? []).map((c) => c.code).join(', ')})`);
      this.afterEdit();
    } else {
      this.msg = errorMsg(res.error, refusal(res.error));
    }
    this.render();
  }

  async revert(version) {
    const code = this.grid;
    const res = await postJSON(api.gridRevert(code), { version, by: this.actor(), reason: `${t('plan.revert')} v${version}` });
    if (code !== this.grid) return;
    if (res.status === 200) {
      this.msg = { kind: 'ok', text: t('plan.reverted').replace('{v}', version) };
      this.afterEdit();
    } else {
      this.msg = errorMsg(res.error, res.status === 412 ? t('plan.stale') : refusal(res.error));
    }
    this.render();
  }

  afterEdit() {
    Promise.resolve(this.refresh()).catch(() => {});
    if (!this.grid) return;
    this.loadHistory();
    this.loadMovable();
  }

  // actor: who the plan is by, the signed-in user (the server takes it
  // from the credential; sent while its older releases still ask for it).
  actor() {
    return this.session()?.name || t('plan.by.default');
  }

  // openPlan shows a submitted plan (GET /api/v1/plans/{id}) for its
  // approver to check and apply; the map goes to its grids.
  async openPlan(id) {
    id = String(id ?? '').trim();
    if (!/^\d+$/.test(id)) return;
    this.select(null);
    this.openId = id;
    this.msg = { kind: 'hint', text: t('loading') };
    this.render();
    let body;
    try {
      body = await fetchJSON(api.plan(id));
    } catch (e) {
      this.msg = errorMsg(e);
      this.render();
      return;
    }
    if (!body || body.notFound) {
      this.msg = { kind: 'error', text: errorText({ code: 'not_found' }), code: 'not_found' };
      this.render();
      return;
    }
    this.msg = body.status === 'applied' ? { kind: 'hint', text: t('plan.status.applied') } : null;
    this.preview = { ok: !(body.problems?.length) && body.status !== 'applied', opened: true, ...body };
    this.hook.plannerOpened = this.preview;
    const geo = previewGeoJSON(body);
    this.setData('plan-preview', geo);
    const pts = geo.features.flatMap((f) => f.geometry.coordinates.flat(f.geometry.type === 'Polygon' ? 1 : 2));
    if (pts.length) {
      const xs = pts.map((p) => p[0]);
      const ys = pts.map((p) => p[1]);
      this.map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]],
        { padding: { top: 80, bottom: 40, left: 290, right: 360 }, duration: 0 });
    }
    this.render();
  }

  // renderOpen: the approver's "open plan #" box.
  renderOpen(el) {
    const box = el('div', 'open');
    const inp = el('input');
    inp.id = 'plan-open-id';
    inp.inputMode = 'numeric';
    inp.placeholder = t('plan.open.id');
    inp.value = this.openId;
    inp.addEventListener('input', () => (this.openId = inp.value));
    inp.addEventListener('keydown', (e) => e.key === 'Enter' && this.openPlan(inp.value));
    const b = el('button', null, t('plan.open'));
    b.id = 'plan-open';
    b.addEventListener('click', () => this.openPlan(inp.value));
    box.append(inp, b);
    return [box, el('div', 'sub', t('plan.open.hint'))];
  }

  // loadMovable asks the server which grids touch this one (tiles hold
  // only what is on screen, and a corner is not an edge).
  async loadMovable() {
    const code = this.grid;
    let list = null;
    try {
      const body = await fetchJSON(api.gridNeighbours(code));
      if (body?.neighbours) list = movableTo(body);
    } catch {
      /* the loaded tiles' grids stand in */
    }
    if (code !== this.grid) return;
    this.movable = list;
    this.hook.plannerMovable = list;
    if (this.active) this.render();
  }

  async loadHistory() {
    const code = this.grid;
    try {
      const h = await fetchJSON(api.gridHistory(code));
      if (code !== this.grid) return;
      this.history = h?.versions ?? [];
    } catch (e) {
      if (code !== this.grid) return;
      this.history = { error: e };
    }
    this.hook.plannerHistory = this.history;
    if (this.active) this.render();
  }

  // ---------- panel ----------
  render() {
    if (!this.active) return;
    const body = this.panel();
    body.replaceChildren();
    const el = (tag, cls, text) => {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text != null) e.textContent = text;
      return e;
    };
    const box = el('div', 'planner');
    box.id = 'planner';
    body.appendChild(box);
    box.append(el('h3', null, t('plan.title')));
    if (!this.grid) {
      if (this.can.planApply) box.append(...this.renderOpen(el));
      box.append(el('div', 'sub', t('plan.pick')));
      if (this.msg) box.append(msgEl(el, this.msg));
      if (this.preview) box.append(this.renderPreview(el));
      return;
    }
    const sub = el('div', 'sub', `${t('level.grid')} ${this.grid}`);
    sub.dataset.grid = this.grid;
    box.append(sub);

    if (!this.can.planDraft) {
      // an approver: the grid's history (and revert); plans come by number
      const actions = el('div', 'actions');
      const other = el('button', null, t('plan.other'));
      other.addEventListener('click', () => this.select(null));
      actions.append(other);
      box.append(actions);
      if (this.msg) box.append(msgEl(el, this.msg));
      box.append(this.renderHistory(el));
      return;
    }
    const tools = el('div', 'tools');
    for (const k of TOOLS) {
      const b = el('button', k === this.tool ? 'on' : '', t(`plan.tool.${k}`));
      b.dataset.tool = k;
      b.addEventListener('click', () => {
        this.setTool(k);
        this.render();
      });
      tools.append(b);
    }
    box.append(tools, el('div', 'sub', t(`plan.hint.${this.tool}`)));

    const d = this.draft;
    if (this.tool === 'reassign') {
      const picked = el('div', 'picked', `${t('plan.picked')}: ${d.picked.size}`);
      picked.dataset.count = d.picked.size;
      const lab = el('label', 'out', `${t('plan.out')} `);
      const sel = el('select');
      sel.id = 'plan-out';
      const none = el('option', null, '—');
      none.value = '';
      sel.append(none);
      for (const n of this.movable ?? neighbours(this.grid, this.map.querySourceFeatures('grids', { sourceLayer: 'grids' }))) {
        const o = el('option', null, `${n.code} ${n.name}`);
        o.value = n.code;
        o.selected = n.code === d.outTo;
        sel.append(o);
      }
      sel.addEventListener('change', () => {
        d.outTo = sel.value;
        // parcels picked to go out follow the new choice; none without one
        if (!d.outTo) for (const [id, g] of d.picked) if (g === this.grid) d.picked.delete(id);
        this.changed();
      });
      lab.append(sel);
      box.append(picked, lab);
    } else if (this.tool === 'merge') {
      box.append(el('div', 'picked', `${t('plan.merge.with')}: ${d.mergeWith || '—'}`));
    } else {
      box.append(el('div', 'picked', `${t('plan.points')}: ${this.line.points.length}${this.line.done ? ' ✓' : ''}`));
    }

    const who = el('div', 'who');
    const why = el('input');
    why.id = 'plan-reason';
    why.value = this.reason;
    why.placeholder = t('plan.reason');
    why.addEventListener('input', () => (this.reason = why.value));
    who.append(why);
    box.append(who);

    const actions = el('div', 'actions');
    const pv = el('button', 'primary', t(this.can.planApply ? 'plan.preview' : 'plan.submit'));
    pv.id = 'plan-preview';
    pv.disabled = d.empty;
    pv.addEventListener('click', () => this.runPreview());
    const clr = el('button', null, t('plan.clear'));
    clr.id = 'plan-clear';
    clr.addEventListener('click', () => {
      d.clear();
      this.line.reset();
      this.setData('plan-draw', EMPTY);
      this.changed();
    });
    const other = el('button', null, t('plan.other'));
    other.addEventListener('click', () => this.select(null));
    actions.append(pv, clr, other);
    box.append(actions);

    if (this.msg) box.append(msgEl(el, this.msg));
    if (this.preview) box.append(this.renderPreview(el));
    box.append(this.renderHistory(el));
  }

  renderPreview(el) {
    const p = this.preview;
    const sec = el('section', 'preview');
    sec.id = 'plan-result';
    sec.dataset.ok = p.ok ? '1' : '0';
    if (p.plan_id) sec.dataset.plan = p.plan_id;
    sec.append(el('h2', null, p.ok || p.opened ? `${t('plan.preview.title')} #${p.plan_id}` : t('plan.rejected')));
    if (p.opened && p.by) sec.append(el('div', 'sub', `${t('plan.by.who')}: ${p.by}${p.reason ? ` · ${p.reason}` : ''}`));
    if (p.ok || p.opened) {
      const table = el('table', 'grids');
      const head = el('tr');
      for (const k of ['grid', 'households', 'band']) head.append(el('th', null, t(`plan.col.${k}`)));
      table.append(head);
      for (const r of previewRows(p)) {
        const tr = el('tr', `band-${r.place}`);
        tr.dataset.code = r.code;
        tr.dataset.before = r.before;
        tr.dataset.after = r.after;
        tr.append(el('td', null, `${r.code}${r.action !== 'changed' ? ` (${t(`plan.action.${r.action}`)})` : ''}`));
        const hh = el('td', 'hh', `${formatNumber(r.before)} → `);
        const after = el('b', null, formatNumber(r.after));
        after.style.color = r.colour;
        hh.append(after);
        tr.append(hh, el('td', 'band', r.band ? `${r.band.min}–${r.band.max} ${t(`plan.place.${r.place}`)}` : ''));
        table.append(tr);
      }
      sec.append(table);
      const moves = p.moves ?? [];
      if (moves.length) {
        sec.append(el('h2', null, t('plan.moves')));
        const ul = el('ul', 'moves');
        for (const mv of moves) {
          const figs = MOVE_KEYS.filter((k) => mv[k]).map((k) => `${t(`plan.move.${k}`)} ${formatNumber(mv[k])}`);
          const li = el('li', null, `${mv.from} → ${mv.to}: ${figs.join(' · ') || t('plan.move.none')}`);
          li.dataset.households = mv.households ?? 0;
          ul.append(li);
        }
        sec.append(ul);
      }
      for (const w of p.workers ?? []) sec.append(el('div', 'sub', `${t('plan.worker')}: ${w.name || `#${w.unit_id}`} ${w.from} → ${w.to}`));
    }
    if (p.problems?.length) {
      const ul = el('ul', 'problems error');
      for (const pr of p.problems) {
        const li = el('li', null, problemText(pr));
        if (pr.reason) li.title = pr.reason;
        if (pr.rule) li.dataset.rule = pr.rule;
        ul.append(li);
      }
      sec.append(ul);
    } else if (!p.ok && p.error) sec.append(msgEl(el, errorMsg(p.error)));
    if (p.ok && this.can.planApply) {
      const b = el('button', 'primary', t('plan.apply'));
      b.id = 'plan-apply';
      b.addEventListener('click', () => this.apply());
      sec.append(b);
    }
    return sec;
  }

  renderHistory(el) {
    const sec = el('section', 'history');
    sec.id = 'plan-history';
    sec.append(el('h2', null, t('plan.history')));
    const h = this.history;
    if (!h) {
      sec.append(el('div', 'sub', t('loading')));
      return sec;
    }
    if (h.error) {
      sec.append(msgEl(el, errorMsg(h.error)));
      return sec;
    }
    const ol = el('ol');
    for (const v of h) {
      const li = el('li');
      li.dataset.version = v.version;
      const when = formatDateTime(v.changed_at);
      li.append(el('b', null, `v${v.version}`), ` ${v.changed_by || '—'} · ${when}`, el('br'), el('small', 'sub', v.reason || (v.plan_id == null ? t('plan.unplanned') : '')));
      if (v.current) li.append(' ', el('small', 'current', t('plan.current')));
      else if (this.can.planRevert) {
        const b = el('button', 'revert', t('plan.revert'));
        b.addEventListener('click', () => this.revert(v.version));
        li.append(' ', b);
      }
      ol.append(li);
    }
    sec.append(ol);
    return sec;
  }
}
