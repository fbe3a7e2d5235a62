/**
 * Hostile Telegram updates for the bot fuzz test, drawn with fast-check from
 * a seed: random texts, every command with hostile arguments, forged button
 * presses, group chats, edited messages and channel posts. Each update gets a
 * sender and a chat of its own, so every answer can be traced to the one
 * update that caused it.
 */
import fc from 'fast-check';
import { COMMANDS } from '../../bot/commands/catalog.ts';
import { CHOICE_CODES } from '../../bot/keyboards.ts';

/** Where an update comes from and what it is. */
export type FuzzShape = 'private' | 'group' | 'edited' | 'button' | 'channel_post';

export interface FuzzUpdate {
  shape: FuzzShape;
  /** The user behind it (null for channel posts). */
  userId: number | null;
  /** The chat any answer goes to. */
  chatId: number;
  /** What the user typed or the button carried: a secret in it may be echoed back. */
  input: string;
  /** The update as Telegram sends it, without update_id. */
  update: Record<string, unknown>;
  /** For button presses: the callback query id the answer must name. */
  callbackId?: string;
}

/** What the generator knows about the world: ids to aim at. */
export interface FuzzTargets {
  /** Tracked channels (the secrets' owners). */
  channels: readonly string[];
  /** Users that exist (admins, grant holders): ids to name in /grant and friends. */
  users: readonly number[];
  botUsername: string;
}

const CONTROL = fc.constantFrom(
  '\u0000',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u200b',
  '\u202e',
  '\u2028',
  '\ufeff',
);
const HTML_BITS = fc.constantFrom(
  '<b>',
  '</b>',
  '<i>x</i>',
  '<a href="javascript:alert(1)">x</a>',
  '<script>alert(1)</script>',
  '&',
  '&amp;',
  '&#60;',
  '&lt;b&gt;',
  '"',
  "'",
  '</code><b>',
  '<pre>',
  '<tg-spoiler>',
);
const HUGE_NUMBERS = fc.constantFrom(
  '99999999999999999999',
  '18446744073709551616',
  '9223372036854775808',
  '-9223372036854775809',
  '1e309',
  '-0',
  'NaN',
  'Infinity',
  '0x7fffffff',
  '00000000000000000000001',
  '1'.repeat(100),
);

/** One hostile word, aimed at the given targets. */
function word(t: FuzzTargets): fc.Arbitrary<string> {
  const channel = fc.constantFrom(...t.channels);
  return fc.oneof(
    channel,
    channel.map((c) => `-100${c}`),
    fc.tuple(channel, fc.integer({ min: 1, max: 1_000_000 })).map(([c, p]) => `https://t.me/c/${c}/${p}`),
    fc.tuple(channel, fc.integer({ min: 1, max: 1000 })).map(([c, p]) => `${c}/${p}`),
    fc.constantFrom(...t.users).map(String),
    fc.stringMatching(/^@[A-Za-z][A-Za-z0-9_]{3,31}$/),
    fc.constantFrom(
      '7d',
      '30d',
      '90d',
      '0d',
      '401d',
      '999999d',
      '-3d',
      'views',
      'forwards',
      'critical',
      'hour',
      'Europe/Berlin',
      '../../etc/passwd',
    ),
    fc.constantFrom(
      'severity=<i>',
      'metrics=views,<b>',
      'quiet=25-99',
      'tz=Mars/Olympus',
      'max=1e9',
      'add',
      'remove',
      'metrics=',
      '=',
    ),
    HUGE_NUMBERS,
    HTML_BITS,
    CONTROL,
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.integer({ min: 300, max: 4000 }).map((n) => 'ж'.repeat(n)),
    fc.integer({ min: 20, max: 2000 }).map((n) => '😀'.repeat(n)),
    // Pairs that straddle any cut a quote makes.
    fc
      .tuple(fc.string({ maxLength: 3 }), fc.integer({ min: 20, max: 60 }))
      .map(([pre, n]) => `${pre}${'🇺🇦'.repeat(n)}`),
  );
}

/** A command line: a known command (or a made-up one), maybe addressed to a bot, with hostile words. */
function commandText(t: FuzzTargets): fc.Arbitrary<string> {
  const name = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...COMMANDS.map((c) => c.command)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z_]{1,20}$/) },
    { weight: 1, arbitrary: fc.constantFrom('OVERVIEW', 'start@', 'help@@', 'top/') },
  );
  const at = fc.constantFrom('', '', '', `@${t.botUsername}`, '@other_bot');
  const sep = fc.constantFrom(' ', '  ', '\n', '\t', ' \u00a0');
  return fc
    .tuple(name, at, fc.array(fc.tuple(sep, word(t)), { maxLength: 5 }))
    .map(([n, a, args]) => `/${n}${a}${args.map(([s, w]) => `${s}${w}`).join('')}`);
}

/** Text of a message: mostly commands, some free text. */
function messageText(t: FuzzTargets): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 4, arbitrary: commandText(t) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }) },
      { weight: 1, arbitrary: fc.array(word(t), { minLength: 1, maxLength: 4 }).map((w) => w.join(' ')) },
    )
    .filter((s) => s.length > 0 && s.length <= 4096);
}

/** Callback data: forged buttons of every command for tracked channels, and junk. */
function buttonData(t: FuzzTargets): fc.Arbitrary<string> {
  const code = fc.constantFrom(...Object.values(CHOICE_CODES), 'zz', 'OV');
  const channel = fc.oneof(fc.constantFrom(...t.channels), HUGE_NUMBERS, fc.constant(''));
  const period = fc.constantFrom('7d', '30d', '90d', '-', '0d', '9999d', '401d', '7', '');
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(code, channel, period).map(([c, ch, p]) => `${c}:${ch}:${p}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
  );
}

/** The entities Telegram sets on a text: a bot command at the start. */
function entities(text: string): Record<string, unknown> {
  if (!text.startsWith('/')) return {};
  return { entities: [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0].length }] };
}

/**
 * `count` updates from the seed. Users and chats are numbered from `firstId`
 * up, one per update; `sender` picks who sends the private ones.
 */
export function fuzzUpdates(t: FuzzTargets, opts: { seed: number; count: number; firstId: number }): FuzzUpdate[] {
  const shapes = fc.constantFrom<FuzzShape>(
    'private',
    'private',
    'private',
    'group',
    'edited',
    'button',
    'button',
    'channel_post',
  );
  const specs = fc.sample(fc.tuple(shapes, messageText(t), buttonData(t)), { seed: opts.seed, numRuns: opts.count });
  const date = 1_700_000_000;
  return specs.map(([shape, text, data], i) => {
    const userId = opts.firstId + i;
    const from = { id: userId, is_bot: false, first_name: `fuzz${i}`, ...(i % 3 ? { username: `fuzz_${i}` } : {}) };
    const privateChat = { id: userId, type: 'private', first_name: `fuzz${i}` };
    const message = (chat: Record<string, unknown>) => ({
      message_id: i + 1,
      date,
      chat,
      from,
      text,
      ...entities(text),
    });
    switch (shape) {
      case 'private':
        return { shape, userId, chatId: userId, input: text, update: { message: message(privateChat) } };
      case 'group': {
        const chat = { id: -(1_000_000 + i), type: i % 2 ? 'group' : 'supergroup', title: `<b>group ${i}</b>` };
        return { shape, userId, chatId: chat.id, input: text, update: { message: message(chat) } };
      }
      case 'edited':
        return {
          shape,
          userId,
          chatId: userId,
          input: text,
          update: { edited_message: { ...message(privateChat), edit_date: date + 60 } },
        };
      case 'channel_post': {
        const chat = { id: -(1_000_000_000_000 + i), type: 'channel', title: 'a channel' };
        return {
          shape,
          userId: null,
          chatId: chat.id,
          input: text,
          update: { channel_post: { message_id: i + 1, date, chat, text } },
        };
      }
      default: {
        const callbackId = `cb${i}`;
        const update = {
          callback_query: {
            id: callbackId,
            from,
            chat_instance: String(i),
            data,
            message: { message_id: i + 1, date, chat: privateChat, text: '…' },
          },
        };
        return { shape, userId, chatId: userId, input: data, update, callbackId };
      }
    }
  });
}
