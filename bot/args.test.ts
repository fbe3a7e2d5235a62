/**
 * What the bot makes of the words people type and of the data behind its
 * buttons: channel ids, periods, post links, alert options and callback
 * data are read strictly, and everything else gets a reason.
 */
import { describe, expect, it } from 'vitest';
import { parseChannelArgs, parseChannelId, parsePostRef, words } from './args.ts';
import { parseAlertRequest } from './commands/alerts.ts';
import { COMMANDS, usage } from './commands/catalog.ts';
import { choiceData, parseChoice } from './keyboards.ts';

const metric = (w: string) => (['views', 'forwards'].includes(w.toLowerCase()) ? w.toLowerCase() : null);

describe('command arguments', () => {
  it('reads channel, period and option in any order', () => {
    expect(parseChannelArgs(['30d', '1001234567', 'Views'], { maxDays: 400, option: metric })).toEqual({
      ok: true,
      value: { channel: '1001234567', days: 30, option: 'views' },
    });
    expect(parseChannelArgs([], { maxDays: 400 })).toEqual({
      ok: true,
      value: { channel: null, days: null, option: null },
    });
  });

  it('takes Bot API chat ids of channels as the bare id', () => {
    expect(parseChannelId('-1001001234567')).toBe('1001234567');
    expect(parseChannelId('-42')).toBeNull();
  });

  it.each([
    [['1', '2'], 'two channels given (1 and 2): ask about one at a time'],
    [['7d', '30d'], 'two periods given (7d and 30d)'],
    [['0d'], "a period spans 1 to 400 days (the API's limit too), not 0"],
    [['5000d'], "a period spans 1 to 400 days (the API's limit too), not 5000"],
    [['@durov'], 'I know channels by their id, not by username (“@durov”): /channels lists the ids'],
    [['<script>'], "I don't understand “<script>”"],
    [['views'], "I don't understand “views”"],
  ])('refuses %j with a reason', (list, reason) => {
    expect(parseChannelArgs(list, { maxDays: 400 })).toEqual({ ok: false, problem: reason });
  });

  it('cuts long junk when quoting it back, and refuses walls of words', () => {
    const parsed = parseChannelArgs(['x'.repeat(5000)], { maxDays: 400 });
    expect(parsed.ok === false && parsed.problem.length).toBeLessThan(80);
    expect(words('a '.repeat(50)).ok).toBe(false);
  });
});

describe('post references', () => {
  it.each([
    ['https://t.me/c/1001234567/42', { channelId: '1001234567', postId: 42 }],
    ['t.me/c/1001234567/42?single', { channelId: '1001234567', postId: 42 }],
    ['1001234567/42', { channelId: '1001234567', postId: 42 }],
    ['-1001001234567/7', { channelId: '1001234567', postId: 7 }],
  ])('reads %s', (text, ref) => {
    expect(parsePostRef(text)).toEqual({ ok: true, value: ref });
  });

  it.each([
    [
      'https://t.me/durov/42',
      'I only understand t.me/c/<channel id>/<post> links: I know channels by id, not by username',
    ],
    ['https://t.me/c/1001234567/0', '“0” is not a post number'],
    ['https://t.me/c/1001234567/9999999999', '“9999999999” is not a post number'],
    ['https://evil.example/c/1/2', '“https://evil.example/c/1/2” is not a post link'],
    ['javascript:alert(1)', '“javascript:alert(1)” is not a post link'],
  ])('refuses %s', (text, reason) => {
    expect(parsePostRef(text)).toEqual({ ok: false, problem: reason });
  });
});

describe('alert subscriptions', () => {
  it('reads every option', () => {
    const parsed = parseAlertRequest([
      'add',
      '1001234567',
      'severity=Critical',
      'metrics=views,subscribers_lost',
      'quiet=22-7',
      'tz=europe/berlin',
      'max=5',
    ]);
    expect(parsed).toEqual({
      ok: true,
      value: {
        action: 'add',
        channelId: '1001234567',
        options: {
          minSeverity: 'critical',
          metrics: ['views', 'subscribers_lost'],
          quiet: { from: 22, to: 7 },
          timeZone: 'Europe/Berlin',
          maxPerHour: 5,
        },
      },
    });
    expect(parseAlertRequest([])).toEqual({ ok: true, value: { action: 'list' } });
    expect(parseAlertRequest(['remove', '1001234567'])).toEqual({
      ok: true,
      value: { action: 'remove', channelId: '1001234567' },
    });
  });

  it.each([
    [['mute'], '“mute” is not something alerts do: add, remove, or nothing to list them'],
    [['add'], 'add alerts of which channel?'],
    [['add', '1', 'severity=loud'], 'severity is one of info, warning, critical'],
    [['add', '1', 'metrics=views,likes'], expect.stringContaining('metrics are a comma-separated list of views,')],
    [['add', '1', 'quiet=7-7'], expect.stringContaining('quiet hours are from-to')],
    [['add', '1', 'quiet=25-3'], expect.stringContaining('quiet hours are from-to')],
    [['add', '1', 'tz=Mars/Olympus'], 'tz is an IANA time zone such as UTC or Europe/Berlin'],
    [['add', '1', 'max=0'], 'max is the most alerts per hour in this chat, 1 to 1000'],
    [['add', '1', 'max=5', 'max=6'], 'max is given twice'],
    [['add', '1', 'constructor=1'], expect.stringContaining('“constructor=1” is not an option')],
    [['remove', '1', 'now'], 'remove takes only a channel, not “now”'],
  ])('refuses %j', (list, reason) => {
    expect(parseAlertRequest(list)).toEqual({ ok: false, problem: reason });
  });
});

describe('callback data', () => {
  it("round-trips and stays within Telegram's 64 bytes", () => {
    const choice = { command: 'overview' as const, channelId: '99999999999999999999', days: 400 };
    const data = choiceData(choice);
    expect(data).toBe('ov:99999999999999999999:400d');
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(parseChoice(data)).toEqual(choice);
    expect(parseChoice('tp:1001234567:-')).toEqual({ command: 'top', channelId: '1001234567', days: null });
  });

  it.each([
    '',
    'ov',
    'ov:1001234567',
    'zz:1001234567:7d',
    'ov:abc:7d',
    'ov:1001234567:0d',
    'ov:1001234567:7d:x',
    'ov:1001234567:7w',
  ])('rejects %j', (data) => {
    expect(parseChoice(data)).toBeNull();
  });
});

describe('command catalog', () => {
  it('gives every command a usage line and a menu description Telegram accepts', () => {
    for (const c of COMMANDS) {
      expect(c.command).toMatch(/^[a-z0-9_]{1,32}$/);
      expect(c.description.length).toBeLessThanOrEqual(256);
      expect(usage(c.command).startsWith(`/${c.command}`)).toBe(true);
    }
  });
});
