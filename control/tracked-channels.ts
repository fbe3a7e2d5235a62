/**
 * The channel registry: which Telegram channels tgpulse collects, what the
 * collectors need to reach them (access hash, statistics DC), whether
 * Telegram still lets them in, and where each collector left off (update
 * `pts`, backfill cursor, last post id), so a restart resumes instead of
 * rereading history.
 *
 * Channels are keyed by their bare id (as the warehouse keeps it) and removed
 * softly: a channel added again resumes from its cursors.
 */
import type { Pool } from 'pg';
import { audit, type Actor } from './audit.ts';
import { epochMs, withTransaction, type Queryable } from './db.ts';
import { ControlError } from './errors.ts';
import { checkChannelId, checkInteger } from './validate.ts';

/**
 * What Telegram last said about reaching a channel. `gone`: deleted or the
 * id no longer resolves; `private`: CHANNEL_PRIVATE (left, banned, or made
 * private); `no_rights`: reachable but the accounts lack a right the
 * collector needs. Only `active` channels are collected.
 */
export const CHANNEL_STATUSES = ['active', 'gone', 'private', 'no_rights'] as const;
/** One of CHANNEL_STATUSES. */
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

/** A tracked channel. Times are epoch ms. */
export interface TrackedChannel {
  /** The bare channel id, decimal (not the Bot API's `-100…` form). */
  channelId: string;
  /** Without `@`; null for a channel without a public username. */
  username: string | null;
  title: string | null;
  /** The int64 access hash MTProto calls need, decimal. */
  accessHash: string;
  addedAt: number;
  /** Set while the channel is removed; null when tracked. */
  removedAt: number | null;
  status: ChannelStatus;
  /** Telegram's words for a non-active status (e.g. CHANNEL_PRIVATE); null when active. */
  statusReason: string | null;
  /** Whether stats.getBroadcastStats is open to the accounts. */
  canViewStats: boolean;
  /** The DC that serves the channel's statistics; null when unknown. */
  statsDc: number | null;
  members: number | null;
  /** The channel's update state (updates.getChannelDifference resumes from it); null before the first. */
  pts: number | null;
  /** The backfill cursor: history below this post id is still to be read; null = start from the newest post. */
  backfillOffsetId: number | null;
  /** How far back the backfill goes (epoch ms); null = the configured default. */
  backfillUntil: number | null;
  backfillDone: boolean;
  /** The newest post id seen. */
  lastPostId: number | null;
  updatedAt: number;
}

/** A channel as a collector just resolved it. */
export interface ChannelFacts {
  /** The bare channel id. */
  channelId: string;
  /** Without `@`; null when the channel has none. */
  username: string | null;
  title: string | null;
  accessHash: string;
  canViewStats: boolean;
  statsDc: number | null;
  members: number | null;
}

/** Facts that change over a channel's life; omitted ones are kept. */
export type ChannelFactsUpdate = Partial<
  Pick<ChannelFacts, 'canViewStats' | 'statsDc' | 'members' | 'title' | 'username'>
>;

const USERNAME = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;
const ACCESS_HASH = /^-?[0-9]{1,20}$/;
const BOT_API_CHANNEL = /^-100([1-9][0-9]{0,16})$/;
const INT32_MAX = 2_147_483_647;
const MAX_TITLE_CHARS = 255;
const MAX_REASON_CHARS = 500;
/** A bound for times given in epoch ms, well inside what Date and timestamptz hold. */
const LATEST_MS = Date.UTC(9999, 0, 1);

interface ChannelRow {
  channel_id: string;
  username: string | null;
  title: string | null;
  access_hash: string;
  added_at: Date;
  removed_at: Date | null;
  status: ChannelStatus;
  status_reason: string | null;
  can_view_stats: boolean;
  stats_dc: number | null;
  members: number | null;
  pts: number | null;
  backfill_offset_id: number | null;
  backfill_until: Date | null;
  backfill_done: boolean;
  last_post_id: number | null;
  updated_at: Date;
}

const COLUMNS =
  'channel_id, username, title, access_hash, added_at, removed_at, status, status_reason, can_view_stats, stats_dc, members, pts, ' +
  'backfill_offset_id, backfill_until, backfill_done, last_post_id, updated_at';

function fromRow(r: ChannelRow): TrackedChannel {
  return {
    channelId: r.channel_id,
    username: r.username,
    title: r.title,
    accessHash: r.access_hash,
    addedAt: epochMs(r.added_at),
    removedAt: epochMs(r.removed_at),
    status: r.status,
    statusReason: r.status_reason,
    canViewStats: r.can_view_stats,
    statsDc: r.stats_dc,
    members: r.members,
    pts: r.pts,
    backfillOffsetId: r.backfill_offset_id,
    backfillUntil: epochMs(r.backfill_until),
    backfillDone: r.backfill_done,
    lastPostId: r.last_post_id,
    updatedAt: epochMs(r.updated_at),
  };
}

/** A bare channel id: the same channel must not be tracked twice under two spellings. */
function checkBareChannelId(value: unknown): string {
  const id = checkChannelId('channelId', value);
  if (BOT_API_CHANNEL.test(id))
    throw new ControlError('channelId', `expected the bare channel id ${id.slice(4)}, not the Bot API chat id ${id}`);
  if (!/^[1-9][0-9]*$/.test(id))
    throw new ControlError(
      'channelId',
      `expected a positive channel id without leading zeros, got ${JSON.stringify(id)}`,
    );
  return id;
}

function checkUsername(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || !USERNAME.test(value)) {
    throw new ControlError(
      'username',
      `expected a username of 5 to 32 letters, digits and _ starting with a letter, without @, or null; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkTitle(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_TITLE_CHARS)
    throw new ControlError('title', `expected a string of at most ${MAX_TITLE_CHARS} characters, or null`);
  return value;
}

function checkNullableInteger(field: string, value: unknown, min: number, max: number): number | null {
  return value === null ? null : checkInteger(field, value, min, max);
}

function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ControlError(field, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Telegram usernames are unique at any moment, but move between channels.
 * When a channel is seen with a username, no other channel holds it any more.
 */
async function takeUsername(db: Queryable, channelId: string, username: string | null): Promise<void> {
  if (username === null) return;
  await db.query(
    'UPDATE tracked_channels SET username = NULL, updated_at = now() WHERE lower(username) = lower($1) AND channel_id <> $2',
    [username, channelId],
  );
}

/**
 * Tracks a channel as a collector just resolved it, or refreshes what is
 * known of it. A removed channel comes back with its cursors (pts, backfill,
 * last post) intact, so collection resumes where it stopped; a successful
 * resolve also makes it `active` again.
 *
 * @example
 * await upsertChannel(pool, { channelId: '1234567890', username: 'durov', title: 'Durov', accessHash: '-42', canViewStats: false, statsDc: null, members: 1000 }, { actor: 'cli' });
 */
export async function upsertChannel(pool: Pool, facts: ChannelFacts, by: Actor = {}): Promise<TrackedChannel> {
  const channelId = checkBareChannelId(facts.channelId);
  const username = checkUsername(facts.username);
  const title = checkTitle(facts.title);
  if (typeof facts.accessHash !== 'string' || !ACCESS_HASH.test(facts.accessHash)) {
    throw new ControlError('accessHash', 'expected the int64 access hash as a decimal string');
  }
  const canViewStats = checkBoolean('canViewStats', facts.canViewStats);
  const statsDc = checkNullableInteger('statsDc', facts.statsDc, 1, INT32_MAX);
  const members = checkNullableInteger('members', facts.members, 0, INT32_MAX);
  return withTransaction(pool, async (client) => {
    const before = await client.query<{ removed_at: Date | null }>(
      'SELECT removed_at FROM tracked_channels WHERE channel_id = $1 FOR UPDATE',
      [channelId],
    );
    await takeUsername(client, channelId, username);
    const { rows } = await client.query<ChannelRow>(
      `INSERT INTO tracked_channels (channel_id, username, title, access_hash, can_view_stats, stats_dc, members)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (channel_id) DO UPDATE SET username = EXCLUDED.username, title = EXCLUDED.title, access_hash = EXCLUDED.access_hash,
         can_view_stats = EXCLUDED.can_view_stats, stats_dc = EXCLUDED.stats_dc, members = EXCLUDED.members,
         removed_at = NULL, status = 'active', status_reason = NULL, updated_at = now()
       RETURNING ${COLUMNS}`,
      [channelId, username, title, facts.accessHash, canViewStats, statsDc, members],
    );
    const action =
      before.rows.length === 0
        ? 'channel.add'
        : before.rows[0].removed_at !== null
          ? 'channel.revive'
          : 'channel.refresh';
    await audit(client, { actor: by.actor ?? 'system', action, target: channelId, details: { username, title } });
    return fromRow(rows[0]);
  });
}

/** Tracked channels, oldest first; removed ones too when asked. */
export async function listChannels(pool: Pool, opts: { includeRemoved?: boolean } = {}): Promise<TrackedChannel[]> {
  const where = opts.includeRemoved === true ? '' : 'WHERE removed_at IS NULL';
  const { rows } = await pool.query<ChannelRow>(
    `SELECT ${COLUMNS} FROM tracked_channels ${where} ORDER BY added_at, channel_id`,
  );
  return rows.map(fromRow);
}

/** What people call a channel: its title and public username, as Telegram last told a collector. */
export type ChannelName = Pick<TrackedChannel, 'title' | 'username'>;

/**
 * The names of the given channels (removed ones too: their data stays
 * readable); a channel the registry does not know (simulated, or forgotten)
 * is missing from the map.
 */
export async function channelNames(pool: Pool, ids: readonly string[]): Promise<Map<string, ChannelName>> {
  if (ids.length === 0) return new Map();
  const { rows } = await pool.query<{ channel_id: string; username: string | null; title: string | null }>(
    'SELECT channel_id, username, title FROM tracked_channels WHERE channel_id = ANY($1::text[])',
    [[...ids]],
  );
  return new Map(rows.map((r) => [r.channel_id, { title: r.title, username: r.username }]));
}

/** One channel (removed or not) by its bare id, or null. */
export async function getChannel(pool: Pool, id: string): Promise<TrackedChannel | null> {
  const { rows } = await pool.query<ChannelRow>(`SELECT ${COLUMNS} FROM tracked_channels WHERE channel_id = $1`, [id]);
  return rows.length === 0 ? null : fromRow(rows[0]);
}

/**
 * The channel a person means: a bare id, a Bot API chat id (`-100…`), or a
 * username with or without `@`, in any case. Removed channels are found too
 * (check `removedAt`), tracked ones first. Null when nothing matches or the
 * reference is none of these.
 *
 * @example
 * await findChannel(pool, '@Durov') // the channel whose username is durov
 */
export async function findChannel(pool: Pool, ref: string): Promise<TrackedChannel | null> {
  const text = ref.trim();
  const botApi = BOT_API_CHANNEL.exec(text);
  const id = botApi ? botApi[1] : /^[1-9][0-9]{0,19}$/.test(text) ? text : null;
  if (id !== null) return getChannel(pool, id);
  const username = text.startsWith('@') ? text.slice(1) : text;
  if (!USERNAME.test(username)) return null;
  const { rows } = await pool.query<ChannelRow>(
    `SELECT ${COLUMNS} FROM tracked_channels WHERE lower(username) = lower($1) ORDER BY removed_at IS NOT NULL, updated_at DESC LIMIT 1`,
    [username],
  );
  return rows.length === 0 ? null : fromRow(rows[0]);
}

/**
 * Stops collecting a channel, keeping its row and cursors for a later
 * re-add; its lease is dropped so no collector keeps working on it. False
 * when it is unknown or already removed.
 */
export async function removeChannel(pool: Pool, id: string, by: Actor = {}): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE tracked_channels SET removed_at = now(), updated_at = now() WHERE channel_id = $1 AND removed_at IS NULL',
      [id],
    );
    if (!rowCount) return false;
    await client.query('DELETE FROM collector_leases WHERE channel_id = $1', [id]);
    await audit(client, { actor: by.actor ?? 'system', action: 'channel.remove', target: id });
    return true;
  });
}

/**
 * Records what Telegram said about reaching a channel (e.g. `private` with
 * CHANNEL_PRIVATE). A channel that is not `active` is not leased, so its lease
 * is dropped; `active` clears the reason. Not audited: it is the collectors'
 * observation, not an operator's decision. False when the channel is unknown.
 */
export async function setChannelStatus(
  pool: Pool,
  id: string,
  status: ChannelStatus,
  reason: string | null,
): Promise<boolean> {
  if (!CHANNEL_STATUSES.includes(status))
    throw new ControlError('status', `expected one of ${CHANNEL_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  if (reason !== null && typeof reason !== 'string') throw new ControlError('reason', 'expected a string or null');
  const kept = status === 'active' || reason === null ? null : reason.slice(0, MAX_REASON_CHARS);
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE tracked_channels SET status = $2, status_reason = $3, updated_at = now() WHERE channel_id = $1',
      [id, status, kept],
    );
    if (!rowCount) return false;
    if (status !== 'active') await client.query('DELETE FROM collector_leases WHERE channel_id = $1', [id]);
    return true;
  });
}

/** Column of each fact `updateChannelFacts` may change. */
const FACT_COLUMNS = {
  canViewStats: 'can_view_stats',
  statsDc: 'stats_dc',
  members: 'members',
  title: 'title',
  username: 'username',
} as const;

/**
 * Refreshes what changes over a channel's life (members, title, username,
 * statistics access); omitted facts are kept. False when the channel is
 * unknown.
 */
export async function updateChannelFacts(pool: Pool, id: string, facts: ChannelFactsUpdate): Promise<boolean> {
  const values: Record<keyof typeof FACT_COLUMNS, unknown> = {
    canViewStats: facts.canViewStats === undefined ? undefined : checkBoolean('canViewStats', facts.canViewStats),
    statsDc: facts.statsDc === undefined ? undefined : checkNullableInteger('statsDc', facts.statsDc, 1, INT32_MAX),
    members: facts.members === undefined ? undefined : checkNullableInteger('members', facts.members, 0, INT32_MAX),
    title: facts.title === undefined ? undefined : checkTitle(facts.title),
    username: facts.username === undefined ? undefined : checkUsername(facts.username),
  };
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [fact, column] of Object.entries(FACT_COLUMNS) as Array<[keyof typeof FACT_COLUMNS, string]>) {
    if (values[fact] === undefined) continue;
    params.push(values[fact]);
    sets.push(`${column} = $${params.length}`);
  }
  if (sets.length === 0) return (await getChannel(pool, id)) !== null;
  return withTransaction(pool, async (client) => {
    if (typeof values.username === 'string') await takeUsername(client, id, values.username);
    const { rowCount } = await client.query(
      `UPDATE tracked_channels SET ${sets.join(', ')}, updated_at = now() WHERE channel_id = $1`,
      params,
    );
    return (rowCount ?? 0) > 0;
  });
}

/**
 * Saves the channel's update state. It only moves forward, so a late write
 * from a slower collector cannot send the next one back over old updates.
 * False when the channel is unknown.
 */
export async function savePts(pool: Pool, id: string, pts: number): Promise<boolean> {
  checkInteger('pts', pts, 0, INT32_MAX);
  // GREATEST ignores NULL, so the first pts is taken as is.
  const { rowCount } = await pool.query(
    'UPDATE tracked_channels SET pts = GREATEST(pts, $2), updated_at = now() WHERE channel_id = $1',
    [id, pts],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Saves how far back history has been read: posts below `offsetId` remain
 * (null = start from the newest again), and whether the backfill reached its
 * limit. False when the channel is unknown.
 */
export async function saveBackfillCursor(
  pool: Pool,
  id: string,
  cursor: { offsetId: number | null; done: boolean },
): Promise<boolean> {
  const offsetId = checkNullableInteger('offsetId', cursor.offsetId, 0, INT32_MAX);
  const done = checkBoolean('done', cursor.done);
  const { rowCount } = await pool.query(
    'UPDATE tracked_channels SET backfill_offset_id = $2, backfill_done = $3, updated_at = now() WHERE channel_id = $1',
    [id, offsetId, done],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Starts the channel's backfill over, down to `untilMs` (null = the
 * configured default): the cursor goes back to the newest post and the
 * backfill is no longer done. False when the channel is unknown.
 */
export async function setBackfillFrom(
  pool: Pool,
  id: string,
  untilMs: number | null,
  by: Actor = {},
): Promise<boolean> {
  const until = untilMs === null ? null : new Date(checkInteger('untilMs', untilMs, 0, LATEST_MS));
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE tracked_channels SET backfill_until = $2, backfill_offset_id = NULL, backfill_done = false, updated_at = now() WHERE channel_id = $1',
      [id, until],
    );
    if (!rowCount) return false;
    await audit(client, { actor: by.actor ?? 'system', action: 'channel.backfill', target: id, details: { untilMs } });
    return true;
  });
}

/** Saves the newest post id seen; it only moves forward. False when the channel is unknown. */
export async function saveLastPostId(pool: Pool, id: string, postId: number): Promise<boolean> {
  checkInteger('postId', postId, 0, INT32_MAX);
  const { rowCount } = await pool.query(
    'UPDATE tracked_channels SET last_post_id = GREATEST(last_post_id, $2), updated_at = now() WHERE channel_id = $1',
    [id, postId],
  );
  return (rowCount ?? 0) > 0;
}
