/**
 * The parts of a channel report. The read side renders them; a share link
 * (control plane) names the ones it shows. One list for both.
 */
export const REPORT_SECTIONS = ['overview', 'growth', 'reach', 'top_posts', 'anomalies', 'best_time'] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];
