import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/index.ts';
import { genericSeriesConfig, scoreSeries, seasonalPeriods } from './score-series.ts';

const MINUTE = 60_000;

describe('seasonal periods from the sampling interval', () => {
  it('are a day and a week in rows when they are whole and not too long', () => {
    expect(seasonalPeriods(5 * MINUTE)).toEqual([288, 2016]);
    expect(seasonalPeriods(30 * MINUTE)).toEqual([48, 336]);
    expect(seasonalPeriods(60 * MINUTE)).toEqual([24, 168]);
    expect(seasonalPeriods(MINUTE)).toEqual([1440]);
    expect(seasonalPeriods(7 * MINUTE)).toEqual([1440]);
    expect(seasonalPeriods(11 * MINUTE)).toEqual([]);
    expect(seasonalPeriods(0)).toEqual([]);
  });
});

describe('scoreSeries', () => {
  /** Two weeks of 5-minute samples: high by day, low by night, with noise; and one day whose afternoon stays low. */
  function dailyWave(): { values: number[]; times: number[]; broken: number } {
    const rng = new Rng(5);
    const day = 288;
    const values = Array.from(
      { length: 14 * day },
      (_, i) => (i % day >= 96 && i % day < 240 ? 70 : 20) + rng.normal(),
    );
    const broken = 11 * day + 150;
    for (let i = broken; i < 11 * day + 240; i++) values[i] -= 50;
    return { values, times: values.map((_, i) => Date.UTC(2025, 0, 6) + i * 5 * MINUTE), broken };
  }

  it('models the daily rhythm the timestamps reveal, and finds the day that breaks it', () => {
    const { values, times, broken } = dailyWave();
    const alarms = (scores: Float64Array) => Array.from(scores).flatMap((s, i) => (s >= 0.5 && i > 4 * 288 ? [i] : []));
    // Without timestamps the rows are just a sequence: the afternoon at the night's level is nothing new.
    const blind = alarms(scoreSeries(values, null, genericSeriesConfig));
    const seeing = alarms(scoreSeries(values, times, genericSeriesConfig));
    expect(blind.filter((i) => Math.abs(i - broken) < 20)).toEqual([]);
    expect(seeing[0]).toBe(broken);
    expect(seeing.length).toBeLessThanOrEqual(2);
  });

  it('scores missing values 0 and leaves the detector as it was', () => {
    const rng = new Rng(9);
    const values: (number | null)[] = Array.from({ length: 400 }, () => 10 + rng.normal());
    const holed = values.slice();
    holed[200] = null;
    const a = scoreSeries(values, null, genericSeriesConfig);
    const b = scoreSeries(holed, null, genericSeriesConfig);
    expect(b[200]).toBe(0);
    const withoutRow = scoreSeries([...values.slice(0, 200), ...values.slice(201)], null, genericSeriesConfig);
    expect(Array.from(b.slice(201))).toEqual(Array.from(withoutRow.slice(200)));
    expect(a[300]).not.toBeNaN();
  });
});
