/**
 * Record and replay on real parts: a simulation runs through pipeline A
 * (private nats-server, chDB), its TG_RAW is recorded to a capture file, and
 * the capture is replayed into pipeline B (its own nats-server and warehouse).
 * B's tables must hold the same figures as A's, apart from `source`; a second
 * replay must change nothing; a corrupted line must cost that line only.
 *
 * chDB allows one data folder per process, so A is closed before B opens.
 */
import { listConsumers } from '../../streams/consumers.ts';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { silentLogger } from '../../observability/log.ts';
import { defaultStreamsConfig } from '../../streams/config.ts';
import { rawEventPublisher } from '../../streams/publisher.ts';
import { sleep } from '../../common/retry.ts';
import { ensureStreams } from '../../streams/topology.ts';
import { startTestNats, tempDir, type TestNats } from '../../test/support/nats.ts';
import { startPipeline, type TestPipeline } from '../../test/support/pipeline.ts';
import { publishSimulation, type Published } from '../../test/support/simulation.ts';
import { Simulator } from '../simulator/simulator.ts';
import { readEvents } from './jsonl.ts';
import { record, type RecordStats } from './record.ts';
import { replay, type ReplayStats } from './replay.ts';
import { DAY_MS } from '../../common/index.ts';

const START = Date.UTC(2026, 1, 2);
/** A few channels over a couple of days: every kind of figure, in seconds. */
const CHANNELS = 4;
const DAYS = 2;
/** The recorder stops once TG_RAW has had nothing new for this long. */
const IDLE_MS = 1_500;

/**
 * Every table a user can query, without the columns that differ by design:
 * `ingested_at` (time of the write) and `source` (simulator in A, replay in B).
 */
const TABLES: Record<string, string> = {
  raw_posts: 'SELECT * EXCEPT (ingested_at, source) FROM raw_posts FINAL ORDER BY id',
  raw_post_counters: 'SELECT * EXCEPT (ingested_at, source) FROM raw_post_counters FINAL ORDER BY id',
  raw_channel_members: 'SELECT * EXCEPT (ingested_at, source) FROM raw_channel_members FINAL ORDER BY id',
  raw_channel_stats: 'SELECT * EXCEPT (ingested_at, source) FROM raw_channel_stats FINAL ORDER BY id',
  post_deltas: 'SELECT * EXCEPT (ingested_at, source) FROM post_deltas FINAL ORDER BY id',
  window_aggs: 'SELECT * EXCEPT (ingested_at, source) FROM window_aggs FINAL ORDER BY channel_id, window, window_start',
  trends: 'SELECT * EXCEPT (ingested_at, source) FROM trends FINAL ORDER BY id',
  anomaly_events: 'SELECT * EXCEPT (ingested_at, source) FROM anomaly_events FINAL ORDER BY id',
  dead_letters: 'SELECT id, stage, reason, detail, subject FROM dead_letters FINAL ORDER BY id',
  channel_hourly: 'SELECT * FROM channel_hourly FINAL ORDER BY channel_id, window_start',
  channel_daily: 'SELECT * FROM channel_daily FINAL ORDER BY channel_id, window_start',
  post_summary:
    'SELECT channel_id, post_id, argMaxMerge(views) AS v, argMaxMerge(forwards) AS f, argMaxMerge(replies) AS r, argMaxMerge(reactions_total) AS rt FROM post_summary GROUP BY channel_id, post_id ORDER BY channel_id, post_id',
};

type Dump = Record<string, unknown[]>;

async function dumpTables(wh: Warehouse): Promise<Dump> {
  const out: Dump = {};
  for (const [name, sql] of Object.entries(TABLES)) out[name] = await wh.query(sql);
  return out;
}

async function rawSources(wh: Warehouse): Promise<string[]> {
  const rows = await wh.query<{ source: string }>(
    `SELECT DISTINCT source FROM (SELECT source FROM raw_posts UNION ALL SELECT source FROM raw_post_counters UNION ALL SELECT source FROM raw_channel_members) ORDER BY source`,
  );
  return rows.map((r) => r.source);
}

/** Ids of a capture's valid lines, in file order. */
async function captureIds(path: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const l of readEvents(path)) if (l.event) ids.push(l.event.id);
  return ids;
}

async function consumerNames(jsm: JetStreamManager): Promise<string[]> {
  const names: string[] = [];
  for (const c of await listConsumers(jsm, defaultStreamsConfig.names.raw)) names.push(c.name);
  return names;
}

describe("record a pipeline's TG_RAW and replay it into a fresh pipeline (real NATS, real chDB)", () => {
  const dir = tempDir('record-replay');
  const file = join(dir, 'capture.jsonl');
  let natsA: TestNats;
  let natsB: TestNats;
  let pipeB: TestPipeline;
  let published: Published;
  let recorded: RecordStats;
  let consumersAfterRecording: string[];
  let tablesA: Dump;
  let tablesB: Dump;
  let firstReplay: ReplayStats;

  beforeAll(async () => {
    natsA = await startTestNats();
    const pipeA = await startPipeline({ natsUrl: natsA.url, dataDir: join(dir, 'a') });
    try {
      pipeA.startRoles();
      published = await publishSimulation(
        pipeA,
        new Simulator({ seed: 17, channels: CHANNELS, start: START, durationMs: DAYS * DAY_MS }),
      );
      recorded = await record({
        js: pipeA.nats.js,
        streams: pipeA.config.streams,
        file,
        from: 'all',
        idleMs: IDLE_MS,
        signal: new AbortController().signal,
        log: silentLogger,
      });
      consumersAfterRecording = await consumerNames(pipeA.nats.jsm);
      await pipeA.waitIdle(300_000);
      tablesA = await dumpTables(pipeA.warehouse);
    } finally {
      await pipeA.close();
    }

    natsB = await startTestNats();
    pipeB = await startPipeline({ natsUrl: natsB.url, dataDir: join(dir, 'b') });
    pipeB.startRoles();
    firstReplay = await replay({
      file,
      publisher: pipeB.publisher,
      partitions: pipeB.config.streams.partitions,
      speed: Infinity,
      log: silentLogger,
    });
    await pipeB.waitIdle(300_000);
    tablesB = await dumpTables(pipeB.warehouse);
  }, 600_000);

  afterAll(async () => {
    await pipeB?.close();
    await natsB?.stop();
    await natsA?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records every published event once, one line each, and leaves no consumer behind', async () => {
    const ids = await captureIds(file);
    const publishedIds = [...published.idsByKind.values()].flatMap((s) => [...s]);
    expect(ids.length).toBe(published.events);
    expect(new Set(ids)).toEqual(new Set(publishedIds));
    expect(recorded).toMatchObject({ events: published.events, invalid: 0, stoppedBy: 'idle', firstSeq: 1 });
    expect(readFileSync(file, 'utf8').split('\n').length - 1).toBe(published.events);
    expect(consumersAfterRecording.filter((n) => n.startsWith('tgpulse_record'))).toEqual([]);
  });

  it('replays the capture whole, without invalid lines', () => {
    expect(firstReplay).toMatchObject({ events: published.events, invalidLines: 0, invalid: [], aborted: false });
  });

  it('gives the fresh pipeline the same raw, derived and serving tables, apart from source', () => {
    expect(tablesA.raw_post_counters.length).toBeGreaterThan(1000);
    expect(tablesA.channel_hourly.length).toBeGreaterThanOrEqual(CHANNELS * DAYS * 24 - CHANNELS);
    for (const name of Object.keys(TABLES))
      expect({ name, rows: tablesB[name] }).toEqual({ name, rows: tablesA[name] });
  });

  it('marks what it replayed as source replay', async () => {
    expect(await rawSources(pipeB.warehouse)).toEqual(['replay']);
  });

  it('changes nothing when the same capture is replayed again', async () => {
    const before = { published: pipeB.publisher.published, duplicates: pipeB.publisher.duplicates };
    const again = await replay({
      file,
      publisher: pipeB.publisher,
      partitions: pipeB.config.streams.partitions,
      speed: Infinity,
      log: silentLogger,
    });
    await pipeB.waitIdle(300_000);
    expect(again.events).toBe(firstReplay.events);
    // Same ids in the same batches: JetStream drops every message as a duplicate.
    const sent = pipeB.publisher.published - before.published;
    expect(sent).toBeGreaterThan(0);
    expect(pipeB.publisher.duplicates - before.duplicates).toBe(sent);
    expect(await dumpTables(pipeB.warehouse)).toEqual(tablesB);
  });

  describe('a capture with a corrupted line, replayed into an empty TG_RAW', () => {
    let natsC: TestNats;
    let nc: NatsConnection;
    let corruptedLine: number;
    let originalIds: string[];
    let stats: ReplayStats;
    let replayedIds: string[];

    beforeAll(async () => {
      const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
      corruptedLine = Math.floor(lines.length / 2) + 1;
      originalIds = lines.map((l) => (JSON.parse(l) as { id: string }).id);
      // Cut in the middle, like a disk that lost part of a block.
      lines[corruptedLine - 1] = lines[corruptedLine - 1].slice(0, 40);
      const broken = join(dir, 'broken.jsonl');
      writeFileSync(broken, `${lines.join('\n')}\n`);

      natsC = await startTestNats();
      nc = await connect({ servers: natsC.url });
      const jsm = await jetstreamManager(nc);
      await ensureStreams(jsm, defaultStreamsConfig);
      const s = defaultStreamsConfig;
      const publisher = rawEventPublisher(jetstream(nc), s);
      stats = await replay({ file: broken, publisher, partitions: s.partitions, speed: Infinity, log: silentLogger });
      const again = join(dir, 'rerecorded.jsonl');
      await record({
        js: jetstream(nc),
        streams: s,
        file: again,
        from: 'all',
        idleMs: IDLE_MS,
        signal: new AbortController().signal,
        log: silentLogger,
      });
      replayedIds = await captureIds(again);
    }, 120_000);

    afterAll(async () => {
      await nc?.close();
      await natsC?.stop();
    });

    it('publishes every other event and reports the corrupted line by its number', () => {
      expect(stats.invalidLines).toBe(1);
      expect(stats.invalid).toEqual([{ line: corruptedLine, error: expect.stringMatching(/malformed JSON/) }]);
      expect(stats.events).toBe(originalIds.length - 1);
      expect(new Set(replayedIds)).toEqual(new Set(originalIds.filter((_, i) => i !== corruptedLine - 1)));
      expect(replayedIds.length).toBe(originalIds.length - 1);
    });

    it('stops a recording on the signal with whole lines only, and deletes its consumer', async () => {
      const ac = new AbortController();
      const partial = join(dir, 'partial.jsonl');
      const recording = record({
        js: jetstream(nc),
        streams: defaultStreamsConfig,
        file: partial,
        from: 'all',
        signal: ac.signal,
        log: silentLogger,
      });
      // Without idleMs only the signal ends it: abort once lines are coming in.
      while (!existsSync(partial) || statSync(partial).size === 0) await sleep(20);
      ac.abort();
      const done = await recording;
      expect(done.stoppedBy).toBe('signal');
      expect(done.events).toBeGreaterThan(0);
      const lines: Array<{ error?: string }> = [];
      for await (const l of readEvents(partial)) lines.push(l);
      expect(lines.filter((l) => l.error)).toEqual([]);
      expect(lines.length).toBe(done.events);
      expect(readFileSync(partial, 'utf8').endsWith('\n')).toBe(true);
      expect((await consumerNames(await jetstreamManager(nc))).filter((n) => n.startsWith('tgpulse_record'))).toEqual(
        [],
      );
    });
  });
});
