/**
 * From what a person types to a channel the collectors can read: `@name`,
 * `name`, a t.me link (`https://t.me/name`, `t.me/name/123`,
 * `t.me/c/123456/7`), or a bare id. Usernames resolve through
 * contacts.resolveUsername; ids only through the account's dialogs (an id
 * alone carries no access hash, so the account must be a member). The
 * channel's full info then gives the facts the registry keeps.
 */
import bigInt from 'big-integer';
import { Api } from 'telegram';
import type { ChannelFacts } from '../../control/index.ts';
import type { AccountSession } from './account.ts';
import { channelFacts } from './parse.ts';
import { MtprotoCallError } from './rpc-errors.ts';

/** What a reference names. */
export type ChannelRef = { kind: 'username'; username: string } | { kind: 'id'; channelId: string };

/** Why a reference did not resolve to a readable channel. */
export type ResolveProblem = 'malformed' | 'unknown_username' | 'not_a_channel' | 'private' | 'not_a_member' | 'gone';

/** A reference that does not lead to a channel the account can read; the message says what to do. */
export class ChannelResolveError extends Error {
  override readonly name = 'ChannelResolveError';
  constructor(
    readonly ref: string,
    readonly problem: ResolveProblem,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const USERNAME = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;
const CHANNEL_ID = /^[1-9][0-9]{0,18}$/;
const TME_HOST = /^(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)$/i;
/** Dialog pages read at most while looking for an id (100 dialogs each). */
const MAX_DIALOG_PAGES = 50;
const DIALOG_PAGE = 100;

/**
 * Reads a channel reference. Bot API ids (`-100…`) give the bare id.
 *
 * @example
 * parseChannelRef('https://t.me/durov/42') // { kind: 'username', username: 'durov' }
 * parseChannelRef('t.me/c/1234567/8') // { kind: 'id', channelId: '1234567' }
 * @throws ChannelResolveError (`malformed`) naming the accepted forms.
 */
export function parseChannelRef(ref: string): ChannelRef {
  const text = ref.trim();
  const bad = (why: string) =>
    new ChannelResolveError(
      ref,
      'malformed',
      `${JSON.stringify(ref)} is not a channel reference (${why}): use @name, name, https://t.me/name, t.me/c/ID/POST or a channel id`,
    );
  if (text === '') throw bad('it is empty');
  const botApi = /^-100([1-9][0-9]{0,18})$/.exec(text);
  if (botApi) return { kind: 'id', channelId: botApi[1] };
  if (CHANNEL_ID.test(text)) return { kind: 'id', channelId: text };
  if (text.startsWith('@')) {
    if (!USERNAME.test(text.slice(1)))
      throw bad('a username has 4 to 32 letters, digits and _ and starts with a letter');
    return { kind: 'username', username: text.slice(1) };
  }
  if (USERNAME.test(text)) return { kind: 'username', username: text };
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw bad('not a username, id or link');
  }
  if (!TME_HOST.test(url.hostname)) throw bad('not a t.me link');
  const parts = url.pathname.split('/').filter((p) => p !== '');
  if (parts[0] === 's') parts.shift(); // t.me/s/name is the web preview of the same channel
  if (parts[0] === 'c') {
    if (parts[1] === undefined || !CHANNEL_ID.test(parts[1])) throw bad('t.me/c/ links carry the channel id after /c/');
    return { kind: 'id', channelId: parts[1] };
  }
  if (parts[0] === 'joinchat' || parts[0]?.startsWith('+')) {
    throw new ChannelResolveError(
      ref,
      'malformed',
      `${JSON.stringify(ref)} is an invite link: join the channel with the account in Telegram, then add it by its id or t.me/c/ link`,
    );
  }
  if (parts[0] === undefined || !USERNAME.test(parts[0])) throw bad('the link carries no username');
  return { kind: 'username', username: parts[0] };
}

/**
 * Resolves a reference through `account` to the facts the registry keeps.
 *
 * @example
 * const facts = await resolveChannel(account, 'https://t.me/durov');
 * await upsertChannel(pool, facts, { actor: 'cli' });
 * @throws ChannelResolveError when it is malformed, unknown, not a channel, private, or (by id) not among the account's dialogs.
 */
export async function resolveChannel(account: AccountSession, ref: string): Promise<ChannelFacts> {
  const parsed = parseChannelRef(ref);
  const channel =
    parsed.kind === 'username'
      ? await byUsername(account, ref, parsed.username)
      : await byDialogs(account, ref, parsed.channelId);
  const channelId = channel.id.toString();
  const accessHash = channel.accessHash?.toString();
  if (accessHash === undefined)
    throw new ChannelResolveError(
      ref,
      'private',
      `${describe(ref)} came without an access hash: the account cannot read it`,
    );
  let full: Api.messages.ChatFull;
  try {
    full = await account.call(
      new Api.channels.GetFullChannel({
        channel: new Api.InputChannel({ channelId: bigInt(channelId), accessHash: bigInt(accessHash) }),
      }),
    );
  } catch (err) {
    throw classified(ref, err);
  }
  const facts = channelFacts(full, channelId);
  return {
    channelId,
    accessHash,
    username: facts.username ?? channel.username ?? null,
    title: facts.title ?? channel.title,
    canViewStats: facts.canViewStats,
    statsDc: facts.statsDc,
    members: facts.members ?? channel.participantsCount ?? null,
  };
}

function describe(ref: string): string {
  return JSON.stringify(ref.trim());
}

/** A failed call as the resolve error it means, or the call error itself when it means none (network, flood). */
function classified(ref: string, err: unknown): Error {
  if (!(err instanceof MtprotoCallError)) return err as Error;
  const reason = err.failure.message;
  if (err.failure.kind === 'channel_gone') {
    if (reason === 'USERNAME_NOT_OCCUPIED' || reason === 'USERNAME_INVALID') {
      return new ChannelResolveError(
        ref,
        'unknown_username',
        `no Telegram channel, group or user has the username in ${describe(ref)} (${reason}); check the spelling`,
        { cause: err },
      );
    }
    if (reason === 'CHANNEL_PRIVATE' || reason === 'CHAT_FORBIDDEN' || reason === 'CHANNEL_BANNED') {
      return new ChannelResolveError(
        ref,
        'private',
        `${describe(ref)} is private or the account was banned from it (${reason}): join it with the account in Telegram first`,
        { cause: err },
      );
    }
    return new ChannelResolveError(
      ref,
      'gone',
      `${describe(ref)} cannot be read (${reason}): it may have been deleted`,
      { cause: err },
    );
  }
  if (err.failure.kind === 'flood')
    return new Error(
      `Telegram asks the account to wait ${err.failure.seconds} s (FLOOD_WAIT) before resolving ${describe(ref)}; try again later`,
      { cause: err },
    );
  return err;
}

/** A chat of an answer as a broadcast channel; throws the error saying what it is instead. */
function asBroadcast(ref: string, chat: Api.TypeChat | undefined): Api.Channel {
  if (chat instanceof Api.Channel && chat.broadcast) return chat;
  if (chat instanceof Api.ChannelForbidden) {
    throw new ChannelResolveError(
      ref,
      'private',
      `${describe(ref)} is private or the account was banned from it: join it with the account in Telegram first`,
    );
  }
  if (chat instanceof Api.Channel || chat instanceof Api.Chat || chat instanceof Api.ChatForbidden) {
    throw new ChannelResolveError(
      ref,
      'not_a_channel',
      `${describe(ref)} is a group, not a channel: tgpulse collects broadcast channels`,
    );
  }
  throw new ChannelResolveError(ref, 'gone', `Telegram's answer for ${describe(ref)} did not include the channel`);
}

async function byUsername(account: AccountSession, ref: string, username: string): Promise<Api.Channel> {
  let resolved: Api.contacts.ResolvedPeer;
  try {
    resolved = await account.call(new Api.contacts.ResolveUsername({ username }));
  } catch (err) {
    throw classified(ref, err);
  }
  const peer = resolved.peer;
  if (peer instanceof Api.PeerUser) {
    const user = resolved.users.find((u) => u.id.equals(peer.userId));
    const what = user instanceof Api.User && user.bot ? 'a bot' : 'a user';
    throw new ChannelResolveError(ref, 'not_a_channel', `@${username} is ${what}, not a channel`);
  }
  if (peer instanceof Api.PeerChat)
    throw new ChannelResolveError(
      ref,
      'not_a_channel',
      `@${username} is a group, not a channel: tgpulse collects broadcast channels`,
    );
  const chat = resolved.chats.find((c) => 'id' in c && c.id.equals(peer.channelId));
  return asBroadcast(ref, chat);
}

/** Pages through the account's dialogs until the channel shows up. */
async function byDialogs(account: AccountSession, ref: string, channelId: string): Promise<Api.Channel> {
  let offsetDate = 0;
  let offsetId = 0;
  let offsetPeer: Api.TypeInputPeer = new Api.InputPeerEmpty();
  for (let page = 0; page < MAX_DIALOG_PAGES; page++) {
    let answer: Api.messages.TypeDialogs;
    try {
      answer = await account.call(
        new Api.messages.GetDialogs({ offsetDate, offsetId, offsetPeer, limit: DIALOG_PAGE, hash: bigInt(0) }),
      );
    } catch (err) {
      throw classified(ref, err);
    }
    if (answer instanceof Api.messages.DialogsNotModified) break;
    const chat = answer.chats.find((c) => 'id' in c && c.id.toString() === channelId);
    if (chat) return asBroadcast(ref, chat);
    // A full list, or a short page: there is nothing more.
    if (answer instanceof Api.messages.Dialogs || answer.dialogs.length < DIALOG_PAGE) break;
    const next = nextDialogOffset(answer);
    if (next === null) break;
    ({ offsetDate, offsetId, offsetPeer } = next);
  }
  throw new ChannelResolveError(
    ref,
    'not_a_member',
    `channel ${channelId} is not among the dialogs of account ${account.accountId}: the account must be a member to find a channel by id (join it in Telegram), or add it by @username or t.me link`,
  );
}

/** The offsets of the page after `answer`: the last dialog's top message and peer. */
function nextDialogOffset(
  answer: Api.messages.DialogsSlice,
): { offsetDate: number; offsetId: number; offsetPeer: Api.TypeInputPeer } | null {
  const last = [...answer.dialogs].reverse().find((d): d is Api.Dialog => d instanceof Api.Dialog);
  if (!last) return null;
  const peer = last.peer;
  const top = answer.messages.find((m) => 'id' in m && m.id === last.topMessage && samePeer(m.peerId, peer));
  const offsetDate = top && 'date' in top && typeof top.date === 'number' ? top.date : 0;
  let offsetPeer: Api.TypeInputPeer | null = null;
  if (peer instanceof Api.PeerChannel) {
    const c = answer.chats.find((x): x is Api.Channel => x instanceof Api.Channel && x.id.equals(peer.channelId));
    if (c?.accessHash) offsetPeer = new Api.InputPeerChannel({ channelId: c.id, accessHash: c.accessHash });
  } else if (peer instanceof Api.PeerUser) {
    const u = answer.users.find((x): x is Api.User => x instanceof Api.User && x.id.equals(peer.userId));
    if (u?.accessHash) offsetPeer = new Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash });
  } else if (peer instanceof Api.PeerChat) {
    offsetPeer = new Api.InputPeerChat({ chatId: peer.chatId });
  }
  return offsetPeer === null ? null : { offsetDate, offsetId: last.topMessage, offsetPeer };
}

function samePeer(a: Api.TypePeer | undefined, b: Api.TypePeer): boolean {
  if (a instanceof Api.PeerChannel && b instanceof Api.PeerChannel) return a.channelId.equals(b.channelId);
  if (a instanceof Api.PeerUser && b instanceof Api.PeerUser) return a.userId.equals(b.userId);
  if (a instanceof Api.PeerChat && b instanceof Api.PeerChat) return a.chatId.equals(b.chatId);
  return false;
}
