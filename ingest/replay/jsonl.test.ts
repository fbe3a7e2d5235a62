import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChannelMembersEvent, PostEvent, RawEvent } from '../../streams/contract/events.ts';
import { eventId } from '../../streams/contract/ids.ts';
import { tempDir } from '../../test/support/nats.ts';
import { CaptureFileError, encodeLine, readEvents, type CaptureLine } from './jsonl.ts';

const T = Date.UTC(2026, 2, 1);
const dir = tempDir('jsonl');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function members(channel: string, i: number): ChannelMembersEvent {
  const t = T + i * 60_000;
  return {
    v: 1,
    kind: 'channel_members',
    id: eventId('cm', channel, t),
    channel_id: channel,
    event_time: t,
    observed_at: t,
    source: 'mtproto',
    data: { members: 1000 + i },
  };
}

/** A post with text that is not ASCII, so UTF-8 characters straddle read chunks somewhere in a long file. */
function post(channel: string, postId: number): PostEvent {
  return {
    v: 1,
    kind: 'post',
    id: eventId('p', channel, postId),
    channel_id: channel,
    event_time: T,
    observed_at: T + 5_000,
    source: 'mtproto',
    data: {
      post_id: postId,
      date: T,
      edit_date: null,
      text_length: 42,
      media_type: 'photo',
      grouped_id: null,
      forward_from: { channel_id: '-1001234567890', post_id: 7 },
      mentions: ['@канал'],
      links: ['https://t.me/канал/1'],
      hashtags: ['#новости', '#🔥'],
      counters: { views: 10, forwards: 1, replies: 0, reactions_total: 3, reactions: { '👍': 2, '❤️': 1 } },
    },
  };
}

let files = 0;
function capture(text: string): string {
  const path = join(dir, `capture-${++files}.jsonl`);
  writeFileSync(path, text);
  return path;
}

async function readAll(path: string, opts?: Parameters<typeof readEvents>[1]): Promise<CaptureLine[]> {
  const out: CaptureLine[] = [];
  for await (const l of readEvents(path, opts)) out.push(l);
  return out;
}

describe('capture files (JSON Lines of raw events)', () => {
  it('round-trips events through encodeLine and readEvents, in order, with line numbers', async () => {
    const events: RawEvent[] = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0 ? post('-100777', i + 1) : members('-100777', i),
    );
    const path = capture(events.map(encodeLine).join(''));
    const lines = await readAll(path);
    expect(lines.map((l) => l.error).filter(Boolean)).toEqual([]);
    expect(lines.map((l) => l.event)).toEqual(events);
    expect(lines.map((l) => l.line)).toEqual(events.map((_, i) => i + 1));
  });

  it('encodes one event as exactly one newline-terminated line', () => {
    const line = encodeLine(post('1', 1));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
  });

  it('reports invalid lines with their numbers and still reads the lines after them', async () => {
    const good = [members('5', 1), members('5', 2), members('5', 3)];
    const derived = { ...members('5', 4), kind: 'window_agg' };
    const path = capture(
      [
        encodeLine(good[0]),
        '{"v":1,"kind":"channel_members",\n', // line 2: cut off
        encodeLine({ ...good[1], channel_id: 'not-a-number' } as RawEvent), // line 3: breaks the contract
        encodeLine(good[1]),
        '{"kind":"teleport"}\n', // line 5: unknown kind
        `${JSON.stringify(derived)}\n`, // line 6: not a raw event
        encodeLine(good[2]),
      ].join(''),
    );
    const lines = await readAll(path);
    expect(lines.filter((l) => l.event).map((l) => [l.line, l.event])).toEqual([
      [1, good[0]],
      [4, good[1]],
      [7, good[2]],
    ]);
    const errors = lines.filter((l) => l.error).map((l) => [l.line, l.error]);
    expect(errors).toEqual([
      [2, expect.stringMatching(/^malformed JSON/)],
      [3, expect.stringMatching(/channel_id/)],
      [5, expect.stringMatching(/unknown_kind/)],
      [6, expect.stringMatching(/window_agg/)],
    ]);
  });

  it('skips blank lines but counts them, and accepts CRLF line ends and a last line without newline', async () => {
    const a = members('9', 1);
    const b = members('9', 2);
    const path = capture(`\n${encodeLine(a).replace('\n', '\r\n')}   \n\r\n${JSON.stringify(b)}`);
    const lines = await readAll(path);
    expect(lines).toEqual([
      { line: 2, event: a },
      { line: 5, event: b },
    ]);
  });

  it('refuses a line over the limit without buffering it, and reads on after it', async () => {
    const a = members('3', 1);
    const b = members('3', 2);
    // 3 MiB without a newline: three times the default limit, spread over many read chunks.
    const huge = `{"v":1,"kind":"post","pad":"${'x'.repeat(3 * 1024 * 1024)}"}`;
    const path = capture(`${encodeLine(a)}${huge}\n${encodeLine(b)}${huge}`);
    const lines = await readAll(path);
    expect(lines.map((l) => [l.line, l.event ?? l.error])).toEqual([
      [1, a],
      [2, expect.stringMatching(/line of 3145\d+ bytes is longer than the limit of 1048576/)],
      [3, b],
      [4, expect.stringMatching(/longer than the limit/)],
    ]);
  });

  it('takes a smaller line limit when asked', async () => {
    const a = members('3', 1);
    const lines = await readAll(capture(encodeLine(a)), { maxLineBytes: 50 });
    expect(lines).toEqual([{ line: 1, error: expect.stringMatching(/limit of 50/) }]);
  });

  it('stops reading when the signal aborts', async () => {
    const path = capture(Array.from({ length: 100 }, (_, i) => encodeLine(members('4', i))).join(''));
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const l of readEvents(path, { signal: ac.signal })) {
      seen.push(l.line);
      if (l.line === 10) ac.abort();
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('fails as a whole, saying so, when the file does not exist', async () => {
    const read = readAll(join(dir, 'missing.jsonl'));
    await expect(read).rejects.toBeInstanceOf(CaptureFileError);
    await expect(read).rejects.toThrow(/missing\.jsonl: it does not exist/);
  });
});
