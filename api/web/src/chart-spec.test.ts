import { describe, expect, it } from 'vitest';
import { chartLabel, patchDatetimes } from './chart-spec.ts';

/** The frame of a compiled chart as the API sends it (a Vega spec keeps Vega-Lite's title and description). */
const compiled = {
  $schema: 'https://vega.github.io/schema/vega/v6.json',
  title: { text: 'Subscriber growth', subtitle: '1001 · Nov 07 – Dec 07, 2026 UTC' },
  marks: [],
};

describe('chartLabel', () => {
  it("is the spec's description, else its title and subtitle, else the fallback", () => {
    expect(chartLabel({ ...compiled, description: 'Subscribers over time.' }, 'x')).toBe('Subscribers over time.');
    expect(chartLabel(compiled, 'x')).toBe('Subscriber growth. 1001 · Nov 07 – Dec 07, 2026 UTC');
    expect(chartLabel({}, 'Growth')).toBe('Growth');
  });
});

describe('patchDatetimes', () => {
  it('turns datetime(<epoch ms>) in expressions into the number, and nothing else', () => {
    const vega = {
      axes: [{ values: [{ signal: 'datetime(1794182400000)' }, { signal: 'datetime(2026, 0, 1)' }] }],
      scales: [{ domain: [{ signal: '{data: datetime(-5)}' }] }],
      data: [{ values: [{ label: 'datetime(1)' }] }],
    };
    expect(patchDatetimes(vega)).toEqual({
      axes: [{ values: [{ signal: '1794182400000' }, { signal: 'datetime(2026, 0, 1)' }] }],
      scales: [{ domain: [{ signal: '{data: -5}' }] }],
      data: [{ values: [{ label: 'datetime(1)' }] }],
    });
  });
});
