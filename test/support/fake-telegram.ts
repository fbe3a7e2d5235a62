/**
 * A fake Telegram for the MTProto collectors, at the lowest layer gramjs
 * exposes without a server: the MTProto *sender*.
 *
 * A real `TelegramClient` runs on top of it, so gramjs's own `invoke` does the
 * work it does in production: it serialises every request (a malformed
 * request throws here as it would on the wire), routes a `dcId` to another
 * DC's sender, turns `RpcError`s into gramjs's error classes
 * (`FloodWaitError`…) and feeds entities to the session cache. Answers are
 * real `Api.*` objects, serialised and read back through gramjs's
 * BinaryReader, so the collectors see exactly what a wire answer would give.
 *
 * The world it answers from is a set of channels with posts, counters,
 * members, a pts sequence and official statistics graphs; tests change it and
 * push updates, or script failures (`FLOOD_WAIT_30`, `CHANNEL_PRIVATE`,
 * `STATS_MIGRATE_4`, a dropped connection) for the next requests of a class.
 */
import bigInt from 'big-integer';
import { Api, type TelegramClient } from 'telegram';
import { StringSession } from 'telegram/sessions/index.js';
import { AuthKey } from 'telegram/crypto/AuthKey.js';
import { randomBytes } from 'node:crypto';
import { BinaryReader, Logger } from 'telegram/extensions/index.js';
import { LogLevel } from 'telegram/extensions/Logger.js';
import { RPCMessageToError } from 'telegram/errors/index.js';
import { _handleUpdate } from 'telegram/client/updates.js';

/** What a scripted request meets instead of its answer. */
export type FakeFailure =
  /** An RPC error by Telegram's message, e.g. `FLOOD_WAIT_30`, `CHANNEL_PRIVATE`. */
  | { rpc: string; code?: number }
  /** The connection dropped and gramjs gave up reconnecting. */
  | { drop: true };

/** One request as the fake received it. */
export interface FakeRequest {
  className: string;
  dcId: number;
  account: string;
  request: Api.AnyRequest;
}

export interface FakePostInit {
  id?: number;
  /** Unix seconds. */
  date: number;
  text?: string;
  views?: number;
  forwards?: number;
  replies?: number;
  reactions?: Record<string, number>;
  entities?: Api.TypeMessageEntity[];
  media?: Api.TypeMessageMedia;
  fwdFrom?: Api.MessageFwdHeader;
}

/** Counters of a post. */
export interface FakeCounters {
  views?: number;
  forwards?: number;
  replies?: number;
  reactions?: Record<string, number>;
}

export interface FakeChannelInit {
  id: string;
  title?: string;
  username?: string;
  members?: number;
  canViewStats?: boolean;
  statsDc?: number;
  /** A supergroup rather than a broadcast channel. */
  megagroup?: boolean;
  /** Whether the accounts are members (it is among their dialogs); default true. */
  member?: boolean;
}

/** A user of the fake world, found by username (what a channel reference may name by mistake). */
export interface FakeUser {
  id: string;
  username: string;
  bot?: boolean;
}

/** A channel of the fake world. Fields are public so tests can reshape it. */
export class FakeChannel {
  readonly id: string;
  readonly accessHash: string;
  title: string;
  username: string | undefined;
  members: number;
  canViewStats: boolean;
  statsDc: number;
  /** What getFullChannel says the stats DC is, when that is stale (default: `statsDc`). */
  advertisedStatsDc: number | undefined = undefined;
  megagroup: boolean;
  /** Every account is a member (as for channels among their dialogs). */
  member: boolean;
  /** Accounts that joined through channels.joinChannel. */
  readonly joinedBy = new Set<string>();
  /** getChannelDifference from a pts below this answers ChannelDifferenceTooLong (Telegram's "too far behind"). */
  differenceHorizon = 0;
  /** Not readable any more: requests about it fail with this RPC error. */
  unavailable: string | null = null;
  pts = 1;
  readonly posts = new Map<number, Api.Message>();
  /** Changes by pts, for getChannelDifference. */
  readonly changes: Array<{ pts: number; ptsCount: number; update: Api.TypeUpdate; message?: Api.Message }> = [];
  /** Official statistics: graphs by BroadcastStats field; an Api.StatsGraphAsync token maps to its loaded graph. */
  readonly graphs = new Map<string, Api.TypeStatsGraph>();
  readonly asyncGraphs = new Map<string, Api.TypeStatsGraph>();
  /** Public forwards of a post: how many channels forwarded it. */
  readonly publicForwards = new Map<number, number>();
  #nextId = 1;

  constructor(init: FakeChannelInit) {
    this.id = init.id;
    this.accessHash = String(BigInt(init.id) * 7919n + 17n);
    this.title = init.title ?? `Channel ${init.id}`;
    this.username = init.username;
    this.members = init.members ?? 1000;
    this.canViewStats = init.canViewStats ?? false;
    this.statsDc = init.statsDc ?? 2;
    this.megagroup = init.megagroup ?? false;
    this.member = init.member ?? true;
  }

  peer(): Api.PeerChannel {
    return new Api.PeerChannel({ channelId: bigInt(this.id) });
  }

  /** Whether `account` is a member: Telegram pushes the channel's updates to it, and its `left` flag is off. */
  isMember(account: string): boolean {
    return this.member || this.joinedBy.has(account);
  }

  /** The channel as Telegram shows it, to `account` when given (its `left` flag). */
  entity(account?: string): Api.Channel {
    return new Api.Channel({
      left: account === undefined ? undefined : !this.isMember(account),
      id: bigInt(this.id),
      accessHash: bigInt(this.accessHash),
      title: this.title,
      username: this.username,
      photo: new Api.ChatPhotoEmpty(),
      date: 1_600_000_000,
      broadcast: !this.megagroup,
      megagroup: this.megagroup,
      participantsCount: this.members,
    });
  }

  /** Adds a post (a new pts); returns it. Not pushed: see {@link FakeTelegram.push}. */
  addPost(init: FakePostInit): Api.Message {
    const id = init.id ?? this.#nextId;
    this.#nextId = Math.max(this.#nextId, id + 1);
    const msg = this.#message(id, init);
    this.posts.set(id, msg);
    this.pts += 1;
    this.changes.push({
      pts: this.pts,
      ptsCount: 1,
      update: new Api.UpdateNewChannelMessage({ message: msg, pts: this.pts, ptsCount: 1 }),
      message: msg,
    });
    return msg;
  }

  /** Sets a post's counters (what channels.getMessages will answer). */
  setCounters(id: number, c: FakeCounters): void {
    const old = this.posts.get(id);
    if (!old) throw new Error(`fake channel ${this.id} has no post ${id}`);
    this.posts.set(id, this.withCounters(old, c));
  }

  /** The message with other counters (the stored post is not changed). */
  withCounters(old: Api.Message, c: FakeCounters): Api.Message {
    const id = old.id;
    return this.#message(id, {
      date: old.date,
      text: old.message,
      views: c.views ?? old.views,
      forwards: c.forwards ?? old.forwards,
      replies: c.replies ?? old.replies?.replies,
      reactions: c.reactions ?? reactionsOf(old),
      entities: old.entities,
      media: old.media,
      fwdFrom: old.fwdFrom,
      editDate: old.editDate,
    });
  }

  /** Edits a post's text (a new pts). */
  editPost(id: number, text: string, editDate: number): Api.Message {
    const old = this.posts.get(id);
    if (!old) throw new Error(`fake channel ${this.id} has no post ${id}`);
    const msg = this.#message(id, {
      date: old.date,
      text,
      views: old.views,
      forwards: old.forwards,
      reactions: reactionsOf(old),
      editDate,
    });
    this.posts.set(id, msg);
    this.pts += 1;
    this.changes.push({
      pts: this.pts,
      ptsCount: 1,
      update: new Api.UpdateEditChannelMessage({ message: msg, pts: this.pts, ptsCount: 1 }),
      message: msg,
    });
    return msg;
  }

  /** Deletes posts (one pts per post). */
  deletePosts(ids: number[]): Api.UpdateDeleteChannelMessages {
    for (const id of ids) this.posts.delete(id);
    this.pts += ids.length;
    const update = new Api.UpdateDeleteChannelMessages({
      channelId: bigInt(this.id),
      messages: ids,
      pts: this.pts,
      ptsCount: ids.length,
    });
    this.changes.push({ pts: this.pts, ptsCount: ids.length, update });
    return update;
  }

  #message(id: number, init: FakePostInit & { editDate?: number }): Api.Message {
    const reactions =
      init.reactions && Object.keys(init.reactions).length
        ? new Api.MessageReactions({
            results: Object.entries(init.reactions).map(
              ([emoji, count]) =>
                new Api.ReactionCount({
                  reaction: emoji.startsWith('custom:')
                    ? new Api.ReactionCustomEmoji({ documentId: bigInt(emoji.slice(7)) })
                    : new Api.ReactionEmoji({ emoticon: emoji }),
                  count,
                }),
            ),
          })
        : undefined;
    return new Api.Message({
      id,
      peerId: this.peer(),
      date: init.date,
      message: init.text ?? '',
      entities: init.entities,
      media: init.media,
      fwdFrom: init.fwdFrom,
      views: init.views ?? 0,
      forwards: init.forwards ?? 0,
      replies:
        init.replies === undefined ? undefined : new Api.MessageReplies({ replies: init.replies, repliesPts: 0 }),
      reactions,
      editDate: init.editDate,
      post: true,
    });
  }
}

function reactionsOf(msg: Api.Message): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of msg.reactions?.results ?? []) {
    if (r.reaction instanceof Api.ReactionEmoji) out[r.reaction.emoticon] = r.count;
    else if (r.reaction instanceof Api.ReactionCustomEmoji) out[`custom:${r.reaction.documentId.toString()}`] = r.count;
  }
  return out;
}

/** Serialises a TL object and reads it back, as if it came over the wire. */
function overTheWire<T>(obj: T): T {
  const bytes = (obj as unknown as { getBytes(): Buffer }).getBytes();
  return new BinaryReader(bytes).tgReadObject() as T;
}

/** The subset of gramjs's RequestState the sender contract uses. */
interface SenderState {
  request: Api.AnyRequest;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/**
 * Stands in for gramjs's MTProtoSender: `invoke` queues a RequestState on it
 * and awaits the state's promise, which this answers from the world.
 */
class FakeSender {
  userDisconnected = false;
  isConnecting = false;
  readonly _pendingState = { values: () => [] as unknown[] };
  constructor(
    private readonly world: FakeTelegram,
    private readonly dcId: number,
    private readonly account: string,
  ) {}
  isConnected(): boolean {
    return true;
  }
  addStateToQueue(state: SenderState): void {
    // Answer on a later turn, as a network round trip would.
    setImmediate(() => this.world.answer(state, this.dcId, this.account));
  }
  async disconnect(): Promise<void> {
    this.userDisconnected = true;
  }
}

/** Shape of the TelegramClient internals the fake plugs into (stable across gramjs 2.x). */
interface ClientInternals {
  _sender: unknown;
  _exportedSenderPromises: Map<number, Promise<unknown>>;
  _exportedSenderReleaseTimeouts: Map<number, ReturnType<typeof setTimeout>>;
  _connectedDeferred: { resolve(): void };
  _destroyed: boolean;
}

export interface AttachOptions {
  /** Account label in the request log. */
  account: string;
  /** The account's home DC (default 2). */
  dcId?: number;
  /** Telegram user id of the account. */
  userId?: number;
}

/**
 * The fake Telegram: channels, scripted failures, a log of every request.
 *
 * ```ts
 * const tg = new FakeTelegram();
 * const ch = tg.addChannel({ id: '1001', username: 'news', canViewStats: true, statsDc: 4 });
 * ch.addPost({ date: 1_700_000_000, text: 'hello', views: 10 });
 * const client = tg.client({ account: 'a1' });
 * ```
 */
export class FakeTelegram {
  readonly channels = new Map<string, FakeChannel>();
  readonly users: FakeUser[] = [];
  readonly requests: FakeRequest[] = [];
  readonly #failures = new Map<string, FakeFailure[]>();
  readonly #clients = new Map<string, TelegramClient>();
  /** Unix seconds the fake's `date` fields use; tests move it. */
  now = 1_700_000_000;
  /** Channels an account may be a member of: channels.joinChannel past it answers CHANNELS_TOO_MUCH. */
  joinCap = 500;
  /**
   * A post's counters as they are at `nowSec`, when they change with time
   * (the request bench's view curves); channels.getMessages answers with them.
   */
  countersAt: ((channelId: string, msg: Api.Message, nowSec: number) => FakeCounters) | null = null;

  addChannel(init: FakeChannelInit): FakeChannel {
    const ch = new FakeChannel(init);
    this.channels.set(ch.id, ch);
    return ch;
  }

  channel(id: string): FakeChannel {
    const ch = this.channels.get(id);
    if (!ch) throw new Error(`fake Telegram has no channel ${id}`);
    return ch;
  }

  /**
   * Makes `account`'s session unauthorized until it signs in with `code`
   * through auth.sendCode / auth.signIn, as `tgpulse login` does.
   */
  requireLogin(account: string, code: string): void {
    this.#logins.set(account, { code, signedIn: false });
  }
  readonly #logins = new Map<string, { code: string; signedIn: boolean }>();

  /** The next `times` requests of `className` (e.g. `stats.GetBroadcastStats`) fail with `failure`. */
  failNext(className: string, failure: FakeFailure, times = 1): void {
    const queue = this.#failures.get(className) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.#failures.set(className, queue);
  }

  /** Requests received, by class name. */
  count(className?: string): number {
    return className === undefined
      ? this.requests.length
      : this.requests.filter((r) => r.className === className).length;
  }

  /**
   * A real TelegramClient wired to this fake instead of a connection:
   * its main sender and every exported DC sender are fake senders.
   */
  async client(opts: AttachOptions, make?: (session: StringSession) => TelegramClient): Promise<TelegramClient> {
    const { TelegramClient } = await import('telegram');
    const session = new StringSession('');
    const client = make
      ? make(session)
      : new TelegramClient(session, 12345, '0123456789abcdef0123456789abcdef', {
          floodSleepThreshold: 0,
          connectionRetries: 1,
          baseLogger: quietLogger(),
        });
    this.attach(client, opts);
    return client;
  }

  /** Wires an existing client to this fake. */
  attach(client: TelegramClient, opts: AttachOptions): void {
    const home = opts.dcId ?? 2;
    client.session.setDC(home, '127.0.0.1', 443);
    const internals = client as unknown as ClientInternals;
    internals._sender = new FakeSender(this, home, opts.account);
    for (const dc of [1, 2, 3, 4, 5]) {
      internals._exportedSenderPromises.set(dc, Promise.resolve(new FakeSender(this, dc, opts.account)));
    }
    internals._connectedDeferred.resolve();
    this.#clients.set(opts.account, client);
    this.#userIds.set(opts.account, opts.userId ?? 500 + this.#clients.size);
  }
  readonly #userIds = new Map<string, number>();

  /** Stops a client without touching the network (the fake has none). */
  static async close(client: TelegramClient): Promise<void> {
    const internals = client as unknown as ClientInternals;
    for (const t of internals._exportedSenderReleaseTimeouts.values()) clearTimeout(t);
    internals._exportedSenderReleaseTimeouts.clear();
    internals._destroyed = true;
  }

  /**
   * Pushes an update to an account's client through gramjs's own update
   * path (the one the real sender's update callback takes).
   */
  push(account: string, update: Api.TypeUpdate | Api.TypeUpdates): void {
    const client = this.#clients.get(account);
    if (!client) throw new Error(`no fake client for account ${account}`);
    const wire = overTheWire(
      update instanceof Api.Updates || update instanceof Api.UpdateShort
        ? update
        : new Api.Updates({
            updates: [update as Api.TypeUpdate],
            users: [],
            chats: [...this.channels.values()].map((c) => c.entity()),
            date: this.now,
            seq: 0,
          }),
    );
    _handleUpdate(client, wire as unknown as Api.TypeUpdate);
  }

  /**
   * What channels.getMessages answers for `ids` of `ch`: each post with its
   * current counters (see {@link countersAt}), an empty message for an id
   * without a post.
   */
  messagesOf(ch: FakeChannel, ids: readonly Api.TypeInputMessage[]): Api.messages.ChannelMessages {
    const messages = ids.map((ref) => {
      const id = ref instanceof Api.InputMessageID ? ref.id : 0;
      const m = ch.posts.get(id);
      if (!m) return new Api.MessageEmpty({ id });
      return this.countersAt ? ch.withCounters(m, this.countersAt(ch.id, m, this.now)) : m;
    });
    return new Api.messages.ChannelMessages({
      pts: ch.pts,
      count: messages.length,
      messages,
      topics: [],
      chats: [ch.entity()],
      users: [],
    });
  }

  /** Answers one request; called by the fake senders. */
  answer(state: SenderState, dcId: number, account: string): void {
    const { request } = state;
    this.requests.push({ className: request.className, dcId, account, request });
    const failure = this.#failures.get(request.className)?.shift();
    if (failure) {
      if ('drop' in failure) state.reject('Maximum reconnection retries reached. Aborting!');
      else
        state.reject(
          RPCMessageToError(
            new Api.RpcError({ errorCode: failure.code ?? codeOf(failure.rpc), errorMessage: failure.rpc }),
            request,
          ),
        );
      return;
    }
    try {
      const result = this.#handle(request, dcId, account);
      state.resolve(Array.isArray(result) ? result.map(overTheWire) : overTheWire(result));
    } catch (err) {
      if (err instanceof RpcRefusal)
        state.reject(RPCMessageToError(new Api.RpcError({ errorCode: err.code, errorMessage: err.message }), request));
      else state.reject(err);
    }
  }

  #channelOf(input: unknown): FakeChannel {
    const id =
      input instanceof Api.InputChannel || input instanceof Api.InputPeerChannel ? input.channelId.toString() : null;
    const ch = id === null ? undefined : this.channels.get(id);
    if (!ch) throw new RpcRefusal('CHANNEL_INVALID', 400);
    if (ch.unavailable) throw new RpcRefusal(ch.unavailable, codeOf(ch.unavailable));
    const hash =
      input instanceof Api.InputChannel || input instanceof Api.InputPeerChannel ? input.accessHash.toString() : '';
    if (hash !== ch.accessHash) throw new RpcRefusal('CHANNEL_INVALID', 400);
    return ch;
  }

  #handle(request: Api.AnyRequest, dcId: number, account: string): unknown {
    const chats = () => [...this.channels.values()].filter((c) => !c.unavailable).map((c) => c.entity());
    const login = this.#logins.get(account);
    if (login && !login.signedIn) {
      if (request instanceof Api.auth.SendCode) {
        return new Api.auth.SentCode({
          type: new Api.auth.SentCodeTypeApp({ length: login.code.length }),
          phoneCodeHash: `hash-${request.phoneNumber}`,
        });
      }
      if (request instanceof Api.auth.SignIn) {
        if (request.phoneCodeHash !== `hash-${request.phoneNumber}`) throw new RpcRefusal('PHONE_CODE_HASH_EMPTY', 400);
        if (request.phoneCode !== login.code) throw new RpcRefusal('PHONE_CODE_INVALID', 400);
        login.signedIn = true;
        return new Api.auth.Authorization({
          user: new Api.User({
            id: bigInt(this.#userIds.get(account) ?? 1),
            self: true,
            firstName: account,
            accessHash: bigInt(1),
          }),
        });
      }
      throw new RpcRefusal('AUTH_KEY_UNREGISTERED', 401);
    }
    if (request instanceof Api.users.GetUsers) {
      return [
        new Api.User({
          id: bigInt(this.#userIds.get(account) ?? 1),
          self: true,
          firstName: account,
          accessHash: bigInt(1),
        }),
      ];
    }
    if (request instanceof Api.contacts.ResolveUsername) {
      const user = this.users.find((u) => u.username.toLowerCase() === request.username.toLowerCase());
      if (user) {
        const entity = new Api.User({
          id: bigInt(user.id),
          accessHash: bigInt(7),
          username: user.username,
          firstName: user.username,
          bot: user.bot,
        });
        return new Api.contacts.ResolvedPeer({
          peer: new Api.PeerUser({ userId: bigInt(user.id) }),
          chats: [],
          users: [entity],
        });
      }
      const ch = [...this.channels.values()].find((c) => c.username?.toLowerCase() === request.username.toLowerCase());
      if (!ch) throw new RpcRefusal('USERNAME_NOT_OCCUPIED', 400);
      if (ch.unavailable) throw new RpcRefusal(ch.unavailable, codeOf(ch.unavailable));
      return new Api.contacts.ResolvedPeer({ peer: ch.peer(), chats: [ch.entity()], users: [] });
    }
    if (request instanceof Api.messages.GetDialogs) {
      // Every channel the accounts are members of, in one full list (no paging: the fake world is small).
      const joined = [...this.channels.values()].filter((c) => c.member);
      const tops = joined
        .map((c) => c.posts.get(Math.max(0, ...c.posts.keys())))
        .filter((m): m is Api.Message => m !== undefined);
      return new Api.messages.Dialogs({
        dialogs: joined.map(
          (c) =>
            new Api.Dialog({
              peer: c.peer(),
              topMessage: Math.max(0, ...c.posts.keys()),
              readInboxMaxId: 0,
              readOutboxMaxId: 0,
              unreadCount: 0,
              unreadMentionsCount: 0,
              unreadReactionsCount: 0,
              notifySettings: new Api.PeerNotifySettings({}),
              pts: c.pts,
            }),
        ),
        messages: tops,
        chats: joined.map((c) =>
          c.unavailable
            ? new Api.ChannelForbidden({
                id: bigInt(c.id),
                accessHash: bigInt(c.accessHash),
                title: c.title,
                broadcast: !c.megagroup,
              })
            : c.entity(),
        ),
        users: [],
      });
    }
    if (request instanceof Api.channels.GetChannels) {
      return new Api.messages.Chats({ chats: request.id.map((c) => this.#channelOf(c).entity()) });
    }
    if (request instanceof Api.channels.GetFullChannel) {
      const ch = this.#channelOf(request.channel);
      return new Api.messages.ChatFull({
        fullChat: new Api.ChannelFull({
          id: bigInt(ch.id),
          about: '',
          participantsCount: ch.members,
          readInboxMaxId: 0,
          readOutboxMaxId: 0,
          unreadCount: 0,
          chatPhoto: new Api.PhotoEmpty({ id: bigInt(0) }),
          notifySettings: new Api.PeerNotifySettings({}),
          botInfo: [],
          pts: ch.pts,
          canViewStats: ch.canViewStats,
          statsDc: ch.canViewStats ? (ch.advertisedStatsDc ?? ch.statsDc) : undefined,
        } as ConstructorParameters<typeof Api.ChannelFull>[0]),
        chats: [ch.entity(account)],
        users: [],
      });
    }
    if (request instanceof Api.channels.GetMessages) {
      if (request.id.length > 100) throw new RpcRefusal('LIMIT_INVALID', 400);
      return this.messagesOf(this.#channelOf(request.channel), request.id);
    }
    if (request instanceof Api.channels.JoinChannel) {
      const ch = this.#channelOf(request.channel);
      if (!ch.isMember(account)) {
        const joined = [...this.channels.values()].filter((c) => c.isMember(account)).length;
        if (joined >= this.joinCap) throw new RpcRefusal('CHANNELS_TOO_MUCH', 400);
        ch.joinedBy.add(account);
      }
      return new Api.Updates({ updates: [], users: [], chats: [ch.entity(account)], date: this.now, seq: 0 });
    }
    if (request instanceof Api.messages.GetHistory) {
      const ch = this.#channelOf(request.peer);
      // Newest first, strictly below offsetId (0 = from the newest), at most `limit`.
      const ids = [...ch.posts.keys()]
        .sort((a, b) => b - a)
        .filter(
          (id) =>
            (request.offsetId ? id < request.offsetId : true) &&
            (!request.offsetDate || ch.posts.get(id)!.date < request.offsetDate) &&
            id > (request.minId ?? 0),
        );
      const page = ids.slice(request.addOffset ?? 0, (request.addOffset ?? 0) + Math.min(request.limit ?? 100, 100));
      return new Api.messages.ChannelMessages({
        pts: ch.pts,
        count: ch.posts.size,
        messages: page.map((id) => ch.posts.get(id)!),
        topics: [],
        chats: [ch.entity()],
        users: [],
      });
    }
    if (request instanceof Api.updates.GetState) {
      return new Api.updates.State({ pts: 1, qts: 0, date: this.now, seq: 1, unreadCount: 0 });
    }
    if (request instanceof Api.updates.GetChannelDifference) {
      const ch = this.#channelOf(request.channel);
      const limit = request.limit ?? 100;
      if (request.pts < ch.differenceHorizon) {
        const newest = [...ch.posts.values()].sort((a, b) => b.id - a.id).slice(0, limit);
        return new Api.updates.ChannelDifferenceTooLong({
          final: true,
          dialog: new Api.Dialog({
            peer: ch.peer(),
            topMessage: newest[0]?.id ?? 0,
            readInboxMaxId: 0,
            readOutboxMaxId: 0,
            unreadCount: 0,
            unreadMentionsCount: 0,
            unreadReactionsCount: 0,
            notifySettings: new Api.PeerNotifySettings({}),
            pts: ch.pts,
          }),
          messages: newest,
          chats: chats(),
          users: [],
        });
      }
      const after = ch.changes.filter((c) => c.pts > request.pts);
      if (after.length === 0) return new Api.updates.ChannelDifferenceEmpty({ pts: ch.pts, final: true });
      const page = after.slice(0, limit);
      const last = page[page.length - 1].pts;
      return new Api.updates.ChannelDifference({
        pts: last,
        final: page.length === after.length,
        newMessages: page.filter((c) => c.update instanceof Api.UpdateNewChannelMessage).map((c) => c.message!),
        otherUpdates: page.filter((c) => !(c.update instanceof Api.UpdateNewChannelMessage)).map((c) => c.update),
        chats: chats(),
        users: [],
      });
    }
    if (request instanceof Api.stats.GetBroadcastStats) {
      const ch = this.#channelOf(request.channel);
      if (!ch.canViewStats) throw new RpcRefusal('CHAT_ADMIN_REQUIRED', 400);
      if (dcId !== ch.statsDc) throw new RpcRefusal(`STATS_MIGRATE_${ch.statsDc}`, 303);
      return broadcastStats(ch);
    }
    if (request instanceof Api.stats.LoadAsyncGraph) {
      const owner = [...this.channels.values()].find((c) => c.asyncGraphs.has(request.token));
      if (!owner) throw new RpcRefusal('GRAPH_INVALID_RELOAD', 400);
      if (dcId !== owner.statsDc) throw new RpcRefusal(`STATS_MIGRATE_${owner.statsDc}`, 303);
      return owner.asyncGraphs.get(request.token)!;
    }
    if (request instanceof Api.stats.GetMessageStats) {
      const ch = this.#channelOf(request.channel);
      if (dcId !== ch.statsDc) throw new RpcRefusal(`STATS_MIGRATE_${ch.statsDc}`, 303);
      const views = ch.posts.get(Number(request.msgId))?.views ?? 0;
      return new Api.stats.MessageStats({
        viewsGraph: new Api.StatsGraph({
          json: new Api.DataJSON({
            data: JSON.stringify({
              columns: [
                ['x', this.now * 1000],
                ['y0', views],
              ],
              types: { x: 'x', y0: 'line' },
              names: { y0: 'Views' },
            }),
          }),
        }),
        reactionsByEmotionGraph: new Api.StatsGraphError({ error: 'Not enough data to display.' }),
      });
    }
    if (request instanceof Api.stats.GetMessagePublicForwards) {
      const ch = this.#channelOf(request.channel);
      if (dcId !== ch.statsDc) throw new RpcRefusal(`STATS_MIGRATE_${ch.statsDc}`, 303);
      return new Api.stats.PublicForwards({
        count: ch.publicForwards.get(Number(request.msgId)) ?? 0,
        forwards: [],
        chats: [],
        users: [],
      });
    }
    throw new RpcRefusal('METHOD_NOT_FAKED', 400, `the fake Telegram does not answer ${request.className}`);
  }
}

/** Builds stats.BroadcastStats from a channel's graphs; missing graphs are "not enough data" errors. */
function broadcastStats(ch: FakeChannel): Api.stats.BroadcastStats {
  const g = (field: string): Api.TypeStatsGraph =>
    ch.graphs.get(field) ?? new Api.StatsGraphError({ error: 'Not enough data to display.' });
  const abs = new Api.StatsAbsValueAndPrev({ current: ch.members, previous: ch.members });
  const zero = new Api.StatsAbsValueAndPrev({ current: 0, previous: 0 });
  return new Api.stats.BroadcastStats({
    period: new Api.StatsDateRangeDays({ minDate: 1_699_000_000, maxDate: 1_700_000_000 }),
    followers: abs,
    viewsPerPost: zero,
    sharesPerPost: zero,
    reactionsPerPost: zero,
    viewsPerStory: zero,
    sharesPerStory: zero,
    reactionsPerStory: zero,
    enabledNotifications: new Api.StatsPercentValue({ part: 1, total: 2 }),
    growthGraph: g('growthGraph'),
    followersGraph: g('followersGraph'),
    muteGraph: g('muteGraph'),
    topHoursGraph: g('topHoursGraph'),
    interactionsGraph: g('interactionsGraph'),
    ivInteractionsGraph: g('ivInteractionsGraph'),
    viewsBySourceGraph: g('viewsBySourceGraph'),
    newFollowersBySourceGraph: g('newFollowersBySourceGraph'),
    languagesGraph: g('languagesGraph'),
    reactionsByEmotionGraph: g('reactionsByEmotionGraph'),
    storyInteractionsGraph: g('storyInteractionsGraph'),
    storyReactionsByEmotionGraph: g('storyReactionsByEmotionGraph'),
    // Telegram lists the recent posts with their interactions; the newest 20 here.
    recentPostsInteractions: [...ch.posts.values()].slice(-20).map(
      (m) =>
        new Api.PostInteractionCountersMessage({
          msgId: m.id,
          views: m.views ?? 0,
          forwards: m.forwards ?? 0,
          reactions: 0,
        }),
    ),
  });
}

/** An auth key of random bytes, as a completed login leaves in a session. */
export async function madeUpAuthKey(): Promise<AuthKey> {
  const authKey = new AuthKey();
  await authKey.setKey(randomBytes(256));
  return authKey;
}

/** A real gramjs StringSession for a made-up auth key, as `tgpulse login` would save it. */
export async function madeUpSession(): Promise<string> {
  const session = new StringSession('');
  session.setDC(2, '149.154.167.51', 443);
  session.setAuthKey(await madeUpAuthKey());
  return session.save();
}

/** A graph in Telegram's chart JSON: an x column (ms) and named series. */
export function chartGraph(
  xMs: number[],
  series: Record<string, { name: string; values: Array<number | null> }>,
): Api.StatsGraph {
  const columns: Array<Array<string | number | null>> = [['x', ...xMs]];
  const types: Record<string, string> = { x: 'x' };
  const names: Record<string, string> = {};
  for (const [key, s] of Object.entries(series)) {
    columns.push([key, ...s.values]);
    types[key] = 'line';
    names[key] = s.name;
  }
  return new Api.StatsGraph({ json: new Api.DataJSON({ data: JSON.stringify({ columns, types, names }) }) });
}

/** An error Telegram answers with, raised inside the fake's handlers. */
class RpcRefusal extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly detail?: string,
  ) {
    super(message);
  }
}

function codeOf(rpc: string): number {
  if (rpc.startsWith('FLOOD_WAIT_')) return 420;
  if (rpc.endsWith('_MIGRATE') || /_MIGRATE_\d+$/.test(rpc)) return 303;
  if (rpc === 'AUTH_KEY_UNREGISTERED' || rpc === 'SESSION_REVOKED') return 401;
  if (rpc === 'CHANNEL_PRIVATE' || rpc === 'CHAT_ADMIN_REQUIRED') return 400;
  return 400;
}

/** gramjs logs to the console by default; tests keep it quiet. */
function quietLogger(): Logger {
  return new Logger(LogLevel.NONE);
}
