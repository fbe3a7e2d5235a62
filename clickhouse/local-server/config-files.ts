/**
 * The configuration of the local ClickHouse server, as the two XML files
 * clickhouse-local reads at start: `config.xml` (points at the users file)
 * and `users.xml` (users, profiles, quotas). Pure: text in, text out.
 *
 * Read-only access is the engine's job, never a keyword check of ours:
 * - `writer` (the roles) may create, alter and write tables, and back them
 *   up into the warehouse's own backups folder, but holds no source grant, so
 *   `file()`, `url()`, `remote()`, `s3()` are refused;
 * - `reader` (queries, Grafana, SQL clients) may only SELECT and SHOW, runs
 *   with `readonly = 2` (settings may change, data may not; `readonly` itself
 *   is constant) and bounded memory and time;
 * - `default` is clickhouse-local's own session, which opens the listeners. It
 *   can only be used from loopback (clickhouse-local authenticates its session
 *   as a loopback client), holds nothing but the grants to start the server,
 *   and its quota allows only the launcher's own queries: once tgpulse has
 *   used up the rest (see `lockLauncherUser`), nobody can log in as it.
 */
import { createHash } from 'node:crypto';

/** Users of the local server, with their secrets. */
export interface WarehouseUsers {
  writer: { username: string; password: string };
  reader: { username: string; password: string };
}

/** Limits of the reader's queries. */
export interface ReaderLimits {
  maxMemoryBytes: number;
  maxExecutionSeconds: number;
}

export const DEFAULT_READER_LIMITS: ReaderLimits = { maxMemoryBytes: 2_000_000_000, maxExecutionSeconds: 60 };

/**
 * Queries the launcher's session may run in all: it runs
 * {@link launcherQueries}, the rest is used up by `lockLauncherUser` at start.
 */
export const LAUNCHER_QUERY_QUOTA = 5;

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Escape text for an XML element body. */
export function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * `config.xml`: where the users file is and the one folder `BACKUP … TO
 * File(…)` may write and `RESTORE` read (the engine refuses file backups
 * without it); everything else comes from the command line.
 */
export function renderConfigXml(usersXmlPath: string, backupsDir: string): string {
  return `<clickhouse>
  <users_config>${xmlText(usersXmlPath)}</users_config>
  <backups>
    <allowed_path>${xmlText(backupsDir)}</allowed_path>
  </backups>
</clickhouse>
`;
}

/** One password user, reachable from loopback only, with its profile and grants. */
function userXml(
  user: { username: string; password: string },
  profile: string,
  database: string,
  grants: string[],
): string {
  return `    <${user.username}>
      <password_sha256_hex>${sha256Hex(user.password)}</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>${profile}</profile>
      <quota>default</quota>
      <default_database>${database}</default_database>
      <grants>
${grants.map((g) => `        <query>${g}</query>`).join('\n')}
      </grants>
    </${user.username}>`;
}

/** `users.xml`: the three users, their profiles and the launcher's quota. Only password hashes are written. */
export function renderUsersXml(
  users: WarehouseUsers,
  database: string,
  limits: ReaderLimits = DEFAULT_READER_LIMITS,
): string {
  if (!IDENT_RE.test(database)) throw new TypeError(`database ${JSON.stringify(database)} must be an identifier`);
  for (const u of [users.writer, users.reader]) {
    if (!IDENT_RE.test(u.username) || u.username === 'default')
      throw new TypeError(`user name ${JSON.stringify(u.username)} must be an identifier other than default`);
  }
  return `<clickhouse>
  <users>
    <default>
      <no_password/>
      <networks><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>launcher</quota>
      <grants>
        <query>GRANT SYSTEM LISTEN ON *.*</query>
        <query>GRANT CREATE DATABASE ON ${database}.*</query>
        <query>GRANT SELECT ON system.numbers</query>
      </grants>
    </default>
${userXml(users.writer, 'default', database, ['GRANT SHOW, SELECT, INSERT, ALTER, CREATE, DROP, TRUNCATE, OPTIMIZE, BACKUP ON *.*', 'GRANT TABLE ENGINE ON *'])}
${userXml(users.reader, 'reader', database, ['GRANT SHOW, SELECT ON *.*'])}
  </users>
  <profiles>
    <default/>
    <reader>
      <readonly>2</readonly>
      <max_memory_usage>${limits.maxMemoryBytes}</max_memory_usage>
      <max_execution_time>${limits.maxExecutionSeconds}</max_execution_time>
      <constraints>
        <readonly><const/></readonly>
        <max_memory_usage><max>${limits.maxMemoryBytes}</max></max_memory_usage>
        <max_execution_time><max>${limits.maxExecutionSeconds}</max></max_execution_time>
      </constraints>
    </reader>
  </profiles>
  <quotas>
    <default/>
    <launcher>
      <interval>
        <duration>315360000</duration>
        <queries>${LAUNCHER_QUERY_QUOTA}</queries>
      </interval>
    </launcher>
  </quotas>
</clickhouse>
`;
}

/**
 * The launcher's session: create the database, open both listeners, then
 * block for as long as the process lives (a sleeping scan; it costs no CPU).
 */
export function launcherQueries(database: string): string {
  if (!IDENT_RE.test(database)) throw new TypeError(`database ${JSON.stringify(database)} must be an identifier`);
  return [
    `CREATE DATABASE IF NOT EXISTS ${database}`,
    'SYSTEM START LISTEN HTTP',
    'SYSTEM START LISTEN TCP',
    'SELECT sleepEachRow(1) FROM system.numbers SETTINGS function_sleep_max_microseconds_per_block = 0, max_block_size = 1',
  ].join('; ');
}
