/**
 * Hostile events: 10,000 malformed or hostile raw messages, generated from a
 * seed (fast-check), published to TG_RAW on the real subjects of tracked
 * channels, interleaved with good events, through the real processors and
 * sinks into the warehouse. Each must land in dead_letters with the reason
 * its class calls for (a schema reason names the field), nothing may crash,
 * and every good event must be stored, and derived from, exactly once.
 *
 * What cannot even be published: NATS refuses a message over the server's
 * max_payload (1 MiB) at the client, before it is sent. Nothing of it reaches
 * TG_RAW, so there is nothing to dead-letter downstream; the producer gets the
 * error (tgpulse's own publisher splits batches at 256 KiB, so only a single
 * event over 1 MiB can meet it). A million-character string in a message that
 * still fits is published and dead-lettered like any other schema violation.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConsumers } from '../../streams/consumers.ts';
import type { PostCountersEvent } from '../../streams/contract/events.ts';
import { eventId } from '../../streams/contract/ids.ts';
import { eventSubject } from '../../streams/contract/subjects.ts';
import { recordSummary } from '../support/fault-summary.ts';
import {
  HOSTILE_CLASSES,
  HUGE_STRING_CHARS,
  type HostileContext,
  type HostileMessage,
  seededDraw,
} from '../support/hostile-events.ts';
import { startTestNats, tempDir, type TestNats } from '../support/nats.ts';
import { startPipeline, type TestPipeline } from '../support/pipeline.ts';

const SEED = 14;
const CHANNELS = ['1009100001', '1009100002'];
const POSTS = [1, 2, 3];
const T0 = Date.UTC(2026, 5, 1, 12);
const MINUTE = 60_000;
/** Good batches; the hostile messages are spread evenly between them. */
const STEPS = 100;
/** A post id no good event uses: templates of hostile events are about it. */
const HOSTILE_POST = 900_001;
/** Good events riding in a hostile batch each get a post of their own, from here on. */
const COMPANION_POSTS = 10_000;
/** Object.prototype before any hostile input: it must look the same after. */
const PROTOTYPE_BEFORE = Object.getOwnPropertyNames(Object.prototype).sort();

function counters(channel: string, postId: number, minute: number, views: number, id?: string): PostCountersEvent {
  const t = T0 + minute * MINUTE;
  return {
    v: 1,
    kind: 'post_counters',
    id: id ?? eventId('pc', channel, postId, t),
    channel_id: channel,
    event_time: t,
    observed_at: t,
    source: 'simulator',
    data: {
      post_id: postId,
      post_date: T0,
      views,
      forwards: 1,
      replies: 0,
      reactions_total: 2,
      reactions: { '👍': 2 },
    },
  };
}

/** What was published as hostile, by stream sequence. */
interface Sent {
  cls: string;
  message: HostileMessage;
}

describe('10,000 hostile raw messages among good events', () => {
  let nats: TestNats;
  let pipe: TestPipeline;
  const good: PostCountersEvent[] = [];
  const sent = new Map<number, Sent>();
  /** Messages the client refused to publish (over max_payload), with the error. */
  const refused: string[] = [];
  const seconds: Record<string, number> = {};

  beforeAll(async () => {
    nats = await startTestNats();
    pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('hostile'), env: { TGPULSE_PARTITIONS: '2' } });
    pipe.startRoles();
    const partitions = pipe.config.streams.partitions;
    const draw = seededDraw(SEED);
    let hostileSeq = 0;
    let companions = 0;
    const ctxFor = (channel: string, step: number): HostileContext => ({
      template: () => counters(channel, HOSTILE_POST, step, 10, `h_${hostileSeq++}`),
      companion: () => counters(channel, COMPANION_POSTS + companions++, step, 50),
      published: () => {
        const own = good.filter((e) => e.channel_id === channel);
        return own[hostileSeq++ % own.length];
      },
      otherChannel: CHANNELS.find((c) => c !== channel)!,
      now: Date.now(),
    });
    // The whole run's hostile messages, in a seeded order, spread over the good steps.
    const plan = HOSTILE_CLASSES.flatMap(([cls, n]) => Array.from({ length: n }, (_, i) => ({ cls, i })));
    const indices = plan.map((_, i) => i);
    const order = draw(fc.shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length }));
    const perStep = Math.ceil(plan.length / STEPS);

    const started = Date.now();
    for (let step = 0; step < STEPS; step++) {
      const batch = CHANNELS.flatMap((c) => POSTS.map((p) => counters(c, p, step, 100 + step * 10 + p)));
      await pipe.publisher.publish(batch);
      await pipe.publisher.flush();
      good.push(...batch);
      const inFlight: Array<Promise<void>> = [];
      for (const k of order.slice(step * perStep, (step + 1) * perStep)) {
        const { cls, i } = plan[k];
        const channel = CHANNELS[i % CHANNELS.length];
        const message = cls.build(ctxFor(channel, step), draw, i);
        if (message.good) good.push(message.good);
        const subject = eventSubject('post_counters', channel, partitions);
        inFlight.push(publishHostile(pipe.nats.js, subject, message, `hostile-${k}`, cls.name, sent));
      }
      await Promise.all(inFlight);
    }
    // Over max_payload: refused by the client before anything is sent.
    for (let i = 0; i < 4; i++) {
      const payload = Buffer.from(
        JSON.stringify([{ ...counters(CHANNELS[0], HOSTILE_POST, 0, 1), id: 'é'.repeat(HUGE_STRING_CHARS) }]),
      );
      await pipe.nats.js
        .publish(eventSubject('post_counters', CHANNELS[0], partitions), payload, { msgID: `too-big-${i}` })
        .then(
          () => refused.push('accepted'),
          (err: unknown) => refused.push(String((err as Error).message)),
        );
    }
    seconds.publish = (Date.now() - started) / 1000;
    await pipe.waitIdle(240_000);
    seconds.total = (Date.now() - started) / 1000;
  });

  afterAll(async () => {
    await pipe?.close();
    await nats?.stop();
  });

  it('dead-letters every hostile message with the reason of its class, naming the field', async () => {
    const rows = await pipe.warehouse.query<{ seq: string | number; reason: string; detail: string; stage: string }>(
      "SELECT seq, reason, detail, stage FROM dead_letters FINAL WHERE stream = 'TG_RAW'",
    );
    const bySeq = new Map<number, Array<{ reason: string; detail: string; stage: string }>>();
    for (const r of rows) {
      const seq = Number(r.seq);
      bySeq.set(seq, [...(bySeq.get(seq) ?? []), r]);
    }
    expect(sent.size).toBe(10_000);
    const outcomes = new Map<string, Map<string, number>>();
    const mismatches: string[] = [];
    for (const [seq, { cls, message }] of sent) {
      const letters = bySeq.get(seq) ?? [];
      const ok =
        letters.length === 1 &&
        letters[0].stage === 'process' &&
        letters[0].reason === message.reason &&
        letters[0].detail.includes(message.detail);
      if (!ok && mismatches.length < 5)
        mismatches.push(
          `${cls} seq ${seq}: expected ${message.reason} (${message.detail}), got ${JSON.stringify(letters)}`,
        );
      const of = outcomes.get(cls) ?? new Map<string, number>();
      const key = letters.map((l) => `${l.reason}`).join('+') || 'none';
      of.set(key, (of.get(key) ?? 0) + 1);
      outcomes.set(cls, of);
    }
    expect(mismatches).toEqual([]);
    // Nothing else was dead-lettered: no good event, and no stage after the processor.
    expect(rows.length).toBe(sent.size);

    for (const [cls, n] of HOSTILE_CLASSES) {
      const of = outcomes.get(cls.name)!;
      const fields = new Set([...sent.values()].filter((s) => s.cls === cls.name).map((s) => s.message.detail));
      const named = [...fields].filter((f) => f.startsWith('/'));
      recordSummary({
        section: 'hostile input',
        what: cls.name,
        count: n + (cls.name === '1 MB strings' ? refused.length : 0),
        outcome:
          `dead-lettered: ${[...of].map(([reason, k]) => `${reason} ${k}`).join(', ')}` +
          (named.length
            ? ` (${named.length} fields named: ${named.slice(0, 4).join(', ')}${named.length > 4 ? '…' : ''})`
            : '') +
          (cls.name === '1 MB strings' ? `; ${refused.length} over max_payload refused at publish` : ''),
      });
    }
    recordSummary({
      section: 'hostile input',
      what: 'hostile raw messages, all classes',
      count: sent.size,
      outcome: `each dead-lettered once with its reason; ${good.length} good events stored once; ${seconds.total.toFixed(0)} s`,
    });
    console.log(
      `hostile events: published in ${seconds.publish.toFixed(1)} s, all handled in ${seconds.total.toFixed(1)} s`,
    );
  });

  it('refuses a message over max_payload at the client, before it reaches the stream', () => {
    expect(refused).toHaveLength(4);
    for (const e of refused) expect(e).toMatch(/payload/i);
  });

  it('stores every good event exactly once, unchanged by the hostile ones reusing its id', async () => {
    const ids = good.map((e) => e.id);
    const rows = await pipe.warehouse.query<{ id: string; n: string | number; views: string | number }>(
      'SELECT id, count() AS n, any(views) AS views FROM raw_post_counters FINAL WHERE id IN {ids:Array(String)} GROUP BY id',
      { ids },
    );
    expect(rows.length).toBe(good.length);
    const views = new Map(good.map((e) => [e.id, e.data.views]));
    for (const r of rows) {
      expect(Number(r.n), r.id).toBe(1);
      expect(Number(r.views), r.id).toBe(views.get(r.id));
    }
    // Every raw row outside the hostile post is a good event: no hostile one was stored beside them.
    // (Far-future events of the hostile post are valid by the contract: the raw sink keeps them; the
    // processor refuses them.)
    const [all] = await pipe.warehouse.query<{ n: string | number }>(
      `SELECT count() AS n FROM raw_post_counters FINAL WHERE post_id != ${HOSTILE_POST}`,
    );
    expect(Number(all.n)).toBe(good.length);
  });

  it('derives exactly one delta from every good event, and no window sees the far future', async () => {
    const rows = await pipe.warehouse.query<{ source_id: string; n: string | number }>(
      'SELECT source_id, count() AS n FROM post_deltas FINAL WHERE source_id IN {ids:Array(String)} GROUP BY source_id',
      { ids: good.map((e) => e.id) },
    );
    expect(rows.length).toBe(good.length);
    for (const r of rows) expect(Number(r.n), r.source_id).toBe(1);
    const [deltas] = await pipe.warehouse.query<{ n: string | number }>('SELECT count() AS n FROM post_deltas FINAL');
    expect(Number(deltas.n)).toBe(good.length);
    const [late] = await pipe.warehouse.query<{ latest: string | number }>(
      'SELECT toUnixTimestamp64Milli(max(window_end)) AS latest FROM window_aggs FINAL',
    );
    expect(Number(late.latest)).toBeLessThan(T0 + STEPS * MINUTE + 3 * 24 * 3600_000);
  });

  it('leaves Object.prototype clean', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_BEFORE);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('keeps every role running and consuming, with nothing redelivered', async () => {
    const last = CHANNELS.map((c) => counters(c, 1, STEPS, 100 + STEPS * 10 + 1));
    await pipe.publisher.publish(last);
    await pipe.publisher.flush();
    await pipe.waitIdle();
    const [row] = await pipe.warehouse.query<{ n: string | number }>(
      'SELECT count() AS n FROM raw_post_counters FINAL WHERE id IN {ids:Array(String)}',
      { ids: last.map((e) => e.id) },
    );
    expect(Number(row.n)).toBe(last.length);
    for (const stream of ['TG_RAW', 'TG_DERIVED', 'TG_DLQ']) {
      for (const info of await listConsumers(pipe.nats.jsm, stream)) {
        expect(info.num_redelivered, `${stream} ${info.name}`).toBe(0);
        expect(info.num_ack_pending, `${stream} ${info.name}`).toBe(0);
      }
    }
  });
});

/** Publishes one hostile message and notes its stream sequence, to find its dead letter by. */
async function publishHostile(
  js: JetStreamClient,
  subject: string,
  message: HostileMessage,
  msgID: string,
  cls: string,
  sent: Map<number, Sent>,
): Promise<void> {
  const ack = await js.publish(subject, message.payload, { msgID, timeout: 30_000 });
  sent.set(ack.seq, { cls, message });
}
