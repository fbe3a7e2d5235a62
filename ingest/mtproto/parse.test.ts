import bigInt from 'big-integer';
import { Api } from 'telegram';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../streams/contract/codec.ts';
import type { TgEvent } from '../../streams/contract/events.ts';
import {
  channelFacts,
  channelIdOfPeer,
  countersFromMessage,
  deletedEvents,
  membersEvent,
  postEvent,
  reactionCounts,
  type Observation,
  seenCounters,
} from './parse.ts';

const CHANNEL = '1234567890';
const OTHER_CHANNEL = '987654321';
const DATE_S = 1_767_225_600; // 2026-01-01T00:00:00Z
const OBSERVED = DATE_S * 1000 + 3_600_000;
const obs: Observation = { channelId: CHANNEL, observedAt: OBSERVED };

/** Every event must pass the contract as built and after the JSON trip it takes over NATS. */
function expectValid(events: ReadonlyArray<TgEvent | null>): void {
  for (const e of events) {
    expect(e).not.toBeNull();
    const direct = validateEvent(e);
    expect(direct.ok ? 'valid' : direct.detail).toBe('valid');
    const wire = JSON.parse(JSON.stringify(e)) as unknown;
    const decoded = validateEvent(wire);
    expect(decoded.ok ? 'valid' : decoded.detail).toBe('valid');
    expect(wire).toEqual(e);
  }
}

function peer(channelId: string): Api.PeerChannel {
  return new Api.PeerChannel({ channelId: bigInt(channelId) });
}

function message(fields: Partial<ConstructorParameters<typeof Api.Message>[0]> = {}): Api.Message {
  return new Api.Message({ id: 42, peerId: peer(CHANNEL), date: DATE_S, message: '', ...fields });
}

function reaction(r: Api.TypeReaction, count: number): Api.ReactionCount {
  return new Api.ReactionCount({ reaction: r, count });
}

function doc(...attributes: Api.TypeDocumentAttribute[]): Api.Document {
  return new Api.Document({
    id: bigInt('5001'),
    accessHash: bigInt('77'),
    fileReference: Buffer.alloc(0),
    date: DATE_S,
    mimeType: 'application/octet-stream',
    size: bigInt(1024),
    dcId: 2,
    attributes,
  });
}

const sticker = new Api.DocumentAttributeSticker({ alt: '😀', stickerset: new Api.InputStickerSetEmpty() });
const video = new Api.DocumentAttributeVideo({ duration: 12.5, w: 1280, h: 720 });

describe('postEvent turns a channel message into a post event', () => {
  it('fills the envelope and data of an ordinary post, with the counters seen with it', () => {
    const msg = message({
      message: 'Release notes are out',
      media: new Api.MessageMediaPhoto({ photo: new Api.PhotoEmpty({ id: bigInt(9) }) }),
      views: 1500,
      forwards: 12,
      replies: new Api.MessageReplies({ replies: 7, repliesPts: 100 }),
      reactions: new Api.MessageReactions({
        results: [
          reaction(new Api.ReactionEmoji({ emoticon: '👍' }), 5),
          reaction(new Api.ReactionEmoji({ emoticon: '🔥' }), 3),
        ],
      }),
      groupedId: bigInt('13721937123123123'),
    });
    const e = postEvent(msg, obs);
    expectValid([e]);
    expect(e).toMatchObject({
      v: 1,
      kind: 'post',
      channel_id: CHANNEL,
      event_time: DATE_S * 1000,
      observed_at: OBSERVED,
      source: 'mtproto',
      data: {
        post_id: 42,
        date: DATE_S * 1000,
        edit_date: null,
        text_length: 'Release notes are out'.length,
        media_type: 'photo',
        grouped_id: '13721937123123123',
        forward_from: null,
        mentions: [],
        links: [],
        hashtags: [],
        counters: { views: 1500, forwards: 12, replies: 7, reactions_total: 8, reactions: { '👍': 5, '🔥': 3 } },
      },
    });
  });

  it('reads missing counters as zero and a missing group as null', () => {
    const e = postEvent(message({ message: 'hi' }), obs)!;
    expectValid([e]);
    expect(e.data.grouped_id).toBeNull();
    expect(e.data.counters).toEqual({ views: 0, forwards: 0, replies: 0, reactions_total: 0, reactions: {} });
  });

  it('is deterministic, and gives an edited post a new id with its edit date', () => {
    const original = postEvent(message({ message: 'v1' }), obs)!;
    const reread = postEvent(message({ message: 'v1' }), { ...obs, observedAt: OBSERVED + 60_000 })!;
    const edited = postEvent(message({ message: 'v2', editDate: DATE_S + 600 }), obs)!;
    const editedAgain = postEvent(message({ message: 'v3', editDate: DATE_S + 1200 }), obs)!;
    expectValid([original, edited, editedAgain]);
    expect(reread.id).toBe(original.id);
    expect(edited.id).not.toBe(original.id);
    expect(editedAgain.id).not.toBe(edited.id);
    expect(edited.data.edit_date).toBe((DATE_S + 600) * 1000);
    expect(edited.event_time).toBe(DATE_S * 1000);
  });

  it('returns null for empty and service messages, which are not posts', () => {
    expect(postEvent(new Api.MessageEmpty({ id: 42, peerId: peer(CHANNEL) }), obs)).toBeNull();
    const service = new Api.MessageService({
      id: 43,
      peerId: peer(CHANNEL),
      date: DATE_S,
      action: new Api.MessageActionPinMessage(),
    });
    expect(postEvent(service, obs)).toBeNull();
    expect(countersFromMessage(service, obs)).toBeNull();
  });

  it('refuses a message id that cannot be a post id instead of making an invalid event', () => {
    expect(() => postEvent(message({ id: -5 }), obs)).toThrow(/-5 is not a Telegram post id/);
  });

  describe('media types', () => {
    const cases: Array<[string, Api.TypeMessageMedia | undefined, string]> = [
      ['no media', undefined, 'none'],
      ['MessageMediaEmpty', new Api.MessageMediaEmpty(), 'none'],
      ['a photo', new Api.MessageMediaPhoto({ photo: new Api.PhotoEmpty({ id: bigInt(1) }) }), 'photo'],
      [
        'a video document',
        new Api.MessageMediaDocument({
          document: doc(video, new Api.DocumentAttributeFilename({ fileName: 'a.mp4' })),
        }),
        'video',
      ],
      [
        'a round video',
        new Api.MessageMediaDocument({
          round: true,
          document: doc(new Api.DocumentAttributeVideo({ roundMessage: true, duration: 3, w: 240, h: 240 })),
        }),
        'video',
      ],
      [
        'a music file',
        new Api.MessageMediaDocument({
          document: doc(new Api.DocumentAttributeAudio({ duration: 180, title: 'Song' })),
        }),
        'audio',
      ],
      [
        'a voice note',
        new Api.MessageMediaDocument({ document: doc(new Api.DocumentAttributeAudio({ duration: 9, voice: true })) }),
        'voice',
      ],
      [
        'a voice note flagged on the media only',
        new Api.MessageMediaDocument({ voice: true, document: doc() }),
        'voice',
      ],
      ['a sticker', new Api.MessageMediaDocument({ document: doc(sticker) }), 'sticker'],
      [
        'a video sticker (sticker and video attributes)',
        new Api.MessageMediaDocument({ document: doc(video, sticker) }),
        'sticker',
      ],
      [
        'a plain file',
        new Api.MessageMediaDocument({ document: doc(new Api.DocumentAttributeFilename({ fileName: 'report.pdf' })) }),
        'document',
      ],
      ['a document no longer available', new Api.MessageMediaDocument({}), 'document'],
      [
        'a poll',
        new Api.MessageMediaPoll({
          poll: new Api.Poll({
            id: bigInt(3),
            question: new Api.TextWithEntities({ text: 'Which?', entities: [] }),
            answers: [],
          }),
          results: new Api.PollResults({}),
        }),
        'poll',
      ],
      ['a link preview', new Api.MessageMediaWebPage({ webpage: new Api.WebPageEmpty({ id: bigInt(4) }) }), 'webpage'],
      ['a location', new Api.MessageMediaGeo({ geo: new Api.GeoPointEmpty() }), 'other'],
      ['a dice', new Api.MessageMediaDice({ value: 6, emoticon: '🎲' }), 'other'],
    ];
    it.each(cases)('%s → %s', (_name, media, expected) => {
      const e = postEvent(message({ media }), obs)!;
      expectValid([e]);
      expect(e.data.media_type).toBe(expected);
    });
  });

  describe('entities', () => {
    it('slices mentions, links and hashtags by UTF-16 offsets, after emoji', () => {
      // '👍' and '🇺🇦' are 2 and 4 UTF-16 units: the offsets Telegram sends count those units.
      const text = '👍 Read @tgpulse_news at https://example.org/a?b=1 🇺🇦 #release #news';
      const at = (s: string) => text.indexOf(s);
      const msg = message({
        message: text,
        entities: [
          new Api.MessageEntityMention({ offset: at('@tgpulse_news'), length: '@tgpulse_news'.length }),
          new Api.MessageEntityUrl({ offset: at('https://'), length: 'https://example.org/a?b=1'.length }),
          new Api.MessageEntityHashtag({ offset: at('#release'), length: '#release'.length }),
          new Api.MessageEntityHashtag({ offset: at('#news'), length: '#news'.length }),
          new Api.MessageEntityTextUrl({ offset: 2, length: 4, url: 'https://t.me/tgpulse_news/7' }),
          new Api.MessageEntityMentionName({ offset: 2, length: 4, userId: bigInt(555) }),
          new Api.MessageEntityBold({ offset: 0, length: 6 }),
        ],
      });
      expect(at('@tgpulse_news')).toBe(8);
      const e = postEvent(msg, obs)!;
      expectValid([e]);
      expect(e.data.mentions).toEqual(['@tgpulse_news']);
      expect(e.data.links).toEqual(['https://example.org/a?b=1', 'https://t.me/tgpulse_news/7']);
      expect(e.data.hashtags).toEqual(['#release', '#news']);
      expect(e.data.text_length).toBe(text.length);
    });

    it('keeps a value once, so repeats do not crowd other entities out', () => {
      const text = '#a #a #b';
      const e = postEvent(
        message({
          message: text,
          entities: [0, 3, 6].map((offset) => new Api.MessageEntityHashtag({ offset, length: 2 })),
        }),
        obs,
      )!;
      expect(e.data.hashtags).toEqual(['#a', '#b']);
    });
  });

  describe('hostile posts still make contract-valid events', () => {
    it('caps a thousand distinct mentions at the contract maximum', () => {
      const names = Array.from({ length: 1000 }, (_, i) => `@user${i}`);
      const text = names.join(' ');
      let offset = 0;
      const entities = names.map((n) => {
        const entity = new Api.MessageEntityMention({ offset, length: n.length });
        offset += n.length + 1;
        return entity;
      });
      const e = postEvent(message({ message: text, entities }), obs)!;
      expectValid([e]);
      expect(e.data.mentions).toHaveLength(100);
      expect(e.data.mentions[0]).toBe('@user0');
      expect(e.data.mentions[99]).toBe('@user99');
    });

    it('clamps a 5000-character link and an over-long hashtag without splitting a character', () => {
      const url = `https://example.org/${'a'.repeat(4980)}`;
      const tag = `#${'x'.repeat(254)}😀${'y'.repeat(100)}`; // the emoji straddles the 256 limit
      const text = `${url} ${tag}`;
      const e = postEvent(
        message({
          message: text,
          entities: [
            new Api.MessageEntityUrl({ offset: 0, length: url.length }),
            new Api.MessageEntityTextUrl({ offset: 0, length: 3, url }),
            new Api.MessageEntityHashtag({ offset: url.length + 1, length: tag.length }),
          ],
        }),
        obs,
      )!;
      expectValid([e]);
      expect(url).toHaveLength(5000);
      expect(e.data.links).toEqual([url.slice(0, 2048)]);
      expect(e.data.hashtags).toEqual([`#${'x'.repeat(254)}`]);
    });

    it('drops control characters, half emoji and entities pointing outside the text', () => {
      const text = '@ev\u0000il\u202e\n #ta\u0007g 😀';
      const e = postEvent(
        message({
          message: text,
          entities: [
            new Api.MessageEntityMention({ offset: 0, length: 8 }),
            new Api.MessageEntityHashtag({ offset: 9, length: 5 }),
            // Starts inside the emoji's surrogate pair: only half a character would remain.
            new Api.MessageEntityHashtag({ offset: text.length - 1, length: 1 }),
            new Api.MessageEntityMention({ offset: 5000, length: 10 }),
            new Api.MessageEntityMention({ offset: -3, length: 10 }),
            new Api.MessageEntityUrl({ offset: 2, length: 0 }),
            new Api.MessageEntityTextUrl({ offset: 0, length: 1, url: '\u0001\u0002' }),
          ],
        }),
        obs,
      )!;
      expectValid([e]);
      expect(e.data.mentions).toEqual(['@evil\u202e']);
      expect(e.data.hashtags).toEqual(['#tag']);
      expect(e.data.links).toEqual([]);
    });

    it('reads a reaction called __proto__ as an ordinary key, and negative counters as zero', () => {
      const e = postEvent(
        message({
          views: -5,
          reactions: new Api.MessageReactions({
            results: [
              reaction(new Api.ReactionEmoji({ emoticon: '__proto__' }), 2),
              reaction(new Api.ReactionEmoji({ emoticon: '❤' }), -1),
            ],
          }),
        }),
        obs,
      )!;
      expectValid([e]);
      expect(Object.keys(e.data.counters.reactions)).toEqual(['__proto__', '❤']);
      expect(e.data.counters).toMatchObject({ views: 0, reactions_total: 2 });
    });
  });

  describe('forward origin', () => {
    it('names the channel post a repost came from', () => {
      const e = postEvent(
        message({
          fwdFrom: new Api.MessageFwdHeader({ fromId: peer(OTHER_CHANNEL), date: DATE_S - 60, channelPost: 314 }),
        }),
        obs,
      )!;
      expectValid([e]);
      expect(e.data.forward_from).toEqual({ channel_id: OTHER_CHANNEL, post_id: 314 });
    });

    it('knows the channel without the post when Telegram hides the post id', () => {
      const e = postEvent(
        message({ fwdFrom: new Api.MessageFwdHeader({ fromId: peer(OTHER_CHANNEL), date: DATE_S - 60 }) }),
        obs,
      )!;
      expectValid([e]);
      expect(e.data.forward_from).toEqual({ channel_id: OTHER_CHANNEL, post_id: null });
    });

    it('is null for forwards from users and hidden senders', () => {
      const fromUser = postEvent(
        message({
          fwdFrom: new Api.MessageFwdHeader({ fromId: new Api.PeerUser({ userId: bigInt(77) }), date: DATE_S }),
        }),
        obs,
      )!;
      const hidden = postEvent(
        message({ fwdFrom: new Api.MessageFwdHeader({ fromName: 'Someone', date: DATE_S }) }),
        obs,
      )!;
      expectValid([fromUser, hidden]);
      expect(fromUser.data.forward_from).toBeNull();
      expect(hidden.data.forward_from).toBeNull();
    });
  });
});

describe('reactionCounts keys every kind of reaction', () => {
  it('counts emoji, custom emoji by document id and paid reactions; ignores empty ones', () => {
    const r = reactionCounts(
      new Api.MessageReactions({
        results: [
          reaction(new Api.ReactionEmoji({ emoticon: '👍' }), 5),
          reaction(new Api.ReactionCustomEmoji({ documentId: bigInt('5368324170671202286') }), 3),
          reaction(new Api.ReactionPaid(), 10),
          reaction(new Api.ReactionEmpty(), 4),
        ],
      }),
    );
    expect(r).toEqual({ total: 18, byEmoji: { '👍': 5, 'custom:5368324170671202286': 3, paid: 10 } });
  });

  it('is zero without reactions', () => {
    expect(reactionCounts(undefined)).toEqual({ total: 0, byEmoji: {} });
    expect(reactionCounts(new Api.MessageReactions({ results: [] }))).toEqual({ total: 0, byEmoji: {} });
  });

  it('adds up results that land on one key after clamping an over-long emoticon', () => {
    const long = '🔥'.repeat(40);
    const r = reactionCounts(
      new Api.MessageReactions({
        results: [
          reaction(new Api.ReactionEmoji({ emoticon: long }), 1),
          reaction(new Api.ReactionEmoji({ emoticon: `${long}!` }), 2),
        ],
      }),
    );
    expect(r).toEqual({ total: 3, byEmoji: { ['🔥'.repeat(32)]: 3 } });
  });
});

describe('countersFromMessage', () => {
  it('snapshots the counters of a message at the observation time', () => {
    const msg = message({
      views: 900,
      forwards: 4,
      replies: new Api.MessageReplies({ replies: 2, repliesPts: 1 }),
      reactions: new Api.MessageReactions({
        results: [reaction(new Api.ReactionCustomEmoji({ documentId: bigInt(123) }), 6)],
      }),
    });
    const e = countersFromMessage(msg, obs)!;
    expectValid([e]);
    expect(e).toMatchObject({
      kind: 'post_counters',
      channel_id: CHANNEL,
      event_time: OBSERVED,
      observed_at: OBSERVED,
      data: {
        post_id: 42,
        post_date: DATE_S * 1000,
        views: 900,
        forwards: 4,
        replies: 2,
        reactions_total: 6,
        reactions: { 'custom:123': 6 },
      },
    });
    const later = countersFromMessage(msg, { ...obs, observedAt: OBSERVED + 1 })!;
    expect(later.id).not.toBe(e.id);
    expect(countersFromMessage(msg, obs)!.id).toBe(e.id);
  });

  it('is null when the message carries no view counter', () => {
    expect(countersFromMessage(message({ forwards: 3 }), obs)).toBeNull();
    expect(countersFromMessage(new Api.MessageEmpty({ id: 1 }), obs)).toBeNull();
  });
});

function chatFull(
  fields: Partial<ConstructorParameters<typeof Api.ChannelFull>[0]>,
  chats: Api.TypeChat[] = [],
): Api.messages.ChatFull {
  return new Api.messages.ChatFull({
    fullChat: new Api.ChannelFull({
      id: bigInt(CHANNEL),
      about: '',
      readInboxMaxId: 0,
      readOutboxMaxId: 0,
      unreadCount: 0,
      chatPhoto: new Api.PhotoEmpty({ id: bigInt(0) }),
      notifySettings: new Api.PeerNotifySettings({}),
      botInfo: [],
      pts: 1,
      ...fields,
    }),
    chats,
    users: [],
  });
}

function channel(id: string, fields: Partial<ConstructorParameters<typeof Api.Channel>[0]> = {}): Api.Channel {
  return new Api.Channel({
    id: bigInt(id),
    title: `Channel ${id}`,
    photo: new Api.ChatPhotoEmpty(),
    date: DATE_S,
    broadcast: true,
    ...fields,
  });
}

describe('seenCounters', () => {
  it('takes the view count a message carries as its first read, and nothing from a message without one', () => {
    expect(seenCounters(message({ views: 42 }), OBSERVED)).toEqual({ at: OBSERVED, views: 42 });
    expect(seenCounters(message({ views: undefined }), OBSERVED)).toBeUndefined();
    expect(seenCounters(new Api.MessageEmpty({ id: 1 }), OBSERVED)).toBeUndefined();
  });
});

describe('membersEvent', () => {
  it('snapshots the participants count', () => {
    const e = membersEvent(chatFull({ participantsCount: 15_230 }), obs)!;
    expectValid([e]);
    expect(e).toMatchObject({
      kind: 'channel_members',
      channel_id: CHANNEL,
      event_time: OBSERVED,
      data: { members: 15_230 },
    });
    expect(membersEvent(chatFull({ participantsCount: 15_231 }), obs)!.id).toBe(e.id);
  });

  it('is null when the count is hidden', () => {
    expect(membersEvent(chatFull({}), obs)).toBeNull();
  });

  it('refuses an answer about another channel', () => {
    expect(() => membersEvent(chatFull({ participantsCount: 1 }), { ...obs, channelId: OTHER_CHANNEL })).toThrow(
      /answered for channel 1234567890 where 987654321 was expected/,
    );
  });
});

describe('deletedEvents', () => {
  it('sorts and deduplicates ids so one deletion always gets one id', () => {
    const a = deletedEvents([30, 10, 20, 10], obs);
    const b = deletedEvents([20, 30, 10], obs);
    expectValid(a);
    expect(a).toHaveLength(1);
    expect(a[0].data.post_ids).toEqual([10, 20, 30]);
    expect(a[0].id).toBe(b[0].id);
    expect(a[0]).toMatchObject({ kind: 'post_deleted', event_time: OBSERVED });
  });

  it('splits more than 1000 ids into events the contract accepts', () => {
    const ids = Array.from({ length: 2500 }, (_, i) => 2500 - i);
    const events = deletedEvents(ids, obs);
    expectValid(events);
    expect(events.map((e) => e.data.post_ids.length)).toEqual([1000, 1000, 500]);
    expect(events[1].data.post_ids[0]).toBe(1001);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('makes nothing of no ids and refuses ids that are not post ids', () => {
    expect(deletedEvents([], obs)).toEqual([]);
    expect(() => deletedEvents([5, -1], obs)).toThrow(/-1 is not a Telegram post id/);
  });
});

describe('channelFacts', () => {
  it('reads count, statistics access and the matching channel of the answer', () => {
    const facts = channelFacts(
      chatFull({ participantsCount: 900, canViewStats: true, statsDc: 4 }, [
        channel(OTHER_CHANNEL, { username: 'linked_chat' }),
        channel(CHANNEL, { title: 'TG Pulse', username: 'tgpulse' }),
      ]),
      CHANNEL,
    );
    expect(facts).toEqual({ members: 900, canViewStats: true, statsDc: 4, title: 'TG Pulse', username: 'tgpulse' });
  });

  it('falls back to an active collectible username and tolerates missing facts', () => {
    const facts = channelFacts(
      chatFull({}, [
        channel(CHANNEL, {
          title: 'Collectible',
          usernames: [
            new Api.Username({ username: 'old_name', active: false }),
            new Api.Username({ username: 'pulse', active: true }),
          ],
        }),
      ]),
      CHANNEL,
    );
    expect(facts).toEqual({
      members: null,
      canViewStats: false,
      statsDc: null,
      title: 'Collectible',
      username: 'pulse',
    });
    expect(channelFacts(chatFull({}), CHANNEL)).toEqual({
      members: null,
      canViewStats: false,
      statsDc: null,
      title: null,
      username: null,
    });
  });
});

describe('channelIdOfPeer', () => {
  it('gives the bare id of a channel peer and null for anything else', () => {
    expect(channelIdOfPeer(peer('1000000000001'))).toBe('1000000000001');
    expect(channelIdOfPeer(new Api.PeerUser({ userId: bigInt(5) }))).toBeNull();
    expect(channelIdOfPeer(new Api.PeerChat({ chatId: bigInt(5) }))).toBeNull();
    expect(channelIdOfPeer(undefined)).toBeNull();
  });
});
