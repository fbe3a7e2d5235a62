import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';

describe('toCsv', () => {
  it('prints a header, quotes what needs quoting and times as ISO 8601', () => {
    const csv = toCsv(
      [
        { t: Date.UTC(2026, 0, 2, 3), name: 'a,"b"', n: -2.5, missing: null },
        { t: Date.UTC(2026, 0, 2, 4), name: 'line\nbreak', n: 3, missing: null },
      ],
      [{ name: 't', time: true }, { name: 'name' }, { name: 'n' }, { name: 'missing' }],
    );
    expect(csv).toBe(
      't,name,n,missing\n2026-01-02T03:00:00.000Z,"a,""b""",-2.5,\n2026-01-02T04:00:00.000Z,"line\nbreak",3,\n',
    );
  });

  it('defuses cells a spreadsheet would run as a formula, but not negative numbers', () => {
    const csv = toCsv(
      [{ a: '=HYPERLINK("http://x")', b: '@mention', c: -1, d: '+1' }],
      [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }],
    );
    expect(csv.split('\n')[1]).toBe(`"'=HYPERLINK(""http://x"")",'@mention,-1,'+1`);
  });

  it('keeps the header when there are no rows', () => {
    expect(toCsv([], [{ name: 't', time: true }, { name: 'views' }])).toBe('t,views\n');
  });
});
