/**
 * Small helpers every folder may use: durations, retry and sleep, a token
 * bucket, hashing, a seeded random stream. Nothing here knows about Telegram, NATS or ClickHouse.
 */
export { SECOND_MS, MINUTE_MS, HOUR_MS, DAY_MS, isTimeZone } from './time.ts';
export { backoffMs, sleep, withRetry, type RetryOptions } from './retry.ts';
export { RateLimiter } from './token-bucket.ts';
export { fnv1a32 } from './hash.ts';
export { redactUrl } from './redact.ts';
export { REPORT_SECTIONS, type ReportSection } from './report-sections.ts';
export { UNREACHABLE_SOCKET_CODES } from './socket-errors.ts';
export { formatBytes, formatMs } from './units.ts';
export { deriveSeed, Rng, seedToU32, type Seed } from './rng.ts';
