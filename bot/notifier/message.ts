/**
 * The words of an alert: what moved, by how much against what was expected,
 * in which window — and, later, that it is over. HTML parse mode; every
 * data-derived string is escaped.
 */
import { type Anomaly, anomalyReasonOf } from '../../streams/contract/index.ts';
import { compact, html, metricName, reasonText, utc } from '../format.ts';
import { choiceData } from '../keyboards.ts';

const ARROW: Record<Anomaly['direction'], string> = { spike: '🔺', drop: '🔻', quiet: '⏸' };
const WHAT: Record<Anomaly['direction'], string> = { spike: 'spike', drop: 'drop', quiet: 'unusually quiet' };

/** Callback data of the button that opens the channel's 7-day overview (handled by the bot's commands). */
export function overviewButtonData(channelId: string): string {
  return choiceData({ command: 'overview', channelId, days: 7 });
}

export function alertCaption(channelId: string, a: Anomaly): string {
  const post = a.post_id === null ? '' : `, post ${a.post_id}`;
  return [
    `${ARROW[a.direction]} <b>${html(metricName(a.metric))}: ${WHAT[a.direction]}</b> · ${a.severity}`,
    `Channel <code>${html(channelId)}</code>${post}`,
    `Window ${html(a.window)} from ${utc(a.window_start)}`,
    `Observed <b>${compact(a.value)}</b>, expected ${compact(a.expected)} (normal range ${compact(a.band_low)}–${compact(a.band_high)}), z = ${a.z.toFixed(1)}`,
    `Why: ${reasonText(anomalyReasonOf(a))}`,
  ].join('\n');
}

export function resolutionText(channelId: string, a: Anomaly): string {
  return [
    `✅ <b>Resolved: ${html(metricName(a.metric))}</b> on <code>${html(channelId)}</code>`,
    `Back to normal. At its peak: ${compact(a.value)} against ${compact(a.expected)} expected (normal range ${compact(a.band_low)}–${compact(a.band_high)}).`,
  ].join('\n');
}
