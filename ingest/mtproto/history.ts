/**
 * History: a channel's posts from the newest down to a date, 100 per
 * messages.getHistory page, published as `post` events with the counters seen
 * with them.
 *
 * The backfill is resumable: its cursor (the lowest post id published) is
 * saved in the registry only after JetStream acknowledged the page, so a crash
 * repeats at most one page, and the repeat deduplicates by event id. After a
 * restart, the recent scan reads the posts still young enough to poll, since
 * the poller's list of posts lives in memory.
 */
import bigInt from 'big-integer';
import { Api } from 'telegram';
import type { PostEvent } from '../../streams/contract/index.ts';
import { saveBackfillCursor, saveLastPostId } from '../../control/index.ts';
import { postEvent } from './parse.ts';
import { firstRead } from './live-updates.ts';
import { maxPollAge } from './schedule.ts';
import { inputPeer, trackPost, type ChannelWork, type JobContext } from './work.ts';
import { DAY_MS } from '../../common/index.ts';

const PAGE = 100;

/** Progress of a backfill, for the terminal's progress line and logs. */
export interface BackfillProgress {
  channelId: string;
  posts: number;
  /** Date of the oldest post read so far (ms). */
  reachedMs: number | null;
  /** Where it stops (ms). */
  untilMs: number;
  done: boolean;
}

interface Page {
  events: PostEvent[];
  /** The lowest post id on the page (the next page's offset), or the offset itself when empty. */
  lowest: number;
  /** The history ends on this page (short page, or a post older than `untilMs`). */
  end: boolean;
  reachedMs: number | null;
}

/** Reads and publishes one page below `offsetId` (0 = from the newest), keeping posts not older than `untilMs`. */
async function readPage(ctx: JobContext, work: ChannelWork, offsetId: number, untilMs: number): Promise<Page> {
  const ch = work.channel;
  const answer = await ctx.account.call(
    new Api.messages.GetHistory({
      peer: inputPeer(ch),
      offsetId,
      limit: PAGE,
      addOffset: 0,
      maxId: 0,
      minId: 0,
      offsetDate: 0,
      hash: bigInt(0),
    }),
    { signal: ctx.signal },
  );
  // Read when Telegram answered, not when the call started: it may have waited on the rate limit.
  const readAt = ctx.clock();
  const messages = 'messages' in answer ? answer.messages : [];
  const page: Page = { events: [], lowest: offsetId, end: messages.length < PAGE, reachedMs: null };
  const pollAge = maxPollAge(ctx.schedule.freshness);
  for (const msg of messages) {
    if (page.lowest === 0 || msg.id < page.lowest) page.lowest = msg.id;
    if (!(msg instanceof Api.Message)) continue;
    const dateMs = msg.date * 1000;
    if (dateMs < untilMs) {
      page.end = true;
      continue;
    }
    const event = postEvent(msg, { channelId: ch.channelId, observedAt: readAt });
    if (!event) continue;
    page.events.push(event);
    if (readAt - dateMs < pollAge) trackPost(work, msg.id, dateMs, firstRead(work, msg, dateMs, readAt));
    page.reachedMs = Math.min(page.reachedMs ?? dateMs, dateMs);
  }
  // A page without a lower id than the cursor would loop forever: treat it as the end.
  if (messages.length && page.lowest === offsetId) page.end = true;
  await ctx.emit('history', page.events, readAt);
  if (offsetId === 0 && messages.length)
    await saveLastPostId(ctx.control, ch.channelId, Math.max(...messages.map((m) => m.id)));
  return page;
}

/**
 * Reads up to `schedule.backfillPagesPerStep` pages of history, publishes
 * them, saves the cursor. Returns the progress; `done` once the history
 * reaches `backfill_until` (default: `schedule.backfillDays` back) or the
 * channel's first post.
 */
export async function backfillStep(
  ctx: JobContext,
  work: ChannelWork,
  onProgress?: (p: BackfillProgress) => void,
): Promise<BackfillProgress> {
  const ch = work.channel;
  const untilMs = ch.backfillUntil ?? ctx.clock() - ctx.schedule.backfillDays * DAY_MS;
  const progress: BackfillProgress = {
    channelId: ch.channelId,
    posts: 0,
    reachedMs: null,
    untilMs,
    done: ch.backfillDone,
  };
  for (let n = 0; n < ctx.schedule.backfillPagesPerStep && !progress.done && !ctx.signal?.aborted; n++) {
    const page = await readPage(ctx, work, ch.backfillOffsetId ?? 0, untilMs);
    progress.posts += page.events.length;
    if (page.reachedMs !== null) progress.reachedMs = Math.min(progress.reachedMs ?? page.reachedMs, page.reachedMs);
    progress.done = page.end;
    await saveBackfillCursor(ctx.control, ch.channelId, { offsetId: page.lowest, done: page.end });
    ch.backfillOffsetId = page.lowest;
    ch.backfillDone = page.end;
    onProgress?.(progress);
  }
  return progress;
}

/** Reads the posts young enough to be polled, newest first, so the poller knows them again. */
export async function scanRecent(ctx: JobContext, work: ChannelWork): Promise<number> {
  const untilMs = ctx.clock() - maxPollAge(ctx.schedule.freshness);
  let offsetId = 0;
  let posts = 0;
  for (let n = 0; n < 50 && !ctx.signal?.aborted; n++) {
    const page = await readPage(ctx, work, offsetId, untilMs);
    posts += page.events.length;
    if (page.end) break;
    offsetId = page.lowest;
  }
  return posts;
}
