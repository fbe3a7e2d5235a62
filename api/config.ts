/** The REST API's options, read once from configuration at start (see cli/config.ts). */
export interface ApiConfig {
  host: string;
  port: number;
  /** Default per-key budget; a key may carry its own. */
  ratePerMinute: number;
  /** How long an answer is cached in-process and advertised in Cache-Control (0 = no cache). */
  cacheSeconds: number;
  /** Longest `from..to` range a query may ask for. */
  maxRangeDays: number;
  /** Origins allowed by CORS; empty = CORS off. */
  corsOrigins: string[];
}
