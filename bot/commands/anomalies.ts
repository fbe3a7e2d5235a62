/**
 * `/anomalies [channel] [period] [info|warning|critical]`: the anomalies the
 * detectors found in the period, newest first, with what was observed
 * against what was expected.
 */
import { type Severity, SEVERITIES } from '../../streams/contract/index.ts';
import { channelAnomalies, type ChannelAnomaly, type AnswerMeta } from '../../read/index.ts';
import { compact, freshnessNote, html, metricName, periodText, reasonText, utc } from '../format.ts';
import { chosen, messageCommand, oneOf } from './channel-command.ts';

/** Newest shown; one more is asked for to tell whether there are others. */
const SHOWN = 15;

const MARK: Record<Severity, string> = { info: '🔵', warning: '🟠', critical: '🔴' };

/** The newest anomalies of the period, at or above a severity (default: all). */
export const anomaliesCommand = messageCommand({
  name: 'anomalies',
  defaultDays: 30,
  option: oneOf(SEVERITIES),
  async load(s, t, period) {
    const minSeverity = chosen(SEVERITIES, t, 'info');
    return {
      minSeverity,
      found: await channelAnomalies(s.warehouse, { channel_id: t.channelId, period, minSeverity, limit: SHOWN + 1 }),
    };
  },
  message: anomaliesMessage,
});

/** One anomaly in a line (HTML). */
export function anomalyLine(a: ChannelAnomaly): string {
  const what = `${html(metricName(a.metric))}${a.post_id === null ? '' : ` of post #${a.post_id}`} ${html(a.direction)}`;
  const state = a.resolved_at === null ? 'open' : `resolved ${utc(a.resolved_at)}`;
  return (
    `${MARK[a.severity]} <b>${html(a.severity)}</b> ${what} · ${utc(a.window_start)} (${html(a.window)}) · ` +
    `<b>${compact(a.value)}</b>, expected ${compact(a.expected)} (${compact(a.band_low)}–${compact(a.band_high)}), z = ${a.z.toFixed(1)} · ` +
    `${html(reasonText(a.reason))} · ${state}`
  );
}

/** The anomalies as a message (HTML). */
export function anomaliesMessage(
  { found, minSeverity }: { found: readonly ChannelAnomaly[]; minSeverity: Severity },
  days: number,
  meta: AnswerMeta,
): string {
  const level = minSeverity === 'info' ? '' : ` (${minSeverity} and above)`;
  const head = `<b>Channel ${html(meta.channel_id)}</b> · anomalies${level}, ${periodText(meta, days)}`;
  if (found.length === 0) return `${head}\n\nNothing unusual was found.\n\n${freshnessNote(meta)}`;
  const more = found.length > SHOWN ? [`…and older ones: ask for a shorter period or a higher severity.`] : [];
  return [head, '', ...found.slice(0, SHOWN).map(anomalyLine), ...more, '', freshnessNote(meta)].join('\n');
}
