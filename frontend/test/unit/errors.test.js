import { describe, it, expect, beforeEach } from 'vitest';
import { dict, setLang, errorText, errorDetail, errorTitle, showError, ruleText, problemText } from '../../src/i18n.js';
import { ApiError } from '../../src/urls.js';

// The codes api/errors.go answers, and the plan rules of geo/plan.go and
// postgis/gridedit*.go: each has words in both languages.
const CODES = ['invalid', 'not_found', 'conflict', 'stale', 'forbidden', 'unavailable', 'too_large', 'illegal_transition', 'plan_rejected', 'internal'];
const RULES = ['empty', 'code', 'community', 'shape', 'coordinates', 'self_intersection', 'retired_not_empty', 'disconnected', 'hole', 'min_area',
  'outside_community', 'unknown_grid', 'retired', 'not_adjacent', 'no_cut', 'many_cuts', 'codes', 'no_overlap', 'no_neighbour', 'unknown_parcel',
  'union_changed', 'no_parcels'];

const bad = new ApiError(400, { error: 'lon out of range', code: 'invalid', request_id: 'r-7' });

describe('errorText', () => {
  beforeEach(() => setLang('zh'));

  it('every server code and plan rule has Chinese and English words', () => {
    for (const l of ['zh', 'en']) {
      for (const c of CODES) expect(dict[l][`err.${c}`], `${l} err.${c}`).toBeTruthy();
      for (const r of RULES) expect(dict[l][`rule.${r}`], `${l} rule.${r}`).toBeTruthy();
    }
    // Chinese words are Chinese: no English reason slipped in
    for (const k of Object.keys(dict.zh).filter((k) => /^(err|rule)\./.test(k))) expect(dict.zh[k], k).toMatch(/[\u4e00-\u9fff]/);
  });

  it('zh: the localized summary only, the reason and request id for the tooltip', () => {
    expect(errorText(bad)).toBe('请求无效');
    expect(errorText(new ApiError(412, { error: 'grid changed', code: 'stale' }))).toBe('数据已被他人修改，请刷新后重试');
    expect(errorText(new ApiError(409, { error: 'unit is off duty', code: 'illegal_transition' }))).toBe('当前状态下不允许此操作');
    expect(errorDetail(bad)).toBe('lon out of range');
    expect(errorTitle(bad)).toBe('lon out of range (请求编号 r-7)');
  });

  it('en: the summary followed by the server reason', () => {
    expect(errorText(bad, 'en')).toBe('invalid request · lon out of range');
    expect(errorTitle(bad, 'en')).toBe('lon out of range (request r-7)');
    expect(errorText(new ApiError(500, { error: 'internal error', code: 'internal' }), 'en')).toBe('internal server error · internal error');
  });

  it('falls back to the generic error for an unknown code or a plain Error', () => {
    const odd = new ApiError(418, { error: 'teapot', code: 'teapot' });
    expect(errorText(odd)).toBe('出错了');
    expect(errorText(odd, 'en')).toBe('error · teapot');
    expect(errorText(new Error('boom'))).toBe('出错了');
    expect(errorTitle(new Error('boom'))).toBe('boom');
    expect(errorText(null)).toBe('出错了');
    expect(errorText('x', 'en')).toBe('error · x');
  });

  it('a body without a code takes it from the status; a failed connection is a network error', () => {
    expect(errorText(new ApiError(503, null, 'Service Unavailable'))).toBe('服务暂不可用，请稍后再试');
    expect(errorText(new ApiError(0, null, 'Failed to fetch'))).toBe('网络连接失败');
    expect(errorText(new ApiError(413, null), 'en')).toBe('request too large');
  });

  it('showError fills an element: text, title and code', () => {
    const el = { dataset: {}, textContent: '', title: '' };
    showError(el, bad);
    expect(el).toEqual({ dataset: { code: 'invalid' }, textContent: '请求无效', title: 'lon out of range (请求编号 r-7)' });
    setLang('en');
    const el2 = { dataset: {}, textContent: '', title: '' };
    showError(el2, new Error('boom'));
    expect(el2).toEqual({ dataset: {}, textContent: 'error · boom', title: 'boom' });
  });
});

describe('plan problems', () => {
  const G = '500103001001001';
  const p = (rule, reason, grid = G) => ({ op: -1, grid, rule, reason });

  it('zh: "<grid>: <rule in words>", never the English reason', () => {
    expect(problemText(p('disconnected', `grid ${G} would be split in 2 pieces`), 'zh')).toBe(`${G}: 网格将被分割成不相连的多块`);
    expect(problemText(p('hole', `grid ${G} would get a hole`), 'zh')).toBe(`${G}: 网格内将出现空洞`);
    expect(problemText(p('min_area', 'grid would cover 10 m², under the minimum 5000 m²'), 'zh')).toBe(`${G}: 网格面积低于下限`);
    expect(problemText(p('outside_community', 'x'), 'zh')).toBe(`${G}: 网格将超出所属社区`);
    expect(problemText(p('not_adjacent', 'grids a and b are not adjacent'), 'zh')).toBe(`${G}: 两个网格不相邻`);
    for (const r of RULES) expect(problemText(p(r, 'English reason'), 'zh')).not.toMatch(/English/);
  });

  it('a problem without a grid is its rule alone; an empty plan is not an empty grid', () => {
    expect(problemText(p('unknown_parcel', 'parcel 9 does not exist', ''), 'zh')).toBe('地块不存在');
    expect(ruleText(p('empty', 'a plan needs at least one operation', ''), 'zh')).toBe('方案中没有任何操作');
    expect(ruleText(p('empty', 'grid would be left without parcels'), 'zh')).toBe('网格将不再包含任何地块（请改用合并）');
  });

  it('en: the English words of the rule', () => {
    expect(problemText(p('no_cut', 'the line does not cut grid'), 'en')).toBe(`${G}: the line does not cut the grid in two (draw it from edge to edge)`);
    expect(problemText(p('disconnected', 'r'), 'en')).toBe(`${G}: the grid would fall apart into disconnected pieces`);
  });

  it('an unknown rule shows the server reason itself', () => {
    expect(problemText(p('brand_new_rule', 'grid is too pointy'), 'zh')).toBe(`${G}: grid is too pointy`);
    expect(problemText(p('brand_new_rule', 'grid is too pointy'), 'en')).toBe(`${G}: grid is too pointy`);
    expect(ruleText({ rule: 'brand_new_rule' }, 'zh')).toBe('brand_new_rule');
    expect(ruleText({}, 'zh')).toBe('出错了');
  });
});
