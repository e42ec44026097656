import { describe, it, expect, beforeEach } from 'vitest';
import { controlsFor, layerGroupsFor, metricsFor, modesFor, defaultMode, retryAfterSeconds, formatWait, loginErrorText, roleText,
  regionText, userLine, CONTROLS } from '../../src/access.js';
import { dict, setLang } from '../../src/i18n.js';
import { ApiError, codeOfStatus, postJSON, fetchJSON, onUnauthorized } from '../../src/urls.js';

// The permissions GET /api/v1/session lists per role (policy.go's table).
const PERMS = {
  admin: ['events.read', 'map.read', 'metrics.read', 'open311.public', 'session', 'users.manage'],
  commander: ['buildings.read', 'events.handle', 'events.read', 'events.report', 'map.read', 'open311.public', 'open311.read', 'plans.read',
    'reporter.read', 'responders.read', 'session', 'staff.contacts', 'units.status'],
  planner: ['events.read', 'map.read', 'open311.public', 'plans.draft', 'plans.read', 'session'],
  approver: ['events.read', 'map.read', 'open311.public', 'plans.apply', 'plans.read', 'session'],
  responder: ['events.handle', 'events.read', 'events.report', 'map.read', 'open311.public', 'responders.read', 'session', 'staff.contacts',
    'units.position', 'units.status'],
  auditor: ['audit.read', 'session'],
  viewer: ['buildings.read', 'events.read', 'map.read', 'open311.public', 'open311.read', 'session'],
};
const on = (c) => Object.keys(c).filter((k) => c[k]).sort();

describe('controlsFor', () => {
  it('a planner drafts but cannot apply, dispatch or read residents', () => {
    const c = controlsFor(PERMS.planner);
    expect(c.planDraft).toBe(true);
    expect(c.planApply).toBe(false);
    expect(c.planRevert).toBe(false);
    expect(c.planner).toBe(true);
    expect(c.dispatch).toBe(false);
    expect(c.residents).toBe(false);
    expect(c.responder).toBe(false);
    expect(modesFor(c)).toEqual(['command', 'planner']);
  });

  it('an approver applies and reverts but has no drafting tools', () => {
    const c = controlsFor(PERMS.approver);
    expect([c.planApply, c.planRevert, c.planDraft, c.planner]).toEqual([true, true, false, true]);
  });

  it('a commander: the command centre with responders, dispatch and residents, no planner mode', () => {
    const c = controlsFor(PERMS.commander);
    expect(modesFor(c)).toEqual(['command', 'responder']);
    expect([c.dispatch, c.residents, c.kpi, c.events, c.planHistory]).toEqual([true, true, true, true, true]);
  });

  it('a responder: its view and dispatch, no residents', () => {
    const c = controlsFor(PERMS.responder);
    expect(modesFor(c)).toEqual(['command', 'responder']);
    expect([c.dispatch, c.residents]).toEqual([true, false]);
  });

  it('an auditor has no wall; nothing or garbage allows nothing', () => {
    expect(on(controlsFor(PERMS.auditor))).toEqual([]);
    expect(modesFor(controlsFor(PERMS.auditor))).toEqual([]);
    for (const x of [undefined, null, 'map.read', {}]) expect(on(controlsFor(x))).toEqual([]);
  });

  it('every control names permissions the policy knows', () => {
    const known = new Set(Object.values(PERMS).flat());
    for (const need of Object.values(CONTROLS)) for (const p of Array.isArray(need) ? need : need.anyOf) expect(known.has(p), p).toBe(true);
  });

  it('events layers, colouring by events and KPI need events.read', () => {
    const none = controlsFor(['map.read', 'session']);
    expect([none.events, none.kpi, none.live]).toEqual([false, false, false]);
    expect(layerGroupsFor(['people', 'events', 'heat', 'grids'], none)).toEqual(['people', 'grids']);
    expect(layerGroupsFor(['people', 'events', 'heat'], controlsFor(PERMS.viewer))).toEqual(['people', 'events', 'heat']);
    const ms = [{ key: 'none' }, { key: 'households' }, { key: 'open_events' }, { key: 'overdue' }, { key: 'closure_rate' }];
    expect(metricsFor(ms, none).map((m) => m.key)).toEqual(['none', 'households']);
    expect(metricsFor(ms, controlsFor(PERMS.viewer))).toHaveLength(5);
  });

  it('where each role starts', () => {
    const mode = (role) => defaultMode({ role }, controlsFor(PERMS[role]));
    expect(['commander', 'planner', 'approver', 'responder', 'viewer', 'auditor'].map(mode)).toEqual(
      ['command', 'planner', 'planner', 'responder', 'command', null]);
  });
});

describe('login errors', () => {
  beforeEach(() => setLang('zh'));

  it('wrong password, throttled with and without the wait, bad input, no network: in the page language', () => {
    expect(loginErrorText({ status: 401, error: new ApiError(401, { code: 'unauthorized', error: 'wrong name or password' }) })).toBe('用户名或密码错误');
    expect(loginErrorText({ status: 429, retryAfter: 42 })).toBe('登录失败次数过多，请 42 秒后再试');
    expect(loginErrorText({ status: 429, retryAfter: 900 })).toBe('登录失败次数过多，请 15 分钟后再试');
    expect(loginErrorText({ status: 429 })).toBe('登录失败次数过多，请稍后再试');
    expect(loginErrorText({ status: 400 })).toBe('请输入用户名和密码');
    expect(loginErrorText({ status: 0 })).toBe('网络连接失败');
    expect(loginErrorText({ status: 503, error: new ApiError(503, { code: 'unavailable', error: 'db down' }) })).toBe('服务暂不可用，请稍后再试');
    expect(loginErrorText({ status: 401 }, 'en')).toBe('wrong user name or password');
    expect(loginErrorText({ status: 429, retryAfter: 42 }, 'en')).toBe('too many failed sign-ins: try again in 42 s');
    expect(loginErrorText({ status: 429, retryAfter: 120 }, 'en')).toBe('too many failed sign-ins: try again in 2 min');
  });

  it('no English in the Chinese login words, and every key in both languages', () => {
    for (const k of Object.keys(dict.zh).filter((k) => /^(login|role)\./.test(k))) {
      expect(dict.zh[k], k).toMatch(/[\u4e00-\u9fff]/);
      expect(dict.en[k], `en ${k}`).toBeTruthy();
    }
  });

  it('Retry-After: seconds or an HTTP date', () => {
    expect(retryAfterSeconds('30')).toBe(30);
    expect(retryAfterSeconds(null)).toBe(null);
    expect(retryAfterSeconds('soon')).toBe(null);
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(retryAfterSeconds('Fri, 04 Dec 2026 12:01:30 GMT', now)).toBe(90);
    expect(retryAfterSeconds('Fri, 04 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(formatWait(5, 'zh')).toBe('5 秒');
  });

  it('401 and 429 have codes and words', () => {
    expect(codeOfStatus(401)).toBe('unauthorized');
    expect(codeOfStatus(429)).toBe('too_many_attempts');
    for (const l of ['zh', 'en']) for (const c of ['unauthorized', 'too_many_attempts', 'forbidden_origin']) expect(dict[l][`err.${c}`]).toBeTruthy();
  });
});

describe('the header', () => {
  it('name, role, jurisdiction and unit in the page language', () => {
    expect(userLine({ name: 'wang', role: 'commander', region: '' }, 'zh')).toBe('wang · 指挥长 · 全市');
    expect(userLine({ name: 'li', role: 'responder', region: '500103', unit_id: 7 }, 'en')).toBe('li · responder · district 500103 · unit #7');
    expect(regionText('500103001', 'zh')).toBe('街道/乡镇 500103001');
    expect(roleText('nobody', 'zh')).toBe('nobody');
    expect(userLine(null)).toBe('');
  });
});

describe('a 401 means the session is gone', () => {
  const impl = (status, body, headers) => async () => ({ status, ok: status < 300, statusText: '', headers, json: async () => body });

  it('any call answering 401 tells the page; a login\'s own 401 does not', async () => {
    let n = 0;
    onUnauthorized(() => n++);
    await expect(fetchJSON('/x', { fetchImpl: impl(401, { code: 'unauthorized', error: 'no credential' }) })).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(n).toBe(1);
    const r = await postJSON('/y', {}, { fetchImpl: impl(401, null) });
    expect(r.error.code).toBe('unauthorized');
    expect(n).toBe(2);
    await postJSON('/api/v1/session', { name: 'a', password: 'b' }, { fetchImpl: impl(401, null), quiet401: true });
    await fetchJSON('/z', { fetchImpl: impl(200, {}) });
    expect(n).toBe(2);
    onUnauthorized(null);
  });

  it('a 429 answer keeps its headers (Retry-After); a DELETE sends no body', async () => {
    const h = new Headers({ 'Retry-After': '17' });
    const r = await postJSON('/api/v1/session', { name: 'a', password: 'b' }, { fetchImpl: impl(429, { code: 'too_many_attempts' }, h), quiet401: true });
    expect(retryAfterSeconds(r.headers.get('Retry-After'))).toBe(17);
    let seen;
    await postJSON('/api/v1/session', undefined, { method: 'DELETE', fetchImpl: async (url, init) => ((seen = init), { status: 204, ok: true, headers: new Headers() }) });
    expect(seen.method).toBe('DELETE');
    expect(seen.body).toBeUndefined();
  });
});
