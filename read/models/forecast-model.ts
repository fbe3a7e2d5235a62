/**
 * Additive Holt–Winters on a daily series, as a pure function: level, trend
 * and a weekly season, smoothing weights chosen on a small grid by the
 * one-step error over the history, and prediction intervals from the
 * one-step residuals' spread grown with the horizon.
 *
 * The model is the innovations form of ETS(A,A,A) (Hyndman et al.,
 * "Forecasting with Exponential Smoothing", 2008): with e_t = y_t − ŷ_t,
 *
 *   ŷ_t = ℓ + b + s[t mod m]     ℓ ← ℓ + b + α e     b ← b + β e     s[t mod m] ← s[t mod m] + γ e
 *
 * and the h-step error variance is σ²·(1 + Σ_{j<h} c_j²) with
 * c_j = α + β·j + γ·[j mod m = 0]: uncertainty grows with the horizon, and
 * faster when the trend adapts quickly. A history too short for a season
 * falls back to Holt's linear trend (γ = 0, no season); one too short for
 * that gets no forecast.
 *
 * Counts of people and views grow and vary in proportion to their size, so a
 * series of positive values is modelled on the log scale: the trend is then a
 * growth rate, and the intervals are the log-scale ones mapped back (skewed
 * upward, never below zero). The point forecast is then the median.
 */
import { linearRegression, mean, probit } from 'simple-statistics';

/** Days of a season: the week. */
const SEASON_DAYS = 7;
/** Observed days below which no forecast is made: nothing to learn a trend and its noise from. */
export const MIN_HISTORY_DAYS = 7;
/** Observed days from which the weekly season is modelled: two weeks start it, one more checks it. */
export const MIN_SEASONAL_DAYS = 21;

/** Coverage of the prediction intervals. */
const INTERVAL_LEVELS = [0.8, 0.95] as const;

/** Smoothing weights tried; the pair or triple with the least one-step squared error wins. */
const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1];
/** Trend weight as a share of α (β = α·β*), so the trend never moves faster than the level. */
const BETA_SHARES = [0, 0.02, 0.05, 0.1, 0.2, 0.4];
const GAMMAS = [0, 0.05, 0.1, 0.2, 0.3];

type ForecastMethod = 'holt_winters_additive' | 'holt_linear' | 'none';

/** The fitted model: what a forecast was made with and how well it fit. */
export interface FittedModel {
  method: ForecastMethod;
  /** `log` when the series was modelled as ln(y) (every observed value positive). */
  scale: 'log' | 'linear';
  /** Length of the season in days; null without a season. */
  seasonDays: number | null;
  alpha: number;
  /** Trend weight in the innovations form (β = α·β* of the classic form). */
  beta: number;
  gamma: number;
  /** Standard deviation of the one-step errors on the model's scale. */
  residualSd: number;
  /** Days of the series and how many of them had a value. */
  days: number;
  observedDays: number;
  /** One-step forecast errors on the series' own scale: how many, root mean square, mean absolute (percentage). */
  inSample: { n: number; rmse: number; mae: number; mape: number | null };
}

/** The forecast of one future day. */
export interface ForecastStep {
  /** Days after the last day of the series, from 1. */
  h: number;
  expected: number;
  low80: number;
  high80: number;
  low95: number;
  high95: number;
}

export interface DailyForecast {
  model: FittedModel;
  /** Days asked for. */
  horizon: number;
  /** Empty when the method is `none`. */
  steps: ForecastStep[];
}

/** Smoothing weights and the state they leave after the history. */
interface Run {
  alpha: number;
  beta: number;
  gamma: number;
  level: number;
  trend: number;
  season: number[];
  /** One-step forecasts and actuals after the burn-in, on the model's scale. */
  fitted: number[];
  actual: number[];
  sse: number;
}

interface Start {
  level: number;
  trend: number;
  season: number[];
}

/**
 * Forecast `horizon` days after a daily series (oldest first; null where a
 * day has no value: the model carries its state over it).
 *
 * @example
 * const { model, steps } = forecastDaily(dailySubscribers, 30);
 * steps[29].expected; // in 30 days, with steps[29].low80 … steps[29].high80
 */
export function forecastDaily(series: readonly (number | null)[], horizon: number): DailyForecast {
  if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`horizon must be whole days ≥ 1, got ${horizon}`);
  const observed = series.filter((v): v is number => v !== null && Number.isFinite(v));
  const days = series.length;
  if (observed.length < MIN_HISTORY_DAYS) return { model: noModel(days, observed.length), horizon, steps: [] };
  const log = observed.every((v) => v > 0);
  const y = series.map((v) => (v === null || !Number.isFinite(v) ? null : log ? Math.log(v) : v));
  const seasonDays = observed.length >= MIN_SEASONAL_DAYS ? SEASON_DAYS : 1;
  const best = bestRun(y, seasonDays);
  // Unbiased enough: one degree of freedom per smoothing weight chosen.
  const weights = seasonDays > 1 ? 3 : 2;
  const residualSd = Math.sqrt(best.sse / Math.max(1, best.fitted.length - weights));
  const back = (v: number) => (log ? Math.exp(v) : v);
  const steps: ForecastStep[] = [];
  const z = INTERVAL_LEVELS.map((level) => probit(0.5 + level / 2));
  let spread = 0; // Σ c_j² so far
  for (let h = 1; h <= horizon; h++) {
    if (h > 1) {
      const j = h - 1;
      const c = best.alpha + best.beta * j + (seasonDays > 1 && j % seasonDays === 0 ? best.gamma : 0);
      spread += c * c;
    }
    const t = days + h - 1;
    const mid = best.level + h * best.trend + best.season[t % seasonDays];
    const sd = residualSd * Math.sqrt(1 + spread);
    // Counts are never negative; a linear-scale band around a small count would dip below zero.
    const bound = (v: number) => Math.max(0, back(v));
    steps.push({
      h,
      expected: bound(mid),
      low80: bound(mid - z[0] * sd),
      high80: bound(mid + z[0] * sd),
      low95: bound(mid - z[1] * sd),
      high95: bound(mid + z[1] * sd),
    });
  }
  const fitted = best.fitted.map(back);
  const actual = best.actual.map(back);
  return {
    model: {
      method: seasonDays > 1 ? 'holt_winters_additive' : 'holt_linear',
      scale: log ? 'log' : 'linear',
      seasonDays: seasonDays > 1 ? seasonDays : null,
      alpha: best.alpha,
      beta: best.beta,
      gamma: best.gamma,
      residualSd,
      days,
      observedDays: observed.length,
      inSample: inSampleError(fitted, actual),
    },
    horizon,
    steps,
  };
}

function noModel(days: number, observedDays: number): FittedModel {
  return {
    method: 'none',
    scale: 'linear',
    seasonDays: null,
    alpha: 0,
    beta: 0,
    gamma: 0,
    residualSd: 0,
    days,
    observedDays,
    inSample: { n: 0, rmse: 0, mae: 0, mape: null },
  };
}

/** The run of the grid with the least one-step squared error. */
function bestRun(y: readonly (number | null)[], seasonDays: number): Run {
  const start = initialState(y, seasonDays);
  // The first days fed the initial state; their errors would flatter the fit.
  const burnIn = seasonDays > 1 ? seasonDays : 2;
  let best: Run | null = null;
  for (const alpha of ALPHAS)
    for (const share of BETA_SHARES)
      for (const gamma of seasonDays > 1 ? GAMMAS : [0]) {
        if (gamma > 1 - alpha) continue; // the season would absorb more than the error
        const run = smooth(y, seasonDays, start, { alpha, beta: alpha * share, gamma }, burnIn);
        if (best === null || run.sse < best.sse) best = run;
      }
  // ALPHAS is not empty, so the grid ran at least once.
  return best as Run;
}

/**
 * Level and trend from a straight line through the first two weeks with
 * values, the season from the average
 * deviation from that line on each weekday, centred on zero.
 */
function initialState(y: readonly (number | null)[], seasonDays: number): Start {
  const observed = y.flatMap((v, t) => (v === null ? [] : [[t, v]]));
  const first = observed[0][0];
  const inSpan = observed.filter(([t]) => t < first + 2 * (seasonDays > 1 ? seasonDays : SEASON_DAYS));
  // The caller has at least MIN_HISTORY_DAYS values, so a line always has two points.
  const points = inSpan.length >= 2 ? inSpan : observed.slice(0, 2);
  const line = linearRegression(points);
  const season = new Array<number>(seasonDays).fill(0);
  if (seasonDays > 1) {
    for (let i = 0; i < seasonDays; i++) {
      const deviations = points.filter(([t]) => t % seasonDays === i).map(([t, v]) => v - (line.b + line.m * t));
      season[i] = deviations.length > 0 ? mean(deviations) : 0;
    }
    const centre = mean(season);
    for (let i = 0; i < seasonDays; i++) season[i] -= centre;
  }
  // State before day 0, so day 0's forecast is the line's value there.
  return { level: line.b - line.m, trend: line.m, season };
}

function smooth(
  y: readonly (number | null)[],
  seasonDays: number,
  start: Start,
  w: { alpha: number; beta: number; gamma: number },
  burnIn: number,
): Run {
  let { level, trend } = start;
  const season = [...start.season];
  const fitted: number[] = [];
  const actual: number[] = [];
  let sse = 0;
  for (let t = 0; t < y.length; t++) {
    const i = t % seasonDays;
    const forecast = level + trend + season[i];
    const value = y[t];
    // A day without a value: the state moves on as forecast, no error to learn from.
    const e = value === null ? 0 : value - forecast;
    level += trend + w.alpha * e;
    trend += w.beta * e;
    season[i] += w.gamma * e;
    if (value !== null && t >= burnIn) {
      fitted.push(forecast);
      actual.push(value);
      sse += e * e;
    }
  }
  return { ...w, level, trend, season, fitted, actual, sse };
}

function inSampleError(fitted: readonly number[], actual: readonly number[]): FittedModel['inSample'] {
  const n = fitted.length;
  if (n === 0) return { n, rmse: 0, mae: 0, mape: null };
  const errors = fitted.map((f, i) => actual[i] - f);
  const positive = actual.flatMap((a, i) => (a > 0 ? [Math.abs(errors[i]) / a] : []));
  return {
    n,
    rmse: Math.sqrt(mean(errors.map((e) => e * e))),
    mae: mean(errors.map(Math.abs)),
    mape: positive.length > 0 ? mean(positive) : null,
  };
}
