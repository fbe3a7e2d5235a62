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
  /**
   * Absolute path of the built web app (`dist-web/`, see scripts/build-web.sh), served at `/`.
   * Absent or not built yet: `/` answers 503 saying how to build it.
   */
  webRoot?: string;
  /**
   * Telegram Mini App sign-in (`POST /v1/webapp/session`): the bot token that signs initData
   * (null or absent: the route answers 503) and the oldest initData accepted, in seconds.
   */
  webApp?: { botToken: string | null; maxAgeSeconds: number };
}
