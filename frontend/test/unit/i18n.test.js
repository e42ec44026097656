import { describe, it, expect, beforeEach } from 'vitest';
import { dict, t, setLang, lang, pickLang, onLang, formatDistance, formatNumber, formatDateTime, formatTime } from '../../src/i18n.js';

describe('i18n', () => {
  beforeEach(() => setLang('zh'));

  it('defaults to Chinese and switches to English', () => {
    expect(lang()).toBe('zh');
    expect(t('layer.people')).toBe('人');
    setLang('en');
    expect(t('layer.people')).toBe('People');
  });

  it('every key exists in both languages', () => {
    expect(Object.keys(dict.en).sort()).toEqual(Object.keys(dict.zh).sort());
    for (const l of ['zh', 'en']) for (const [k, v] of Object.entries(dict[l])) expect(v, `${l}.${k}`).toBeTruthy();
  });

  it('falls back to Chinese, then to the key', () => {
    expect(t('no.such.key')).toBe('no.such.key');
    expect(t('layer.houses', 'fr')).toBe('房');
  });

  it('picks ?lang= over the stored choice over Chinese', () => {
    expect(pickLang('?lang=en', 'zh')).toBe('en');
    expect(pickLang('', 'en')).toBe('en');
    expect(pickLang('?lang=xx', null)).toBe('zh');
    expect(pickLang('', 'xx')).toBe('zh');
  });

  it('tells listeners once per real change', () => {
    const seen = [];
    const off = onLang((l) => seen.push(l));
    setLang('en');
    setLang('en');
    setLang('xx');
    setLang('zh');
    off();
    setLang('en');
    expect(seen).toEqual(['en', 'zh']);
  });

  it('formats distances and numbers per language', () => {
    expect(formatDistance(12.4, 'zh')).toBe('12 米');
    expect(formatDistance(1549, 'en')).toBe('1.5 km');
    expect(formatDistance(NaN)).toBe('–');
    expect(formatNumber(12345, 'en')).toBe('12,345');
    expect(formatNumber(null)).toBe('–');
  });

  it('formats instants in Beijing time per language', () => {
    const at = '2026-11-30T06:03:18Z'; // 14:03 in Beijing
    expect(formatDateTime(at, 'zh')).toBe('2026/11/30 14:03');
    expect(formatDateTime(at, 'en')).toBe('30/11/2026, 14:03');
    expect(formatDateTime('not a date')).toBe('–');
  });

  it('formats a time of day in Beijing time, 24-hour, per language', () => {
    const at = '2026-11-30T16:00:05.123456789Z'; // 00:00:05 the next day in Beijing
    expect(formatTime(at, 'zh')).toBe('00:00:05');
    expect(formatTime(at, 'en')).toBe('00:00:05');
    expect(formatTime('2026-11-30T14:03:18+08:00', 'zh')).toBe('14:03:18');
    expect(formatTime(undefined)).toBe('–');
  });
});
