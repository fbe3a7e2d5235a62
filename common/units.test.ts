import { expect, it } from 'vitest';
import { formatBytes, formatMs } from './units.ts';

it('formats bytes in decimal units with three significant digits', () => {
  expect(formatBytes(0)).toBe('0 B');
  expect(formatBytes(999)).toBe('999 B');
  expect(formatBytes(915_968)).toBe('916 KB');
  expect(formatBytes(1_420_000_000)).toBe('1.42 GB');
  expect(formatBytes(5e15)).toBe('5000 TB');
  expect(formatBytes(1500)).toBe('1.50 KB');
});

it('formats durations from milliseconds to minutes', () => {
  expect(formatMs(850.4)).toBe('850 ms');
  expect(formatMs(12_345)).toBe('12.3 s');
  expect(formatMs(245_000)).toBe('4 min 05 s');
});
