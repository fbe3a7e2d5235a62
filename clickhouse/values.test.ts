import { describe, expect, it } from 'vitest';
import { MAX_CH_TIME_MS, fromChTime, normalizeParams, toChTime, toSafeInt } from './values.ts';

describe('DateTime64 text', () => {
  it('formats epoch ms as ClickHouse prints a UTC DateTime64(3), and parses it back', () => {
    for (const ms of [0, 1, 999, Date.UTC(2024, 1, 29, 23, 59, 59, 999), MAX_CH_TIME_MS]) {
      expect(fromChTime(toChTime(ms))).toBe(ms);
    }
    expect(toChTime(1_700_000_000_123)).toBe('2023-11-14 22:13:20.123');
    expect(fromChTime('2023-11-14 22:13:20')).toBe(1_700_000_000_000);
    expect(fromChTime('2023-11-14 22:13:20.123456')).toBe(1_700_000_000_123);
  });

  it('refuses what a DateTime64 would clamp or what is not a time', () => {
    expect(() => toChTime(MAX_CH_TIME_MS + 1)).toThrow(RangeError);
    expect(() => toChTime(Date.UTC(1899, 11, 31))).toThrow(RangeError);
    expect(() => toChTime(1.5)).toThrow(RangeError);
    expect(() => fromChTime('2023-11-14T22:13:20Z')).toThrow(TypeError);
    expect(() => fromChTime(1_700_000_000_000)).toThrow(TypeError);
  });
});

describe('toSafeInt', () => {
  it('accepts numbers and quoted 64-bit integers that fit exactly', () => {
    expect(toSafeInt(7)).toBe(7);
    expect(toSafeInt('-9007199254740991')).toBe(-9_007_199_254_740_991);
  });
  it('refuses values a JS number would round', () => {
    expect(() => toSafeInt('9007199254740993')).toThrow(/safe integer/);
    expect(() => toSafeInt('1e3')).toThrow();
    expect(() => toSafeInt(null)).toThrow();
  });
});

describe('normalizeParams', () => {
  it('turns a Date into DateTime64 text, so both drivers bind it alike', () => {
    expect(normalizeParams({ at: new Date(1_700_000_000_123), n: 1 })).toEqual({ at: '2023-11-14 22:13:20.123', n: 1 });
  });
});
