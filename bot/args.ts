/**
 * Reading the words after a command. Pure functions that return a value or a
 * problem phrased for the user, in plain text (the caller escapes it for
 * HTML), so that every bad input gets a clear reply and nothing a user typed
 * reaches a query unchecked.
 */
import { clip } from './format.ts';

/** A parsed value, or what was wrong with the input. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** A value that passed. */
export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/** What was wrong, in words for the user. */
export function problem<T>(text: string): Parsed<T> {
  return { ok: false, problem: text };
}

/** More words than any command takes: someone pasted something else. */
const MAX_WORDS = 12;
const MAX_QUOTE = 40;

/** A user's word shown back to them, cut when long (junk can be kilobytes). Plain text: escape before HTML. */
export function quote(word: string): string {
  return `“${clip(word, MAX_QUOTE)}”`;
}

/** The words of a command's argument text. */
export function words(text: string): Parsed<string[]> {
  const list = text.trim() === '' ? [] : text.trim().split(/\s+/);
  if (list.length > MAX_WORDS) return problem(`that is ${list.length} words; this command takes a few at most`);
  return ok(list);
}

/**
 * A channel id as the warehouse keeps it: the bare id. Bot API chat ids of
 * channels (`-100` + id) are accepted too, since that is what people copy
 * from other bots. Null when the word is not a channel id.
 */
export function parseChannelId(word: string): string | null {
  const botApi = /^-100([0-9]{1,17})$/.exec(word);
  if (botApi) return botApi[1];
  return /^[0-9]{1,20}$/.test(word) ? word : null;
}

/** `30d` → 30; null when the word is not a period. */
export function parseDays(word: string): number | null {
  const m = /^([0-9]{1,6})d$/i.exec(word);
  return m ? Number(m[1]) : null;
}

/** What the channel commands take: `[channel] [period] [option]`, in any order. */
export interface ChannelArgs {
  channel: string | null;
  days: number | null;
  /** A command's own word (a metric, a severity, …), as its rule normalised it. */
  option: string | null;
}

/** How one command reads `[channel] [period] [option]`. */
export interface ChannelArgsRules {
  /** Longest period, in days. */
  maxDays: number;
  /** The command's option a word stands for (normalised), or null when it is none; absent = the command has no option. */
  option?: (word: string) => string | null;
}

/**
 * Reads `[channel] [period] [option]`. Each is recognisable by its shape, so
 * the order does not matter; each may appear once.
 *
 * @example
 * parseChannelArgs(['30d', '1001234567'], { maxDays: 400 }) // ok: { channel: '1001234567', days: 30, option: null }
 */
export function parseChannelArgs(list: readonly string[], rules: ChannelArgsRules): Parsed<ChannelArgs> {
  const args: ChannelArgs = { channel: null, days: null, option: null };
  for (const word of list) {
    const channel = parseChannelId(word);
    const days = parseDays(word);
    const option = rules.option?.(word) ?? null;
    if (channel !== null) {
      if (args.channel !== null)
        return problem(`two channels given (${args.channel} and ${channel}): ask about one at a time`);
      args.channel = channel;
    } else if (days !== null) {
      if (args.days !== null) return problem(`two periods given (${args.days}d and ${days}d)`);
      if (days < 1 || days > rules.maxDays)
        return problem(`a period spans 1 to ${rules.maxDays} days (the API's limit too), not ${days}`);
      args.days = days;
    } else if (option !== null) {
      if (args.option !== null) return problem(`${quote(args.option)} and ${quote(option)}: give one of them`);
      args.option = option;
    } else if (word.startsWith('@')) {
      return problem(`I know channels by their id, not by username (${quote(word)}): /channels lists the ids`);
    } else {
      return problem(`I don't understand ${quote(word)}`);
    }
  }
  return ok(args);
}

/** A post of a channel. */
export interface PostRef {
  channelId: string;
  postId: number;
}

const MAX_POST_ID = 2_147_483_647;
const HOST = String.raw`(?:https?:\/\/)?(?:www\.)?(?:t|telegram)\.me\/`;
const PRIVATE_LINK = new RegExp(`^${HOST}c\\/([0-9]{1,20})\\/([0-9]{1,10})\\/?(?:[?#].*)?$`, 'i');
const PUBLIC_LINK = new RegExp(`^${HOST}[A-Za-z][A-Za-z0-9_]{3,31}\\/[0-9]{1,10}\\/?(?:[?#].*)?$`, 'i');
const SHORT_REF = /^(-?[0-9]{1,20})\/([0-9]{1,10})$/;

/**
 * A post from a `t.me/c/<channel id>/<post>` link or `<channel>/<post>`.
 * Public `t.me/<username>/<post>` links are refused with a reason: the
 * warehouse knows channels by id and there is no username registry to map them.
 */
export function parsePostRef(word: string): Parsed<PostRef> {
  const m = PRIVATE_LINK.exec(word) ?? SHORT_REF.exec(word);
  if (m) {
    const channelId = parseChannelId(m[1]);
    const postId = Number(m[2]);
    if (channelId === null) return problem(`${quote(m[1])} is not a channel id`);
    if (postId < 1 || postId > MAX_POST_ID) return problem(`${quote(m[2])} is not a post number`);
    return ok({ channelId, postId });
  }
  if (PUBLIC_LINK.test(word)) {
    return problem('I only understand t.me/c/<channel id>/<post> links: I know channels by id, not by username');
  }
  return problem(`${quote(word)} is not a post link`);
}
