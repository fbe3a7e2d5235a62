/**
 * A small, deterministic raw-event stream for operator tests: a few channels
 * posting, being polled every 15 minutes, with delivery jitter (some of it
 * beyond the allowed lateness), redeliveries, a views surge and a channel
 * that falls silent. Test-only; the real simulator lives in ingest/.
 */
import type { RawEvent, Source } from '../../streams/contract/index.ts';

const M = 60_000;
const H = 60 * M;

export interface StreamOptions {
  seed: number;
  hours: number;
  start?: number;
  channels?: string[];
  /** Channel whose recent posts gain a burst of views during [surgeFromHour, surgeFromHour + 3h). */
  surgeChannel?: string;
  surgeFromHour?: number;
  /** Channel that stops posting (but is still polled) from this hour on. */
  silentChannel?: string;
  silentFromHour?: number;
  /** Probability that an event is delayed by 0–30 min, and that it is delivered twice. */
  jitter?: number;
  duplicates?: number;
  source?: Source;
}

/** mulberry32: a tiny seeded PRNG, so fixtures are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the stream in delivery order. */
export function makeStream(o: StreamOptions): RawEvent[] {
  const rnd = prng(o.seed);
  const start = o.start ?? Date.UTC(2024, 0, 1);
  const channels = o.channels ?? ['-1001', '-1002', '-1003'];
  const source = o.source ?? 'simulator';
  const timed: { at: number; seq: number; e: RawEvent }[] = [];
  let seq = 0;
  const push = (e: RawEvent) => {
    const delayed = rnd() < (o.jitter ?? 0.05) ? Math.floor(rnd() * 30 * M) : 0;
    timed.push({ at: e.observed_at + delayed, seq: seq++, e });
    if (rnd() < (o.duplicates ?? 0.03))
      timed.push({ at: e.observed_at + delayed + Math.floor(rnd() * 5 * M), seq: seq++, e });
  };
  for (const [ci, ch] of channels.entries()) {
    const posts: { id: number; date: number; reach: number }[] = [];
    let members = 1000 * (ci + 1);
    let nextPost = start + Math.floor(rnd() * 3 * H);
    for (let t = start; t < start + o.hours * H; t += 15 * M) {
      const hour = (t - start) / H;
      const silent = ch === o.silentChannel && hour >= (o.silentFromHour ?? Infinity);
      while (!silent && nextPost <= t) {
        const id = posts.length + 1;
        const p = { id, date: nextPost, reach: 500 + Math.floor(rnd() * 500) };
        posts.push(p);
        push({
          v: 1,
          kind: 'post',
          id: `post:${ch}:${id}`,
          channel_id: ch,
          event_time: p.date,
          observed_at: p.date + 2 * M,
          source,
          data: {
            post_id: id,
            date: p.date,
            edit_date: null,
            text_length: 100,
            media_type: 'photo',
            grouped_id: null,
            forward_from: null,
            mentions: [],
            links: [],
            hashtags: [],
            counters: { views: 5, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
          },
        });
        nextPost += Math.floor((1.5 + rnd() * 3) * H);
      }
      const surge =
        ch === o.surgeChannel && hour >= (o.surgeFromHour ?? Infinity) && hour < (o.surgeFromHour ?? Infinity) + 3;
      for (const p of posts) {
        const age = t - p.date;
        if (age <= 0 || age > 3 * 24 * H) continue;
        // A surge (a repost by a big channel) adds lasting reach to the recent posts.
        if (surge && age < 24 * H) p.reach += 2000;
        const views = Math.round(p.reach * (1 - Math.exp(-age / (8 * H)))) + 5;
        const likes = Math.floor(views / 100);
        push({
          v: 1,
          kind: 'post_counters',
          id: `pc:${ch}:${p.id}:${t}`,
          channel_id: ch,
          event_time: t,
          observed_at: t,
          source,
          data: {
            post_id: p.id,
            post_date: p.date,
            views,
            forwards: Math.floor(views / 200),
            replies: Math.floor(views / 300),
            reactions_total: likes,
            reactions: likes ? { '👍': likes } : {},
          },
        });
      }
      members += Math.floor(rnd() * 7) - 2;
      push({
        v: 1,
        kind: 'channel_members',
        id: `cm:${ch}:${t}`,
        channel_id: ch,
        event_time: t,
        observed_at: t,
        source,
        data: { members },
      });
    }
  }
  timed.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return timed.map((x) => x.e);
}
