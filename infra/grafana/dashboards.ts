/**
 * Every dashboard tgpulse ships, by the file Grafana's file provider loads it
 * from (provisioning/dashboards/tgpulse.yaml points at ./dashboards/).
 */
import type { GeneratedDashboard } from './board.ts';
import { channelAnalytics } from './channel-analytics.ts';
import { pipelineHealth } from './pipeline-health.ts';

export const DASHBOARDS: ReadonlyArray<{ file: string; build: () => GeneratedDashboard }> = [
  { file: 'channel-analytics.json', build: channelAnalytics },
  { file: 'pipeline-health.json', build: pipelineHealth },
];

/** The folder the JSON files live in. */
export const DASHBOARDS_DIR = new URL('./dashboards/', import.meta.url);

/**
 * A dashboard as committed: JSON with two-space indentation and a final
 * newline. Key order is the builders' insertion order, so the same code
 * always writes the same bytes (dashboards/biome.jsonc keeps Biome from
 * reflowing them).
 */
export function renderDashboard(d: GeneratedDashboard): string {
  return `${JSON.stringify(d.dashboard, null, 2)}\n`;
}
