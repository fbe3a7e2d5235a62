/**
 * gramjs TL objects → raw events of the contract (streams/contract/events.ts).
 *
 * Pure functions, no I/O: the MTProto collectors call Telegram and hand the
 * answers here, so everything that decides what an event says is testable with
 * real TL objects and no network. Every function returns events that pass the
 * contract's runtime validation even for hostile input (a post with a thousand
 * mentions, a 5000-character link, control characters in entities): Telegram
 * content is user content, and one bad post must never poison a batch.
 *
 * ```ts
 * const obs = { channelId: '1234567890', observedAt: Date.now() };
 * const posts = history.messages.map((m) => postEvent(m, obs)).filter((e) => e !== null);
 * ```
 */
import { Api } from 'telegram';
import {
  SCHEMA_VERSION,
  type ChannelMembersEvent,
  type PostCountersEvent,
  type PostDeletedEvent,
  type PostEvent,
  eventId,
} from '../../streams/contract/index.ts';
import { SECOND_MS } from '../../common/index.ts';

/** Where and when something was read: the envelope fields a parser cannot know. */
export interface Observation {
  /** Bare Telegram channel id, decimal (never the -100 marked form). */
  channelId: string;
  /** When the collector read it, ms since the epoch. */
  observedAt: number;
}

/** Reactions of one post: the total and the count per emoji (`custom:<id>`, `paid`). */
export interface ReactionCounts {
  total: number;
  byEmoji: Record<string, number>;
}

/** The media kinds of the contract (`post.data.media_type`). */
export type MediaType = PostEvent['data']['media_type'];

// ---- contract limits (streams/contract/events.ts) -----------------------------------

/** Most entries per entity list (mentions, links, hashtags). */
export const MAX_ENTITY_ITEMS = 100;
/** Longest mention or hashtag (ShortText). */
export const MAX_SHORT_TEXT = 256;
/** Longest link. */
export const MAX_LINK_LENGTH = 2048;
/** Longest reaction key. */
export const MAX_REACTION_KEY = 64;
/** Most post ids in one `post_deleted` event. */
export const MAX_DELETED_PER_EVENT = 1000;
const MAX_POST_ID = 2 ** 31 - 1;

const SOURCE = 'mtproto' as const;

// ---- small helpers -----------------------------------------------------------

/**
 * The bare channel id of a peer, or null for users and basic groups. Channel
 * ids are longs (big-integer in gramjs): kept as decimal strings because int64
 * does not fit a JS number.
 */
export function channelIdOfPeer(peer: Api.TypePeer | undefined): string | null {
  return peer instanceof Api.PeerChannel ? peer.channelId.toString() : null;
}

/** True for an id the contract accepts as a post id (1 … 2^31−1). */
export function isPostId(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_POST_ID;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is this pattern's purpose.
const CONTROL_CHARS_RE = /[\u0000-\u001f\u007f-\u009f]/g;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `s` cut to at most `max` UTF-16 units without splitting a surrogate pair,
 * so a clamped string is still well-formed text.
 */
export function clampText(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * Entity text made safe to aggregate on: control characters removed (they
 * break keys, logs and CSV exports and never belong in a mention, link or
 * hashtag) and lone surrogates dropped (an entity whose offset splits an
 * emoji would otherwise carry half a character).
 */
function cleanEntityText(s: string): string {
  return s.replace(CONTROL_CHARS_RE, '').replace(LONE_SURROGATE_RE, '');
}

/** A Telegram counter as a contract count: missing, negative or broken values read as 0. */
function count(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER) : 0;
}

/** Unix seconds → ms. */
function secondsToMs(s: number): number {
  return Math.round(s * SECOND_MS);
}

/** Sets a key with defineProperty so a reaction named `__proto__` stays a plain key. */
function setKey(target: Record<string, number>, key: string, value: number): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function requirePostId(id: unknown, what: string): number {
  if (!isPostId(id)) {
    throw new RangeError(
      `${what}: ${String(id)} is not a Telegram post id (expected an integer 1…${MAX_POST_ID}); check what the collector passed in`,
    );
  }
  return id;
}

// ---- reactions -----------------------------------------------------------------

/**
 * The key a reaction is counted under: the emoji itself, `custom:<document id>`
 * for custom emoji (their picture is a document, so its id is what is stable),
 * `paid` for star reactions; null for ReactionEmpty.
 */
export function reactionKey(reaction: Api.TypeReaction): string | null {
  if (reaction instanceof Api.ReactionEmoji) {
    const key = clampText(cleanEntityText(reaction.emoticon ?? ''), MAX_REACTION_KEY);
    return key === '' ? null : key;
  }
  if (reaction instanceof Api.ReactionCustomEmoji) return `custom:${reaction.documentId.toString()}`;
  if (reaction instanceof Api.ReactionPaid) return 'paid';
  return null;
}

/**
 * Reaction totals of Api.MessageReactions (undefined → zero): ReactionEmoji →
 * its emoticon, ReactionCustomEmoji → `custom:<documentId>`, ReactionPaid →
 * `paid`; ReactionEmpty ignored. The total is the sum of the counted keys, so
 * downstream deltas of the total and of the per-emoji counts agree.
 */
export function reactionCounts(reactions: Api.TypeMessageReactions | undefined): ReactionCounts {
  const byEmoji: Record<string, number> = {};
  let total = 0;
  for (const rc of reactions?.results ?? []) {
    if (!(rc instanceof Api.ReactionCount)) continue;
    const key = reactionKey(rc.reaction);
    if (key === null) continue;
    const n = count(rc.count);
    // Two results under one key (emoticons that clamp alike) add up rather than overwrite.
    setKey(byEmoji, key, Math.min((Object.hasOwn(byEmoji, key) ? byEmoji[key] : 0) + n, Number.MAX_SAFE_INTEGER));
    total = Math.min(total + n, Number.MAX_SAFE_INTEGER);
  }
  return { total, byEmoji };
}

// ---- posts ---------------------------------------------------------------------

/**
 * What kind of media a message carries, in the contract's words. A video
 * sticker has both a sticker and a video attribute: the sticker wins, because
 * that is what the reader sees.
 */
export function mediaTypeOf(media: Api.TypeMessageMedia | undefined): MediaType {
  if (media === undefined || media instanceof Api.MessageMediaEmpty) return 'none';
  if (media instanceof Api.MessageMediaPhoto) return 'photo';
  if (media instanceof Api.MessageMediaPoll) return 'poll';
  if (media instanceof Api.MessageMediaWebPage) return 'webpage';
  if (media instanceof Api.MessageMediaDocument) {
    const attributes = media.document instanceof Api.Document ? media.document.attributes : [];
    if (attributes.some((a) => a instanceof Api.DocumentAttributeSticker)) return 'sticker';
    if (media.voice) return 'voice';
    if (media.video || media.round || attributes.some((a) => a instanceof Api.DocumentAttributeVideo)) return 'video';
    const audio = attributes.find((a): a is Api.DocumentAttributeAudio => a instanceof Api.DocumentAttributeAudio);
    if (audio) return audio.voice ? 'voice' : 'audio';
    return 'document';
  }
  return 'other';
}

/** Mentions, links and hashtags of a message, deduplicated and clamped to the contract. */
export interface EntityTexts {
  mentions: string[];
  links: string[];
  hashtags: string[];
}

/**
 * The mentions (`@name`), links (plain URLs and the targets of text links)
 * and hashtags (`#tag`) of a message. Offsets are UTF-16 units, as JS strings
 * count, so an emoji before an entity shifts it by two. Each list keeps the
 * first occurrence of a value only — a post repeating one link a thousand
 * times must not crowd the others out of the 100-item cap — and every string
 * is clamped to the contract's length.
 */
export function entityTexts(text: string, entities: readonly Api.TypeMessageEntity[] | undefined): EntityTexts {
  const mentions = new Set<string>();
  const links = new Set<string>();
  const hashtags = new Set<string>();
  const add = (into: Set<string>, raw: string, max: number): void => {
    if (into.size >= MAX_ENTITY_ITEMS) return;
    const value = clampText(cleanEntityText(raw), max);
    if (value !== '') into.add(value);
  };
  const slice = (e: { offset: number; length: number }): string =>
    Number.isInteger(e.offset) && Number.isInteger(e.length) && e.offset >= 0 && e.length > 0
      ? text.slice(e.offset, e.offset + e.length)
      : '';
  for (const e of entities ?? []) {
    if (e instanceof Api.MessageEntityMention) add(mentions, slice(e), MAX_SHORT_TEXT);
    else if (e instanceof Api.MessageEntityHashtag) add(hashtags, slice(e), MAX_SHORT_TEXT);
    else if (e instanceof Api.MessageEntityUrl) add(links, slice(e), MAX_LINK_LENGTH);
    else if (e instanceof Api.MessageEntityTextUrl) add(links, e.url ?? '', MAX_LINK_LENGTH);
    // MessageEntityMentionName points at a user id with no public handle: nothing to aggregate on.
  }
  return { mentions: [...mentions], links: [...links], hashtags: [...hashtags] };
}

/** The channel post a message was forwarded from; null for users, groups and hidden senders. */
function forwardOrigin(fwd: Api.TypeMessageFwdHeader | undefined): PostEvent['data']['forward_from'] {
  if (!(fwd instanceof Api.MessageFwdHeader)) return null;
  const channelId = channelIdOfPeer(fwd.fromId);
  if (channelId === null) return null;
  return { channel_id: channelId, post_id: isPostId(fwd.channelPost) ? fwd.channelPost : null };
}

/**
 * Api.Message → `post` event, or null for Api.MessageEmpty and
 * Api.MessageService (joins, pins and the like are not posts).
 *
 * The id covers the edit date, so each edit of a post is a new fact while a
 * re-read of the same version deduplicates. `event_time` is the post date; the
 * counters are those seen with the post at `obs.observedAt`.
 *
 * @throws RangeError when the message id is not a valid post id.
 */
export function postEvent(msg: Api.TypeMessage, obs: Observation): PostEvent | null {
  if (!(msg instanceof Api.Message)) return null;
  const postId = requirePostId(msg.id, `message of channel ${obs.channelId}`);
  const date = secondsToMs(msg.date);
  const editDate = typeof msg.editDate === 'number' && msg.editDate > 0 ? secondsToMs(msg.editDate) : null;
  const text = msg.message ?? '';
  const reactions = reactionCounts(msg.reactions);
  return {
    v: SCHEMA_VERSION,
    kind: 'post',
    id: eventId('post', obs.channelId, postId, editDate ?? 0),
    channel_id: obs.channelId,
    event_time: date,
    observed_at: obs.observedAt,
    source: SOURCE,
    data: {
      post_id: postId,
      date,
      edit_date: editDate,
      text_length: text.length,
      media_type: mediaTypeOf(msg.media),
      grouped_id: msg.groupedId !== undefined && msg.groupedId !== null ? msg.groupedId.toString() : null,
      forward_from: forwardOrigin(msg.fwdFrom),
      ...entityTexts(text, msg.entities),
      counters: {
        views: count(msg.views),
        forwards: count(msg.forwards),
        replies: count(msg.replies?.replies),
        reactions_total: reactions.total,
        reactions: reactions.byEmoji,
      },
    },
  };
}

// ---- counters ------------------------------------------------------------------

function countersEvent(
  postId: number,
  obs: Observation,
  postDate: number | undefined,
  views: number | undefined,
  forwards: number | undefined,
  replies: number | undefined,
  reactions: ReactionCounts,
): PostCountersEvent {
  return {
    v: SCHEMA_VERSION,
    kind: 'post_counters',
    id: eventId('pc', obs.channelId, postId, obs.observedAt),
    channel_id: obs.channelId,
    event_time: obs.observedAt,
    observed_at: obs.observedAt,
    source: SOURCE,
    data: {
      post_id: postId,
      ...(postDate !== undefined ? { post_date: postDate } : {}),
      views: count(views),
      forwards: count(forwards),
      replies: count(replies),
      reactions_total: reactions.total,
      reactions: reactions.byEmoji,
    },
  };
}

/**
 * The counters carried by a message as a `post_counters` snapshot taken at
 * `obs.observedAt`; null when the message carries no view counter (the
 * account cannot see views there, and a 0 would read as a regression) or is
 * not an Api.Message.
 */
export function countersFromMessage(msg: Api.TypeMessage, obs: Observation): PostCountersEvent | null {
  if (!(msg instanceof Api.Message) || msg.views === undefined || msg.views === null) return null;
  const postId = requirePostId(msg.id, `message of channel ${obs.channelId}`);
  return countersEvent(
    postId,
    obs,
    secondsToMs(msg.date),
    msg.views,
    msg.forwards,
    msg.replies?.replies,
    reactionCounts(msg.reactions),
  );
}

/** The view count a message carries, as its post's first read at `at`; none when it has none. */
export function seenCounters(msg: Api.TypeMessage, at: number): { at: number; views: number } | undefined {
  return msg instanceof Api.Message && typeof msg.views === 'number' ? { at, views: msg.views } : undefined;
}

// ---- channel -------------------------------------------------------------------

function channelFull(full: Api.messages.ChatFull, channelId: string): Api.ChannelFull | null {
  const fc = full.fullChat;
  if (!(fc instanceof Api.ChannelFull)) return null;
  if (fc.id.toString() !== channelId) {
    throw new Error(
      `channels.getFullChannel answered for channel ${fc.id.toString()} where ${channelId} was expected; check which input channel the collector resolved`,
    );
  }
  return fc;
}

/**
 * A `channel_members` snapshot from channels.getFullChannel; null when the
 * count is hidden (participantsCount absent) or the answer is not a channel's.
 *
 * @throws Error when the answer belongs to another channel than `obs.channelId`.
 */
export function membersEvent(full: Api.messages.ChatFull, obs: Observation): ChannelMembersEvent | null {
  const fc = channelFull(full, obs.channelId);
  if (fc === null || typeof fc.participantsCount !== 'number' || !Number.isFinite(fc.participantsCount)) return null;
  return {
    v: SCHEMA_VERSION,
    kind: 'channel_members',
    id: eventId('cm', obs.channelId, obs.observedAt),
    channel_id: obs.channelId,
    event_time: obs.observedAt,
    observed_at: obs.observedAt,
    source: SOURCE,
    data: { members: count(fc.participantsCount) },
  };
}

/**
 * `post_deleted` events for deleted post ids: sorted and deduplicated (so the
 * same deletion read twice gets the same id), split into events of at most
 * 1000 ids as the contract allows. No ids → no events.
 *
 * @throws RangeError when an id is not a valid post id.
 */
export function deletedEvents(ids: readonly number[], obs: Observation): PostDeletedEvent[] {
  const unique = [
    ...new Set(ids.map((id, i) => requirePostId(id, `deleted id #${i} of channel ${obs.channelId}`))),
  ].sort((a, b) => a - b);
  const out: PostDeletedEvent[] = [];
  for (let i = 0; i < unique.length; i += MAX_DELETED_PER_EVENT) {
    const chunk = unique.slice(i, i + MAX_DELETED_PER_EVENT);
    out.push({
      v: SCHEMA_VERSION,
      kind: 'post_deleted',
      id: eventId('pd', obs.channelId, chunk.join(',')),
      channel_id: obs.channelId,
      event_time: obs.observedAt,
      observed_at: obs.observedAt,
      source: SOURCE,
      data: { post_ids: chunk },
    });
  }
  return out;
}

/** What the channel registry keeps about a channel, read from channels.getFullChannel. */
export interface ChannelFacts {
  members: number | null;
  /** Whether this account may call stats.getBroadcastStats for the channel. */
  canViewStats: boolean;
  /** The DC that serves the channel's statistics (calls must go there). */
  statsDc: number | null;
  title: string | null;
  username: string | null;
}

/**
 * The channel facts of a channels.getFullChannel answer for the registry.
 * The username falls back to the first active collectible username, since
 * channels with only collectible names carry none in `username`.
 *
 * @throws Error when the answer belongs to another channel than `channelId`.
 */
export function channelFacts(full: Api.messages.ChatFull, channelId: string): ChannelFacts {
  const fc = channelFull(full, channelId);
  const chat = full.chats.find((c): c is Api.Channel => c instanceof Api.Channel && c.id.toString() === channelId);
  const username =
    chat?.username ?? chat?.usernames?.find((u) => u instanceof Api.Username && u.active)?.username ?? null;
  return {
    members: fc !== null && typeof fc.participantsCount === 'number' ? count(fc.participantsCount) : null,
    canViewStats: fc?.canViewStats === true,
    statsDc: fc !== null && typeof fc.statsDc === 'number' ? fc.statsDc : null,
    title: chat?.title ?? null,
    username,
  };
}
