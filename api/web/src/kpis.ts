/**
 * The channel page's headline figures, each against the period of equal
 * length before it: the value, the previous value and the relative change.
 * Pure: the overview answer in, cards' content out.
 */
import type { Overview } from '../../../read/index.ts';
import { formatCount, formatDecimal, formatPercent, formatSigned } from './format.ts';

type Figures = Overview['current'];

export interface Kpi {
  label: string;
  value: string;
  previous: string;
  /** (current − previous) / |previous|; null when either is unknown or the previous is zero. */
  change: number | null;
  /** Direction against the previous period; null when there is no change to show. */
  trend: 'up' | 'down' | 'flat' | null;
}

/** Relative change, or null when it cannot be computed. */
export function relativeChange(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || previous === 0) return null;
  return (current - previous) / Math.abs(previous);
}

function trendOf(current: number | null, previous: number | null): Kpi['trend'] {
  if (current === null || previous === null) return null;
  return current > previous ? 'up' : current < previous ? 'down' : 'flat';
}

const FIGURES: { label: string; pick: (f: Figures) => number | null; format: (n: number | null) => string }[] = [
  { label: 'Subscribers', pick: (f) => f.subscribers, format: formatCount },
  { label: 'Subscriber change', pick: (f) => f.subscribers_change, format: formatSigned },
  { label: 'Views', pick: (f) => f.views, format: formatCount },
  { label: 'Reach per post', pick: (f) => f.reach_per_post, format: formatDecimal },
  { label: 'ERR (reach / subscribers)', pick: (f) => f.err, format: formatPercent },
  { label: 'Engagement rate', pick: (f) => f.engagement_rate, format: formatPercent },
];

export function overviewKpis(o: Overview): Kpi[] {
  return FIGURES.map(({ label, pick, format }) => {
    const current = pick(o.current);
    const previous = pick(o.previous);
    const change = relativeChange(current, previous);
    return {
      label,
      value: format(current),
      previous: format(previous),
      change,
      // No arrow without a percentage beside it (a previous period of zero or unknown).
      trend: change === null ? null : trendOf(current, previous),
    };
  });
}
