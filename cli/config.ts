/**
 * The one configuration object of a tgpulse process, read from the
 * environment once at start and validated: a bad value stops the start with a
 * message naming the variable and what it expects. Each component owns the
 * shape and defaults of its own section. Loading this module loads those
 * components (their defaults live beside their code), so the commands that
 * need only the core (core-config.ts) do not import it.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DAY_MS } from '../common/index.ts';
import { defaultStreamsConfig, type StreamsConfig } from '../streams/index.ts';
import { defaultSinkConfig, type SinkConfig } from '../sinks/index.ts';
import { defaultProcessorConfig, type ProcessorConfig } from '../processors/operators/index.ts';
import { DEFAULT_RETENTION, MAX_RETENTION_DAYS, type RetentionConfig } from '../clickhouse/index.ts';
import type { ApiConfig } from '../api/index.ts';
import type { BotConfig } from '../bot/index.ts';
import { DEFAULT_MTPROTO_CONFIG, freshnessUpTo, parseFreshness, type MtprotoConfig } from '../ingest/mtproto/index.ts';
import { parseSessionKey, checkProxy, redactProxy } from '../control/index.ts';
import { type CoreConfig, ConfigError, type Env, int, loadCoreConfig, oneOf, str } from './core-config.ts';
import { PROJECT_ROOT } from './project-root.ts';

export { ConfigError } from './core-config.ts';

/** Everything a role reads: the core (core-config.ts) and each component's section. */
export interface TgpulseConfig extends CoreConfig {
  streams: StreamsConfig;
  processor: ProcessorConfig;
  /** Processors: checkpoint at least this often while input flows (ms). */
  checkpointIntervalMs: number;
  /** Processors: a partition lease not renewed for this long is taken over (ms). */
  leaseTtlMs: number;
  /** `up`: worker processes running processors and sinks (0: in the `up` process itself). */
  workers: number;
  /** A stopping process exits at most this long after the first SIGTERM or SIGINT (ms). */
  stopDeadlineMs: number;
  sink: SinkConfig;
  /** Days the raw and derived warehouse tables keep a row after writing it (0 = forever). */
  retention: RetentionConfig;
  http: { host: string; port: number };
  api: ApiConfig;
  bot: BotConfig;
  /** The MTProto collectors (`tgpulse ingest`, `login`, `channels add`). */
  mtproto: MtprotoConfig;
}

/** Documented variables: the README's configuration table is generated from this list. */
export const CONFIG_VARIABLES: Array<{ name: string; default: string; meaning: string }> = [
  {
    name: 'TGPULSE_DATA_DIR',
    default: './data',
    meaning: 'Local data folder: chDB tables, the private nats-server store',
  },
  { name: 'TGPULSE_LOG_LEVEL', default: 'info', meaning: 'pino log level (trace, debug, info, warn, error)' },
  {
    name: 'TGPULSE_LOG_FORMAT',
    default: '(by terminal)',
    meaning:
      '`pretty` (human-readable lines) or `json` (one object per line); unset = pretty when stderr is a terminal, json otherwise',
  },
  {
    name: 'TGPULSE_STOP_DEADLINE_S',
    default: '25',
    meaning:
      'A role exits at most this long after SIGTERM or Ctrl-C: what has not drained by then is left unacked (and redelivered), its child processes killed, exit code 1',
  },
  {
    name: 'TGPULSE_NATS_URL',
    default: '(private)',
    meaning:
      'NATS server(s) with JetStream, comma separated, credentials in the first URL (`nats://user:password@host:4222,nats://host2:4222`); unset = a private nats-server with its store in the data folder, on a free port',
  },
  {
    name: 'TGPULSE_PARTITIONS',
    default: '8',
    meaning: 'Partitions P (fnv-1a(channel_id) mod P); fixed per deployment',
  },
  { name: 'TGPULSE_REPLICAS', default: '1', meaning: 'Stream replicas (3 in a NATS cluster)' },
  { name: 'TGPULSE_STREAM_MAX_AGE_HOURS', default: '168', meaning: 'How long streams keep messages' },
  { name: 'TGPULSE_DUPLICATE_WINDOW_S', default: '120', meaning: 'JetStream duplicate window for Nats-Msg-Id' },
  { name: 'TGPULSE_MAX_MESSAGE_BYTES', default: '1048576', meaning: 'Larger messages are dead-lettered as oversized' },
  {
    name: 'TGPULSE_WAREHOUSE',
    default: 'local',
    meaning:
      '`local` (a ClickHouse server from the chDB engine, run by tgpulse, data in the data folder) or `server` (your ClickHouse server or cluster)',
  },
  {
    name: 'TGPULSE_WAREHOUSE_HTTP_PORT',
    default: '8123',
    meaning: 'local warehouse: HTTP port on 127.0.0.1 (a free one when busy; 0 = any)',
  },
  {
    name: 'TGPULSE_WAREHOUSE_NATIVE_PORT',
    default: '9000',
    meaning: 'local warehouse: native-protocol port on 127.0.0.1 (a free one when busy; 0 = any)',
  },
  { name: 'TGPULSE_CLICKHOUSE_URL', default: 'http://127.0.0.1:8123', meaning: 'server driver: ClickHouse HTTP URL' },
  { name: 'TGPULSE_CLICKHOUSE_USER', default: 'default', meaning: 'server driver: user' },
  { name: 'TGPULSE_CLICKHOUSE_PASSWORD', default: '', meaning: 'server driver: password' },
  { name: 'TGPULSE_CLICKHOUSE_DATABASE', default: 'tgpulse', meaning: 'the database of the tables (local and server)' },
  {
    name: 'TGPULSE_CLICKHOUSE_CLUSTER',
    default: '',
    meaning: 'server driver: cluster name for Replicated/Distributed DDL',
  },
  {
    name: 'TGPULSE_CLICKHOUSE_BACKUP_DISK',
    default: '(empty)',
    meaning:
      'server driver: the backup disk (`<backups><allowed_disk>` in the server config) `tgpulse backup` writes the warehouse archive to; the local server backs up into the backup folder itself',
  },
  {
    name: 'TGPULSE_ALLOWED_LATENESS_S',
    default: '600',
    meaning: 'Event-time lateness a window waits for before it is final',
  },
  {
    name: 'TGPULSE_CHECKPOINT_INTERVAL_S',
    default: '5',
    meaning: 'Processors: checkpoint (and ack) at least this often while input flows',
  },
  {
    name: 'TGPULSE_PARTITION_LEASE_TTL_S',
    default: '10',
    meaning: 'Processors: a partition lease not renewed for this long is taken over by another process',
  },
  {
    name: 'TGPULSE_WORKERS',
    default: 'cores',
    meaning:
      '`up`: worker processes running processors and sinks, one per core by default (0 runs them in the `up` process)',
  },
  {
    name: 'TGPULSE_SINK_INSERT_ROWS',
    default: '100000',
    meaning:
      'Sink: an insert is sent once it holds this many rows (bigger inserts cost the warehouse far less per row)',
  },
  { name: 'TGPULSE_SINK_INSERT_MIB', default: '32', meaning: 'Sink: …or this many MiB of encoded rows' },
  { name: 'TGPULSE_SINK_WAIT_MS', default: '500', meaning: 'Sink: …or once its oldest row waited this long' },
  { name: 'TGPULSE_SINK_ACK_WAIT_S', default: '30', meaning: 'Sink: redelivery delay of messages a crashed sink held' },
  {
    name: 'TGPULSE_SINK_MAX_DELIVERIES',
    default: '20',
    meaning: 'Sink: a message delivered this often is dead-lettered (poison protection)',
  },
  {
    name: 'TGPULSE_RETENTION_RAW_DAYS',
    default: String(DEFAULT_RETENTION.rawSnapshotsDays),
    meaning:
      'Warehouse: days raw counter, member and statistics snapshots are kept after they were written (0 = forever; see Retention)',
  },
  {
    name: 'TGPULSE_RETENTION_POSTS_DAYS',
    default: String(DEFAULT_RETENTION.rawPostsDays),
    meaning: 'Warehouse: days raw posts and post deletions are kept (0 = forever)',
  },
  {
    name: 'TGPULSE_RETENTION_BOT_EVENTS_DAYS',
    default: String(DEFAULT_RETENTION.botEventsDays),
    meaning: 'Warehouse: days raw bot events are kept (0 = forever)',
  },
  {
    name: 'TGPULSE_RETENTION_DERIVED_DAYS',
    default: String(DEFAULT_RETENTION.derivedDays),
    meaning: 'Warehouse: days derived rows (post deltas, windows, trends, anomaly events) are kept (0 = forever)',
  },
  {
    name: 'TGPULSE_RETENTION_DEAD_LETTERS_DAYS',
    default: String(DEFAULT_RETENTION.deadLettersDays),
    meaning: 'Warehouse: days dead letters are kept (0 = forever)',
  },
  {
    name: 'TGPULSE_HTTP_HOST',
    default: '127.0.0.1',
    meaning: 'Address of /metrics, /healthz, /readyz and the local query endpoint',
  },
  { name: 'TGPULSE_HTTP_PORT', default: '9464', meaning: 'Port of the same (0 = any free port)' },
  {
    name: 'TGPULSE_POSTGRES_URL',
    default: '',
    meaning: 'Control-plane Postgres (postgres://…); empty = embedded PGlite under the data folder',
  },
  {
    name: 'TGPULSE_SHARE_SECRET',
    default: '',
    meaning: 'HMAC key of share links (32+ chars); empty = generated once and kept in Postgres',
  },
  { name: 'TGPULSE_API_HOST', default: '127.0.0.1', meaning: 'REST API listen address' },
  { name: 'TGPULSE_API_PORT', default: '8080', meaning: 'REST API port (0 = any free port)' },
  {
    name: 'TGPULSE_API_RATE_PER_MIN',
    default: '600',
    meaning: 'REST API: default requests per minute per API key (a key may set its own)',
  },
  {
    name: 'TGPULSE_API_CACHE_S',
    default: '30',
    meaning: 'REST API: seconds an answer is cached in-process and in Cache-Control',
  },
  {
    name: 'TGPULSE_API_MAX_RANGE_DAYS',
    default: '400',
    meaning: 'REST API: longest from..to range a query may ask for',
  },
  {
    name: 'TGPULSE_API_CORS_ORIGINS',
    default: '',
    meaning: 'REST API: comma-separated origins allowed by CORS; empty = CORS off',
  },
  {
    name: 'TGPULSE_BOT_TOKEN',
    default: '',
    meaning: 'Telegram bot token (@BotFather); the bot and alert notifier run only when set',
  },
  {
    name: 'TGPULSE_BOT_API_ROOT',
    default: 'https://api.telegram.org',
    meaning: 'Bot API root URL (a local Bot API server, or a fake in tests)',
  },
  {
    name: 'TGPULSE_BOT_ADMINS',
    default: '',
    meaning: 'Comma-separated Telegram user ids who administer the bot (grant channels to users)',
  },
  {
    name: 'TGPULSE_BOT_MODE',
    default: 'polling',
    meaning: '`polling` or `webhook` (served by the REST API at /telegram/webhook)',
  },
  { name: 'TGPULSE_BOT_WEBHOOK_SECRET', default: '', meaning: 'Webhook mode: the secret token Telegram must send' },
  {
    name: 'TGPULSE_PUBLIC_API_URL',
    default: 'http://127.0.0.1:8080',
    meaning: 'Public base URL of the REST API, used in share links and the /dashboard Mini App button the bot sends',
  },
  {
    name: 'TGPULSE_WEBAPP_MAX_AGE_SECONDS',
    default: '3600',
    meaning: 'Mini App sign-in: oldest Telegram initData accepted, in seconds (60..86400)',
  },
  {
    name: 'TGPULSE_BOT_MAX_SENDS_PER_S',
    default: '25',
    meaning: 'Notifier: messages per second at most across chats (Telegram allows about 30)',
  },
  {
    name: 'TGPULSE_BOT_TRACK_LIMIT',
    default: '5',
    meaning: 'Bot: channels one user may add with /track (pending and tracked; failed ones do not count)',
  },
  {
    name: 'TGPULSE_TG_API_ID',
    default: '',
    meaning:
      'MTProto collectors: api_id of your application at my.telegram.org (needed by `login`, `channels add`, `ingest`)',
  },
  { name: 'TGPULSE_TG_API_HASH', default: '', meaning: 'MTProto collectors: api_hash of the same application' },
  {
    name: 'TGPULSE_SESSION_KEY',
    default: '',
    meaning:
      'Key sealing the stored Telegram sessions: 64 hex characters (`openssl rand -hex 32`) or 44 base64; never logged',
  },
  {
    name: 'TGPULSE_MTPROTO_PROXIES',
    default: '',
    meaning:
      'Comma-separated fallback proxies (socks5://[user:pass@]host:port, mtproxy://secret@host:port) tried when an account cannot connect',
  },
  {
    name: 'TGPULSE_POLL_MAX_AGE_DAYS',
    default: '7',
    meaning:
      'Collectors: posts younger than this have their counters polled (cuts or stretches the oldest `TGPULSE_FRESHNESS` band); 0 = no polling',
  },
  {
    name: 'TGPULSE_FRESHNESS',
    default: '1h:15m,1d:1h,7d:6h',
    meaning:
      "Collectors: how stale a post's counters may get, by post age (`AGE:STALENESS`, youngest first; a post whose views have flattened may go up to 4× its target)",
  },
  {
    name: 'TGPULSE_MEMBERS_INTERVAL_S',
    default: '900',
    meaning:
      'Collectors: shortest time between member-count snapshots of a channel (they space out while the count moves slowly)',
  },
  {
    name: 'TGPULSE_MEMBERS_MAX_INTERVAL_S',
    default: '21600',
    meaning: 'Collectors: longest time between member-count snapshots of a channel',
  },
  {
    name: 'TGPULSE_PTS_CHECK_S',
    default: '3600',
    meaning:
      'Collectors: a joined channel whose update sequence nothing confirmed for this long gets a snapshot, which checks it (joined channels get no periodic getChannelDifference)',
  },
  {
    name: 'TGPULSE_STATS_INTERVAL_S',
    default: '21600',
    meaning: 'Collectors: seconds between reads of official statistics (channels whose stats the account may view)',
  },
  {
    name: 'TGPULSE_DIFFERENCE_INTERVAL_S',
    default: '900',
    meaning:
      'Collectors: shortest time between getChannelDifference reads of a channel the account has not joined (how its new posts are found); it grows while they come back empty',
  },
  {
    name: 'TGPULSE_DIFFERENCE_MAX_INTERVAL_S',
    default: '3600',
    meaning: 'Collectors: longest time between getChannelDifference reads of a channel the account has not joined',
  },
  {
    name: 'TGPULSE_JOIN_CHANNELS',
    default: '0',
    meaning:
      "Collectors: 1 = join public channels (channels.joinChannel) so Telegram pushes their updates: fewer requests and new posts seen at once, but the join is visible to the channel's admins",
  },
  {
    name: 'TGPULSE_JOIN_MAX_PER_ACCOUNT',
    default: '450',
    meaning: 'Collectors: channels one account joins at most (Telegram refuses past about 500 with CHANNELS_TOO_MUCH)',
  },
  {
    name: 'TGPULSE_JOIN_EVERY_S',
    default: '180',
    meaning: 'Collectors: an account joins at most one channel per this many seconds',
  },
  {
    name: 'TGPULSE_BACKFILL_DAYS',
    default: '30',
    meaning: 'Collectors: history read for a channel added without `--since`',
  },
  {
    name: 'TGPULSE_LEASE_TTL_S',
    default: '60',
    meaning: "Collectors: channel lease lifetime; a dead collector's channels move to others after it",
  },
  {
    name: 'TGPULSE_CHANNELS_PER_ACCOUNT',
    default: '1000',
    meaning:
      'Collectors: channels one Telegram account takes at most (bench:mtproto: one account keeps about 1,000 channels posting 7 a day within the freshness targets, 430 posting 50 a day; `tgpulse status` shows when an account falls short)',
  },
  {
    name: 'TGPULSE_MTPROTO_RATE_PER_MINUTE',
    default: '30',
    meaning: 'Collectors: calls per minute per account and method (heavier methods keep their lower limits)',
  },
];

export function loadConfig(env: Env = process.env): TgpulseConfig {
  const core = loadCoreConfig(env);
  return {
    ...core,
    streams: {
      ...defaultStreamsConfig,
      natsUrl: core.explicitNatsUrl ?? defaultStreamsConfig.natsUrl,
      partitions: int(env, 'TGPULSE_PARTITIONS', defaultStreamsConfig.partitions, 1, 99),
      replicas: int(env, 'TGPULSE_REPLICAS', defaultStreamsConfig.replicas, 1, 5),
      maxAgeMs: int(env, 'TGPULSE_STREAM_MAX_AGE_HOURS', defaultStreamsConfig.maxAgeMs / 3600_000, 0) * 3600_000,
      duplicateWindowMs:
        int(env, 'TGPULSE_DUPLICATE_WINDOW_S', defaultStreamsConfig.duplicateWindowMs / 1000, 1) * 1000,
      maxMessageBytes: int(env, 'TGPULSE_MAX_MESSAGE_BYTES', defaultStreamsConfig.maxMessageBytes, 1024),
    },
    processor: {
      ...defaultProcessorConfig,
      allowedLatenessMs:
        int(env, 'TGPULSE_ALLOWED_LATENESS_S', defaultProcessorConfig.allowedLatenessMs / 1000, 0) * 1000,
    },
    checkpointIntervalMs: int(env, 'TGPULSE_CHECKPOINT_INTERVAL_S', 5, 1, 3600) * 1000,
    leaseTtlMs: int(env, 'TGPULSE_PARTITION_LEASE_TTL_S', 10, 1, 600) * 1000,
    workers: int(env, 'TGPULSE_WORKERS', availableParallelism(), 0, 64),
    stopDeadlineMs: int(env, 'TGPULSE_STOP_DEADLINE_S', 25, 1, 3600) * 1000,
    sink: {
      insertRows: int(env, 'TGPULSE_SINK_INSERT_ROWS', defaultSinkConfig.insertRows, 1, 10_000_000),
      insertBytes:
        int(env, 'TGPULSE_SINK_INSERT_MIB', defaultSinkConfig.insertBytes / 1024 / 1024, 1, 4096) * 1024 * 1024,
      maxWaitMs: int(env, 'TGPULSE_SINK_WAIT_MS', defaultSinkConfig.maxWaitMs, 1, 60_000),
      ackWaitMs: int(env, 'TGPULSE_SINK_ACK_WAIT_S', defaultSinkConfig.ackWaitMs / 1000, 1, 3600) * 1000,
      maxDeliveries: int(env, 'TGPULSE_SINK_MAX_DELIVERIES', defaultSinkConfig.maxDeliveries, 2, 1_000_000),
    },
    retention: retentionConfig(env),
    http: { host: str(env, 'TGPULSE_HTTP_HOST', '127.0.0.1'), port: int(env, 'TGPULSE_HTTP_PORT', 9464, 0, 65535) },
    bot: botConfig(env),
    mtproto: mtprotoConfig(env),
    api: {
      host: str(env, 'TGPULSE_API_HOST', '127.0.0.1'),
      port: int(env, 'TGPULSE_API_PORT', 8080, 0, 65535),
      ratePerMinute: int(env, 'TGPULSE_API_RATE_PER_MIN', 600, 1, 1_000_000),
      cacheSeconds: int(env, 'TGPULSE_API_CACHE_S', 30, 0, 86_400),
      maxRangeDays: int(env, 'TGPULSE_API_MAX_RANGE_DAYS', 400, 1, 3650),
      corsOrigins: str(env, 'TGPULSE_API_CORS_ORIGINS', '')
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o.length > 0),
      // Built by scripts/build-web.sh (bootstrap runs it); served at `/`.
      webRoot: fileURLToPath(new URL('dist-web', PROJECT_ROOT)),
      // The bot's token signs the initData Telegram gives the Mini App (validated in botConfig).
      webApp: {
        botToken: str(env, 'TGPULSE_BOT_TOKEN', '') || null,
        maxAgeSeconds: int(env, 'TGPULSE_WEBAPP_MAX_AGE_SECONDS', 3600, 60, 86_400),
      },
    },
  };
}

function retentionConfig(env: Env): RetentionConfig {
  const d = DEFAULT_RETENTION;
  const days = (name: string, def: number) => int(env, name, def, 0, MAX_RETENTION_DAYS);
  return {
    rawSnapshotsDays: days('TGPULSE_RETENTION_RAW_DAYS', d.rawSnapshotsDays),
    rawPostsDays: days('TGPULSE_RETENTION_POSTS_DAYS', d.rawPostsDays),
    botEventsDays: days('TGPULSE_RETENTION_BOT_EVENTS_DAYS', d.botEventsDays),
    derivedDays: days('TGPULSE_RETENTION_DERIVED_DAYS', d.derivedDays),
    deadLettersDays: days('TGPULSE_RETENTION_DEAD_LETTERS_DAYS', d.deadLettersDays),
  };
}

function botConfig(env: Env): BotConfig {
  const token = str(env, 'TGPULSE_BOT_TOKEN', '');
  if (token !== '' && !/^[0-9]{1,20}:[A-Za-z0-9_-]{10,}$/.test(token))
    throw new ConfigError('TGPULSE_BOT_TOKEN', 'a token like 123456:ABC-DEF… from @BotFather', '<hidden>');
  const admins = str(env, 'TGPULSE_BOT_ADMINS', '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const bad = admins.find((a) => !/^[0-9]{1,20}$/.test(a));
  if (bad !== undefined) throw new ConfigError('TGPULSE_BOT_ADMINS', 'comma-separated numeric Telegram user ids', bad);
  const mode = oneOf(env, 'TGPULSE_BOT_MODE', 'polling', ['polling', 'webhook'] as const);
  const webhookSecret = str(env, 'TGPULSE_BOT_WEBHOOK_SECRET', '');
  if (mode === 'webhook' && token !== '' && !/^[A-Za-z0-9_-]{16,256}$/.test(webhookSecret)) {
    throw new ConfigError(
      'TGPULSE_BOT_WEBHOOK_SECRET',
      'webhook mode: 16 to 256 characters of A-Z, a-z, 0-9, _ and -',
      '<hidden>',
    );
  }
  const apiRoot = str(env, 'TGPULSE_BOT_API_ROOT', 'https://api.telegram.org');
  if (!/^https?:\/\/[^\s]+$/.test(apiRoot)) throw new ConfigError('TGPULSE_BOT_API_ROOT', 'an http(s) URL', apiRoot);
  const publicApiUrl = str(env, 'TGPULSE_PUBLIC_API_URL', 'http://127.0.0.1:8080');
  if (!/^https?:\/\/[^\s]+$/.test(publicApiUrl))
    throw new ConfigError('TGPULSE_PUBLIC_API_URL', 'an http(s) URL', publicApiUrl);
  return {
    token: token === '' ? null : token,
    apiRoot: apiRoot.replace(/\/+$/, ''),
    admins,
    mode,
    webhookSecret: webhookSecret === '' ? null : webhookSecret,
    publicApiUrl: publicApiUrl.replace(/\/+$/, ''),
    maxSendsPerSecond: int(env, 'TGPULSE_BOT_MAX_SENDS_PER_S', 25, 1, 30),
    trackLimit: int(env, 'TGPULSE_BOT_TRACK_LIMIT', 5, 0, 1000),
  };
}

function mtprotoConfig(env: Env): MtprotoConfig {
  const d = DEFAULT_MTPROTO_CONFIG;
  const apiIdText = str(env, 'TGPULSE_TG_API_ID', '');
  const apiId = apiIdText === '' ? null : int(env, 'TGPULSE_TG_API_ID', 0, 1, 2_147_483_647);
  const apiHashText = str(env, 'TGPULSE_TG_API_HASH', '');
  if (apiHashText !== '' && !/^[0-9a-f]{32}$/i.test(apiHashText))
    throw new ConfigError('TGPULSE_TG_API_HASH', 'the 32 hex characters of api_hash from my.telegram.org', '<hidden>');
  if ((apiId === null) !== (apiHashText === '')) {
    const missing = apiId === null ? 'TGPULSE_TG_API_ID' : 'TGPULSE_TG_API_HASH';
    throw new ConfigError(
      missing,
      'to be set together with ' +
        (apiId === null ? 'TGPULSE_TG_API_HASH' : 'TGPULSE_TG_API_ID') +
        ' (both from my.telegram.org)',
      '',
    );
  }
  const keyText = str(env, 'TGPULSE_SESSION_KEY', '');
  let sessionKey: Buffer | null = null;
  if (keyText !== '') {
    try {
      sessionKey = parseSessionKey(keyText);
    } catch {
      // Never echo the key, not even a wrong one.
      throw new ConfigError(
        'TGPULSE_SESSION_KEY',
        '32 bytes as 64 hex characters or 44 base64 characters; make one with `openssl rand -hex 32`',
        '<hidden>',
      );
    }
  }
  const proxies = str(env, 'TGPULSE_MTPROTO_PROXIES', '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return checkProxy(p);
      } catch (err) {
        throw new ConfigError(
          'TGPULSE_MTPROTO_PROXIES',
          `comma-separated proxy URLs (${(err as Error).message})`,
          redactProxy(p),
        );
      }
    });
  const maxAgeDays = int(env, 'TGPULSE_POLL_MAX_AGE_DAYS', 7, 0, 365);
  const freshnessText = str(env, 'TGPULSE_FRESHNESS', '');
  let freshness = d.schedule.freshness;
  try {
    if (freshnessText !== '') freshness = parseFreshness(freshnessText);
  } catch (err) {
    throw new ConfigError(
      'TGPULSE_FRESHNESS',
      `AGE:STALENESS bands such as 1h:15m,1d:1h,7d:6h (${(err as Error).message})`,
      freshnessText,
    );
  }
  const n = d.schedule.nets;
  const membersFloorS = int(env, 'TGPULSE_MEMBERS_INTERVAL_S', n.membersFloorMs / 1000, 60, 86_400 * 7);
  const differenceFloorS = int(env, 'TGPULSE_DIFFERENCE_INTERVAL_S', n.differenceFloorMs / 1000, 10, 86_400);
  const rate = int(env, 'TGPULSE_MTPROTO_RATE_PER_MINUTE', d.rateLimits.default, 1, 6000);
  return {
    apiId,
    apiHash: apiHashText === '' ? null : apiHashText.toLowerCase(),
    sessionKey,
    proxies,
    schedule: {
      ...d.schedule,
      // The targets' own oldest band ends the polling unless TGPULSE_POLL_MAX_AGE_DAYS says otherwise.
      freshness:
        str(env, 'TGPULSE_POLL_MAX_AGE_DAYS', '') === '' ? freshness : freshnessUpTo(maxAgeDays * DAY_MS, freshness),
      nets: {
        membersFloorMs: membersFloorS * 1000,
        membersCeilingMs:
          int(
            env,
            'TGPULSE_MEMBERS_MAX_INTERVAL_S',
            Math.max(membersFloorS, n.membersCeilingMs / 1000),
            membersFloorS,
            86_400 * 7,
          ) * 1000,
        differenceFloorMs: differenceFloorS * 1000,
        differenceCeilingMs:
          int(
            env,
            'TGPULSE_DIFFERENCE_MAX_INTERVAL_S',
            Math.max(differenceFloorS, n.differenceCeilingMs / 1000),
            differenceFloorS,
            86_400,
          ) * 1000,
        confirmMs: int(env, 'TGPULSE_PTS_CHECK_S', n.confirmMs / 1000, 60, 86_400) * 1000,
      },
      statsEveryMs: int(env, 'TGPULSE_STATS_INTERVAL_S', d.schedule.statsEveryMs / 1000, 300, 86_400 * 7) * 1000,
      backfillDays: int(env, 'TGPULSE_BACKFILL_DAYS', d.schedule.backfillDays, 0, 3650),
    },
    leaseTtlMs: int(env, 'TGPULSE_LEASE_TTL_S', d.leaseTtlMs / 1000, 5, 3600) * 1000,
    channelsPerAccount: int(env, 'TGPULSE_CHANNELS_PER_ACCOUNT', d.channelsPerAccount, 1, 100_000),
    rateLimits: { ...d.rateLimits, default: rate, total: Math.max(d.rateLimits.total, rate) },
    join: {
      enabled: oneOf(env, 'TGPULSE_JOIN_CHANNELS', '0', ['0', '1'] as const) === '1',
      maxPerAccount: int(env, 'TGPULSE_JOIN_MAX_PER_ACCOUNT', d.join.maxPerAccount, 0, 10_000),
      everyMs: int(env, 'TGPULSE_JOIN_EVERY_S', d.join.everyMs / 1000, 1, 86_400) * 1000,
    },
  };
}
