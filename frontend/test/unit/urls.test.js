import { describe, it, expect } from 'vitest';
import { api, levelOf, parentOf, fetchJSON, postJSON, ApiError, codeOfStatus } from '../../src/urls.js';

const res = (status, body) => ({
  status,
  ok: status >= 200 && status < 300,
  statusText: 'x',
  json: async () => {
    if (body === undefined) throw new Error('not json');
    return body;
  },
});

describe('urls', () => {
  it('builds API URLs, encoding and dropping empty parameters', () => {
    expect(api.nearest({ lon: 106.123456789, lat: 29.5, k: 5 })).toBe('/api/v1/responders/nearest?lon=106.1234568&lat=29.5&k=5');
    expect(api.nearest({ lon: 1, lat: 2, kind: 'fire', status: '' })).toBe('/api/v1/responders/nearest?lon=1&lat=2&k=5&kind=fire');
    expect(api.search('  解放碑 & co ')).toBe('/api/v1/search?q=%E8%A7%A3%E6%94%BE%E7%A2%91%20%26%20co&limit=10');
    expect(api.stats({ level: 'grid', metric: 'open_events' })).toBe('/api/v1/stats?level=grid&metric=open_events');
    expect(api.region('500103')).toBe('/api/v1/regions/500103');
    expect(api.building(42)).toBe('/api/v1/buildings/42');
    expect(api.tileJSON('grids')).toBe('/tiles/grids.json');
    expect(api.stream({ kinds: 'event' })).toBe('/api/v1/stream?kinds=event');
    expect(api.stream({ kinds: 'event,unit', lastEventId: 7 })).toBe('/api/v1/stream?kinds=event%2Cunit&last_event_id=7');
    expect(api.plans()).toBe('/api/v1/plans');
    expect(api.plan(3)).toBe('/api/v1/plans/3');
    expect(api.planApply(3)).toBe('/api/v1/plans/3/apply');
    expect(api.gridHistory('500103001001001')).toBe('/api/v1/grids/500103001001001/history');
    expect(api.gridRevert('500103001001001')).toBe('/api/v1/grids/500103001001001/revert');
  });

  it('tells levels and parents by code length', () => {
    expect(levelOf('500103')).toBe('district');
    expect(levelOf('500103001')).toBe('street');
    expect(levelOf('500103001001')).toBe('community');
    expect(levelOf('500103001001001')).toBe('grid');
    expect(levelOf('5001')).toBe(null);
    expect(levelOf('50010a')).toBe(null);
    expect(parentOf('500103001001001')).toBe('500103001001');
    expect(parentOf('500103')).toBe(null);
  });

  it('fetchJSON: null for a missing route, notFound for a missing thing, throws on errors', async () => {
    const f = (status, body) => () => Promise.resolve(res(status, body));
    expect(await fetchJSON('/x', { fetchImpl: f(200, { a: 1 }) })).toEqual({ a: 1 });
    expect(await fetchJSON('/x', { fetchImpl: f(404, { code: 'not_found', error: 'no such route: /x' }) })).toBe(null);
    expect(await fetchJSON('/x', { fetchImpl: f(405, { code: 'method_not_allowed' }) })).toBe(null);
    expect(await fetchJSON('/x', { fetchImpl: f(404, undefined) })).toBe(null);
    expect(await fetchJSON('/x', { fetchImpl: f(404, { code: 'not_found', error: 'no region 500199' }) }))
      .toEqual({ notFound: true, code: 'not_found', error: 'no region 500199' });
    await expect(fetchJSON('/x', { fetchImpl: f(400, { error: 'lon out of range' }) })).rejects.toThrow('400 lon out of range');
    await expect(fetchJSON('/x', { fetchImpl: f(503, undefined) })).rejects.toThrow('503');
  });

  it('fetchJSON throws an ApiError with the status, code, English detail and request id', async () => {
    const f = (status, body) => () => Promise.resolve(res(status, body));
    const err = await fetchJSON('/x', { fetchImpl: f(400, { error: 'lon out of range', code: 'invalid', request_id: 'r1' }) }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(Error);
    expect([err.status, err.code, err.detail, err.requestId]).toEqual([400, 'invalid', 'lon out of range', 'r1']);
    const plain = await fetchJSON('/x', { fetchImpl: f(502, undefined) }).catch((e) => e);
    expect([plain.status, plain.code, plain.detail, plain.requestId, plain.body]).toEqual([502, 'unavailable', 'x', null, null]);
    // a network failure is fetch's own error, untouched
    await expect(fetchJSON('/x', { fetchImpl: () => Promise.reject(new TypeError('Failed to fetch')) })).rejects.toThrow(TypeError);
  });

  it('codeOfStatus follows api/errors.go for bodies without a code', () => {
    expect([0, 400, 403, 404, 409, 412, 413, 422, 500, 502, 503, 418].map(codeOfStatus)).toEqual(
      ['network', 'invalid', 'forbidden', 'not_found', 'conflict', 'stale', 'too_large', 'plan_rejected', 'internal', 'unavailable', 'unavailable', 'invalid']);
  });

  it('postJSON answers status, body and an ApiError that carries the body (a plan refusal\'s problems)', async () => {
    let seen;
    const impl = (status, body) => (url, init) => {
      seen = { url, ...init };
      return Promise.resolve(res(status, body));
    };
    const ok = await postJSON('/p', { a: 1 }, { fetchImpl: impl(201, { plan_id: 3 }) });
    expect(ok).toEqual({ status: 201, body: { plan_id: 3 }, error: null });
    expect(seen).toMatchObject({ url: '/p', method: 'POST', body: '{"a":1}' });
    expect(seen.headers['Content-Type']).toBe('application/json');
    const problems = [{ op: -1, grid: 'g', rule: 'hole', reason: 'grid g would get a hole' }];
    const no = await postJSON('/p', {}, { fetchImpl: impl(422, { error: 'grid g would get a hole', code: 'plan_rejected', request_id: 'q', problems }) });
    expect(no.status).toBe(422);
    expect(no.body.problems).toEqual(problems);
    expect([no.error.status, no.error.code, no.error.detail, no.error.requestId]).toEqual([422, 'plan_rejected', 'grid g would get a hole', 'q']);
    expect(no.error.body.problems).toEqual(problems);
    const put = await postJSON('/u', {}, { method: 'PUT', fetchImpl: impl(409, { error: 'off duty', code: 'illegal_transition' }) });
    expect(seen.method).toBe('PUT');
    expect(put.error.code).toBe('illegal_transition');
    const empty = await postJSON('/p', {}, { fetchImpl: impl(412, undefined) });
    expect([empty.body, empty.error.code, empty.error.detail]).toEqual([null, 'stale', 'x']);
  });

  it('postJSON answers a failed connection as status 0, code network', async () => {
    const r = await postJSON('/p', {}, { fetchImpl: () => Promise.reject(new TypeError('Failed to fetch')) });
    expect([r.status, r.body, r.error.code, r.error.detail]).toEqual([0, null, 'network', 'Failed to fetch']);
  });
});

describe('event filters and responder URLs', async () => {
  const { eventFilterQuery } = await import('../../src/urls.js');
  it('builds the events tiles filter in Shanghai dates', () => {
    const now = Date.parse('2026-11-30T20:00:00Z'); // 04:00 on 1 Dec in Shanghai
    expect(eventFilterQuery({ days: 1 }, now)).toBe('since=2026-12-01');
    expect(eventFilterQuery({ days: 7, open: true }, now)).toBe('status=open&since=2026-11-25');
    expect(eventFilterQuery({}, now)).toBe('');
    expect(api.eventsTiles('http://h/tiles/events/{z}/{x}/{y}.mvt?v=3', { open: true })).toBe('http://h/tiles/events/{z}/{x}/{y}.mvt?v=3&status=open');
    expect(api.eventsTiles('http://h/t.mvt?v=3', {})).toBe('http://h/t.mvt?v=3');
  });

  it('builds event responder and unit status URLs', () => {
    expect(api.eventResponders(42, { kind: 'fire' })).toBe('/api/v1/events/42/responders?k=8&kind=fire');
    expect(api.unitStatus(7)).toBe('/api/v1/units/7/status');
  });
});
