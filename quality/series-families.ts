/**
 * Labelled series for judging the detector offline, generated independently
 * of the channel simulator so the simulator does not grade itself. Each
 * family is a kind of trouble the detector must find (spikes, level shifts,
 * drifts, variance changes, seasonal breaks, a stuck sensor, noise bursts on
 * a flat line, surges in bursty counts, a gauge that jumps) or must not alarm
 * on (heavy tails, bursts that are normal, clean periodic shapes, sparse
 * counts, missing points).
 *
 * Series are 5-minute samples unless a family says otherwise, with labels at
 * the row where the trouble starts, like the public benchmarks whose scoring
 * rules `windowed-score.ts` follows. A corpus is a pure function of its seed.
 *
 * ```ts
 * const corpus = generateCorpus(1); // ~60 series, ~300k rows
 * ```
 */
import { deriveSeed, MINUTE_MS, Rng, seedToU32 } from '../common/index.ts';

export interface LabelledSeries {
  name: string;
  family: string;
  timestamps: number[];
  /** `null` where a sample is missing (the row is there, its value is not). */
  values: (number | null)[];
  /** Row indices where labelled anomalies start. */
  anomalies: number[];
}

const START = Date.UTC(2025, 0, 6);
const FIVE_MIN = 5 * MINUTE_MS;
/** Rows of a 5-minute day. */
const DAY = 288;

interface Draft {
  values: number[];
  anomalies: number[];
  stepMs?: number;
}

type Family = (rng: Rng) => Draft;

/**
 * A baseline with noise: a level, Gaussian or heavy-tailed noise, often
 * AR(1)-correlated; some wander slowly, and some carry the odd unlabelled blip
 * of a few σ, as machine metrics do.
 */
function noisyLevel(rng: Rng, n: number, opts: { heavy?: boolean } = {}): { values: number[]; sd: number } {
  const level = rng.logUniform(1, 5000);
  const sd = level * rng.uniform(0.01, 0.15);
  const phi = rng.chance(0.5) ? rng.uniform(0.3, 0.9) : 0;
  const innovation = sd * Math.sqrt(1 - phi * phi);
  const wander = rng.chance(0.3) ? sd * rng.uniform(0.01, 0.05) : 0;
  const blips = rng.chance(0.4) ? rng.uniform(0.0005, 0.003) : 0;
  const values: number[] = [];
  let e = 0;
  let drift = 0;
  for (let i = 0; i < n; i++) {
    const shock = opts.heavy ? studentT(rng, 3) / Math.sqrt(3) : rng.normal();
    e = phi * e + innovation * shock;
    // A mean-reverting wander: a slow walk that does not run away over a long series.
    drift = 0.999 * drift + wander * rng.normal();
    const blip = rng.chance(blips) ? sign(rng) * rng.uniform(3, 5) * sd : 0;
    values.push(level + e + drift + blip);
  }
  return { values, sd };
}

/** Student's t with `nu` degrees of freedom (heavy tails; variance nu/(nu−2)). */
function studentT(rng: Rng, nu: number): number {
  let chi = 0;
  for (let k = 0; k < nu; k++) chi += rng.normal() ** 2;
  return rng.normal() / Math.sqrt(chi / nu);
}

/** A daily shape: a sine or a square wave (day high, night low), with noise. */
function dailyShape(rng: Rng, n: number, period = DAY): { values: number[]; sd: number; shape: (i: number) => number } {
  const low = rng.uniform(10, 40);
  const high = low + rng.uniform(30, 80);
  const square = rng.chance(0.5);
  const phase = rng.int(0, period - 1);
  const sd = rng.chance(0.3) ? 0 : rng.uniform(0.5, 3);
  const shape = (i: number) => {
    const t = (((i + phase) % period) + period) % period;
    if (square) return t < period / 2 ? high : low;
    return low + ((high - low) * (1 + Math.sin((2 * Math.PI * t) / period))) / 2;
  };
  const values = Array.from({ length: n }, (_, i) => shape(i) + sd * rng.normal());
  return { values, sd: Math.max(sd, 0.5), shape };
}

/** `count` label positions after probation, spaced by at least `gap` rows. */
function positions(rng: Rng, n: number, count: number, gap: number): number[] {
  const from = Math.floor(0.2 * n);
  const span = n - from - gap;
  const out: number[] = [];
  const slot = Math.floor(span / count);
  for (let k = 0; k < count; k++) out.push(from + k * slot + rng.int(0, Math.max(0, slot - gap)));
  return out;
}

const sign = (rng: Rng) => (rng.chance(0.5) ? 1 : -1);

const families: Record<string, Family> = {
  spikes(rng) {
    const n = rng.int(3000, 6000);
    const { values, sd } = noisyLevel(rng, n);
    const anomalies = positions(rng, n, rng.int(1, 3), 200);
    for (const a of anomalies) {
      const m = sign(rng) * rng.uniform(5, 12) * sd;
      const width = rng.int(1, 3);
      for (let d = 0; d < width; d++) values[a + d] += m;
    }
    return { values, anomalies };
  },
  level_shift(rng) {
    const n = rng.int(3000, 6000);
    const { values, sd } = noisyLevel(rng, n);
    const anomalies = positions(rng, n, rng.int(1, 2), 400);
    for (const a of anomalies) {
      const m = sign(rng) * rng.uniform(2.5, 6) * sd;
      for (let i = a; i < n; i++) values[i] += m;
    }
    return { values, anomalies };
  },
  drift(rng) {
    const n = rng.int(3000, 6000);
    const { values, sd } = noisyLevel(rng, n);
    const anomalies = positions(rng, n, 1, 600);
    const a = anomalies[0];
    const duration = rng.int(50, 300);
    const m = sign(rng) * rng.uniform(4, 10) * sd;
    for (let i = a; i < n; i++) values[i] += m * Math.min(1, (i - a) / duration);
    return { values, anomalies };
  },
  variance_change(rng) {
    const n = rng.int(3000, 6000);
    const { values } = noisyLevel(rng, n);
    const anomalies = positions(rng, n, 1, 600);
    const a = anomalies[0];
    const factor = rng.uniform(3, 6);
    const end = rng.chance(0.5) ? n : Math.min(n, a + rng.int(200, 600));
    let mean = 0;
    for (let i = 0; i < a; i++) mean += values[i] / a;
    for (let i = a; i < end; i++) values[i] = mean + (values[i] - mean) * factor;
    return { values, anomalies };
  },
  seasonal_break(rng) {
    const days = rng.int(12, 20);
    const n = days * DAY;
    const { values, sd, shape } = dailyShape(rng, n);
    const a = DAY * rng.int(Math.ceil(days * 0.4), days - 2) + rng.int(0, DAY / 2);
    const kind = rng.int(0, 2);
    const level = (shape(0) + shape(DAY / 2)) / 2;
    for (let i = a; i < a + DAY; i++) {
      if (kind === 0)
        values[i] = level + sd * rng.normal(); // flat in the middle of the day
      else if (kind === 1)
        values[i] = shape(i + DAY / 2) + sd * rng.normal(); // the day out of phase
      else values[i] += (shape(i) - level) * 0.6; // a day of larger swings
    }
    return { values, anomalies: [a] };
  },
  stuck_sensor(rng) {
    const n = rng.int(3000, 6000);
    const { values } = noisyLevel(rng, n);
    const a = positions(rng, n, 1, 600)[0];
    const stuck = values[a - 1];
    for (let i = a; i < Math.min(n, a + rng.int(100, 400)); i++) values[i] = stuck;
    return { values, anomalies: [a] };
  },
  noise_burst_on_flat(rng) {
    const n = rng.int(3000, 5000);
    const level = rng.uniform(1, 100);
    const values = Array.from({ length: n }, () => level + 0.001 * level * rng.normal());
    const anomalies = positions(rng, n, rng.int(1, 2), 300);
    for (const a of anomalies) {
      const end = a + rng.int(20, 80);
      for (let i = a; i < end; i++) values[i] += 0.1 * level * rng.normal();
    }
    return { values, anomalies };
  },
  bursty_count_surge(rng) {
    const n = rng.int(8000, 15000);
    const values = burstyCounts(rng, n);
    const anomalies = positions(rng, n, rng.int(1, 3), 500);
    for (const a of anomalies) {
      const mult = rng.uniform(8, 25);
      const duration = rng.int(10, 60);
      for (let i = a; i < Math.min(n, a + duration); i++) values[i] = Math.round(values[i] * mult + mult * 5);
    }
    return { values, anomalies };
  },
  heavy_tail_spikes(rng) {
    const n = rng.int(3000, 6000);
    const { values, sd } = noisyLevel(rng, n, { heavy: true });
    const anomalies = positions(rng, n, rng.int(1, 2), 300);
    for (const a of anomalies) values[a] += sign(rng) * rng.uniform(20, 40) * sd;
    return { values, anomalies };
  },
  weekly_holiday(rng) {
    // Half-hour samples over ten weeks: a weekday and weekend rhythm, and a holiday that breaks it.
    const perDay = 48;
    const n = 70 * perDay;
    const base = rng.uniform(5_000, 20_000);
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      const hour = (i % perDay) / 2;
      const weekday = Math.floor(i / perDay) % 7 < 5;
      const daily = 0.3 + 0.7 * Math.max(0, Math.sin((Math.PI * (hour - 5)) / 19));
      values.push(base * daily * (weekday ? 1 : 0.7) * rng.noise(0.05));
    }
    const day = rng.int(30, 60);
    const a = day * perDay + 12;
    for (let i = a; i < a + perDay; i++) values[i] *= rng.uniform(0.25, 0.45);
    return { values, anomalies: [a], stepMs: 30 * MINUTE_MS };
  },
  quantized_step(rng) {
    // An integer gauge (connections, replicas) that mostly holds still and now and then moves by one,
    // until it jumps.
    const n = rng.int(3000, 6000);
    const values: number[] = [];
    let v = rng.int(2, 40);
    for (let i = 0; i < n; i++) {
      if (rng.chance(0.02)) v = Math.max(0, v + (rng.chance(0.5) ? 1 : -1));
      values.push(v);
    }
    const a = positions(rng, n, 1, 600)[0];
    const jump = Math.max(5, Math.round(values[a] * rng.uniform(0.5, 1.5)));
    for (let i = a; i < Math.min(n, a + rng.int(20, 200)); i++) values[i] += jump;
    return { values, anomalies: [a] };
  },
  quiet_sparse_counts(rng) {
    // Rare events per 5 minutes: mostly zeros, a one or a few now and then.
    const rate = rng.uniform(0.05, 0.5);
    return { values: Array.from({ length: rng.int(3000, 6000) }, () => rng.poisson(rate)), anomalies: [] };
  },
  quiet_noise(rng) {
    return { values: noisyLevel(rng, rng.int(3000, 6000)).values, anomalies: [] };
  },
  quiet_heavy_tail(rng) {
    return { values: noisyLevel(rng, rng.int(3000, 6000), { heavy: true }).values, anomalies: [] };
  },
  quiet_square_wave(rng) {
    return { values: dailyShape(rng, DAY * rng.int(12, 16)).values, anomalies: [] };
  },
  quiet_bursty_counts(rng) {
    return { values: burstyCounts(rng, rng.int(8000, 15000)), anomalies: [] };
  },
};

/**
 * Counts like mentions per 5 minutes: Poisson around a daily rhythm, with
 * frequent short bursts (×2–×5) that are normal for such a series.
 */
function burstyCounts(rng: Rng, n: number): number[] {
  const base = rng.logUniform(2, 200);
  const phase = rng.int(0, DAY - 1);
  const values: number[] = [];
  let burst = 0;
  let mult = 1;
  for (let i = 0; i < n; i++) {
    if (burst === 0 && rng.chance(0.01)) {
      burst = rng.int(2, 12);
      mult = rng.uniform(2, 5);
    }
    const daily = 0.6 + 0.4 * Math.sin((2 * Math.PI * (i + phase)) / DAY);
    values.push(rng.poisson(base * daily * (burst > 0 ? mult : 1)));
    if (burst > 0) burst--;
  }
  return values;
}

/** How many series of each family a corpus holds (about the size and mix of the public benchmark). */
const MIX: Record<keyof typeof families, number> = {
  spikes: 6,
  level_shift: 6,
  drift: 5,
  variance_change: 5,
  seasonal_break: 6,
  stuck_sensor: 3,
  noise_burst_on_flat: 4,
  bursty_count_surge: 6,
  heavy_tail_spikes: 4,
  weekly_holiday: 3,
  quantized_step: 3,
  quiet_noise: 2,
  quiet_heavy_tail: 2,
  quiet_square_wave: 2,
  quiet_bursty_counts: 2,
  quiet_sparse_counts: 2,
};

/** Family names, in corpus order. */
export const FAMILIES = Object.keys(MIX);

/**
 * A labelled corpus, a pure function of `seed`. One series in five loses
 * samples: single missing values and a gap of up to a few hours.
 */
export function generateCorpus(seed: number | string): LabelledSeries[] {
  const root = seedToU32(seed);
  const corpus: LabelledSeries[] = [];
  let index = 0;
  for (const [family, count] of Object.entries(MIX)) {
    for (let k = 0; k < count; k++, index++) {
      const rng = new Rng(deriveSeed(root, index));
      const draft = families[family](rng);
      const step = draft.stepMs ?? FIVE_MIN;
      const values: (number | null)[] = draft.values.map((v) => Number(v.toPrecision(10)));
      if (rng.chance(0.2)) dropSamples(rng, values, draft.anomalies);
      corpus.push({
        name: `${family}_${k + 1}`,
        family,
        timestamps: values.map((_, i) => START + i * step),
        values,
        anomalies: draft.anomalies,
      });
    }
  }
  return corpus;
}

/** Blanks ~1 % of samples and one gap of up to 36 rows, away from the labels. */
function dropSamples(rng: Rng, values: (number | null)[], anomalies: readonly number[]): void {
  const clear = (i: number) => anomalies.every((a) => Math.abs(i - a) > 40);
  for (let i = 0; i < values.length; i++) if (rng.chance(0.01) && clear(i)) values[i] = null;
  const at = rng.int(Math.floor(values.length * 0.2), values.length - 40);
  const len = rng.int(6, 36);
  for (let i = at; i < at + len; i++) if (clear(i)) values[i] = null;
}
