/**
 * Parts the channel page and the share report both show: the KPI cards and
 * the anomaly list.
 */
import type { ChannelAnomaly, Overview } from '../../../../read/index.ts';
import { h } from '../dom.ts';
import { formatChange, formatDecimal, formatTime } from '../format.ts';
import { overviewKpis } from '../kpis.ts';
import { dataTable } from '../widgets.ts';

const ARROW = { up: '▲', down: '▼', flat: '▶' } as const;

/** One card per headline figure: value, arrow and % change, and the previous period's value. */
export function kpiCards(o: Overview): HTMLElement {
  return h(
    'ul',
    { class: 'kpis' },
    overviewKpis(o).map((k) =>
      h(
        'li',
        { class: 'kpi', 'data-kpi': '' },
        h('span', { class: 'kpi-label' }, k.label),
        h('span', { class: 'kpi-value' }, k.value),
        h(
          'span',
          { class: `kpi-change ${k.trend ?? ''}` },
          k.trend ? h('span', { 'aria-hidden': 'true' }, `${ARROW[k.trend]} `) : null,
          k.change === null ? 'no comparison' : formatChange(k.change),
          h('span', { class: 'sub' }, ` (previous ${k.previous})`),
        ),
      ),
    ),
  );
}

const REASON: Record<ChannelAnomaly['reason'], string> = {
  outlier: 'outside its expected band',
  level_shift: 'its level moved away from the baseline',
  variance: 'its noise grew, or the series froze',
  silence: 'the channel stopped posting',
};

const DIRECTION: Record<ChannelAnomaly['direction'], string> = { spike: 'Spike', drop: 'Drop', quiet: 'Quiet' };

/** A sentence a channel owner reads: what moved, how far from what was expected, and why it was flagged. */
export function explainAnomaly(a: ChannelAnomaly): string {
  const post = a.post_id === null ? '' : ` of post #${a.post_id}`;
  const z = Number.isFinite(a.z)
    ? `, ${Math.abs(a.z).toFixed(1)} standard deviations ${a.z >= 0 ? 'above' : 'below'}`
    : '';
  const state = a.state === 'resolved' ? ' Resolved.' : ' Still open.';
  return `${DIRECTION[a.direction]} in ${a.metric.replaceAll('_', ' ')}${post}: ${REASON[a.reason]}${z}.${state}`;
}

export function anomalyTable(anomalies: readonly ChannelAnomaly[]): HTMLElement {
  return dataTable<ChannelAnomaly>(
    `${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'} in the period, newest first`,
    [
      { header: 'Time', rowHeader: true, cell: (a) => formatTime(a.window_start) },
      { header: 'Metric', cell: (a) => a.metric.replaceAll('_', ' ') },
      { header: 'Value', numeric: true, cell: (a) => formatDecimal(a.value) },
      { header: 'Expected', numeric: true, cell: (a) => formatDecimal(a.expected) },
      { header: 'Band', numeric: true, cell: (a) => `${formatDecimal(a.band_low)} – ${formatDecimal(a.band_high)}` },
      { header: 'Severity', cell: (a) => h('span', { class: `severity ${a.severity}` }, a.severity) },
      { header: 'Explanation', prose: true, cell: (a) => explainAnomaly(a) },
    ],
    anomalies,
    'No anomalies in this period.',
  );
}
