import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/index.ts';
import { forecastDaily, MIN_HISTORY_DAYS, MIN_SEASONAL_DAYS } from './forecast-model.ts';

/** Level + trend·t + a weekly pattern + Gaussian noise: the shape the model assumes. */
function seasonalSeries(rng: Rng, days: number, opts: { level: number; trend: number; noise: number }): number[] {
  const week = [0, 4, 6, 5, 3, -8, -10];
  return Array.from(
    { length: days },
    (_, t) => opts.level + opts.trend * t + week[t % 7] + rng.gaussian(0, opts.noise),
  );
}

describe('forecastDaily', () => {
  it('learns trend and weekly season, and its bands hold about their share of new days', () => {
    const rng = new Rng(18);
    let n = 0;
    let in80 = 0;
    let in95 = 0;
    for (let run = 0; run < 60; run++) {
      const series = seasonalSeries(rng, 84 + 14, { level: 1000, trend: 2, noise: 3 });
      const f = forecastDaily(series.slice(0, 84), 14);
      expect(f.model).toMatchObject({ method: 'holt_winters_additive', seasonDays: 7, scale: 'log' });
      f.steps.forEach((s, i) => {
        const actual = series[84 + i];
        n++;
        if (actual >= s.low80 && actual <= s.high80) in80++;
        if (actual >= s.low95 && actual <= s.high95) in95++;
      });
      // The point forecast follows the trend and the weekday.
      const truth = 1000 + 2 * (84 + 6) + [0, 4, 6, 5, 3, -8, -10][(84 + 6) % 7];
      expect(Math.abs(f.steps[6].expected - truth)).toBeLessThan(15);
    }
    // A little wide rather than narrow: the one-step errors include the first weeks, before the state settled.
    expect(in80 / n).toBeGreaterThan(0.72);
    expect(in80 / n).toBeLessThan(0.94);
    expect(in95 / n).toBeGreaterThan(0.9);
    expect(in95 / n).toBeGreaterThan(in80 / n);
  });

  it('widens the band with the horizon; one day ahead it is the one-step error', () => {
    const series = seasonalSeries(new Rng(2), 60, { level: 500, trend: -1, noise: 4 });
    const { model, steps } = forecastDaily(series, 30);
    expect(steps).toHaveLength(30);
    const width = (i: number) => Math.log(steps[i].high80) - Math.log(steps[i].low80);
    expect(width(0)).toBeCloseTo(2 * 1.2816 * model.residualSd, 3);
    expect(width(29)).toBeGreaterThan(width(6));
    for (const s of steps) {
      expect(s.low95).toBeLessThanOrEqual(s.low80);
      expect(s.low80).toBeLessThanOrEqual(s.expected);
      expect(s.expected).toBeLessThanOrEqual(s.high80);
      expect(s.high80).toBeLessThanOrEqual(s.high95);
    }
    expect(model.inSample.n).toBe(60 - 7);
    expect(model.inSample.mape).toBeLessThan(0.05);
  });

  it('falls back to a trend without season on short histories, and to none below a week', () => {
    const rng = new Rng(3);
    const short = seasonalSeries(rng, MIN_SEASONAL_DAYS - 1, { level: 100, trend: 1, noise: 1 });
    expect(forecastDaily(short, 5).model).toMatchObject({ method: 'holt_linear', seasonDays: null, gamma: 0 });
    const tiny = short.slice(0, MIN_HISTORY_DAYS - 1);
    expect(forecastDaily(tiny, 5)).toMatchObject({ model: { method: 'none', observedDays: 6 }, horizon: 5, steps: [] });
    // Days without a value do not count as history.
    const gappy = [...tiny, null, null, null];
    expect(forecastDaily(gappy, 5).model).toMatchObject({ method: 'none', days: 9, observedDays: 6 });
  });

  it('carries its state over missing days', () => {
    const series: (number | null)[] = seasonalSeries(new Rng(4), 56, { level: 200, trend: 1, noise: 1 });
    for (const t of [20, 21, 22, 40]) series[t] = null;
    const f = forecastDaily(series, 7);
    expect(f.model.observedDays).toBe(52);
    expect(f.steps[0].expected).toBeGreaterThan(240);
    expect(f.steps[0].expected).toBeLessThan(275);
  });

  it('models a series with zeros on the linear scale and never forecasts below zero', () => {
    const rng = new Rng(5);
    const series = Array.from({ length: 40 }, () => Math.max(0, Math.round(rng.gaussian(2, 3))));
    const f = forecastDaily(series, 20);
    expect(f.model.scale).toBe('linear');
    for (const s of f.steps) expect(s.low95).toBeGreaterThanOrEqual(0);
  });

  it('refuses a horizon that is not whole days ahead', () => {
    expect(() => forecastDaily([1, 2, 3], 0)).toThrow(/horizon/);
    expect(() => forecastDaily([1, 2, 3], 1.5)).toThrow(/horizon/);
  });
});
