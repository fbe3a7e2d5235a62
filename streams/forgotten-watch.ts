/**
 * The register of forgotten channels as the processors and sinks read it:
 * loaded once, then kept current by a KV watch, so that asking about an event
 * is a synchronous map lookup (the processor asks for every event). The
 * digest of each channel id is computed once and kept. The whole register is
 * read again now and then, so a watch that silently stopped delivering (a
 * server restart) delays a change by that much at most.
 *
 * ```ts
 * const forgotten = await ForgottenChannels.watch(kv, { log });
 * if (forgotten.isForgotten(event.channel_id, 'raw', msg.seq)) metrics.forgottenDropped.inc({ stage });
 * await forgotten.stop();
 * ```
 */
import type { KV } from '@nats-io/kv';
import { sleep } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';
import {
  channelDigest,
  dropsEvent,
  FORGOTTEN_PREFIX,
  parseForgottenEntry,
  type ForgottenEntry,
  type ForgottenStream,
} from './forgotten.ts';

/** What a stage asks of the register, synchronously. */
export interface ForgottenLookup {
  /** True when the event at `seq` of `stream` belongs to a forgotten channel and must be dropped. */
  isForgotten(channelId: string, stream: ForgottenStream, seq: number): boolean;
  /** Changes whenever the register does: a stage keeping per-channel state checks it again then. */
  readonly version: number;
}

/** Channel ids whose digest is kept; beyond, the cache starts over (a partition holds far fewer). */
const MAX_CACHED_DIGESTS = 200_000;

/** Wait before watching again after the watch ended on its own (a lost connection). */
const REWATCH_MS = 1000;

/** How often the whole register is read again by default, whatever the watch says. */
const RELOAD_MS = 30_000;

/** The register, kept current by a watch on its keys. */
export class ForgottenChannels implements ForgottenLookup {
  /** Entries by channel digest. */
  readonly #entries = new Map<string, ForgottenEntry>();
  /** Their stored text, to tell a real change from a watch redelivering what is known. */
  readonly #texts = new Map<string, string>();
  readonly #digests = new Map<string, string>();
  #version = 0;
  #watch: Awaited<ReturnType<KV['watch']>> | null = null;
  readonly #stopping = new AbortController();
  #loop: Promise<void> = Promise.resolve();
  #reloads: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly reloadMs: number,
  ) {}

  /**
   * Reads the whole register, then follows it. Resolves once the register is
   * loaded: a stage that starts after this drops every event the register says.
   */
  static async watch(kv: KV, opts: { log: Logger; reloadMs?: number }): Promise<ForgottenChannels> {
    const register = new ForgottenChannels(kv, opts.log, opts.reloadMs ?? RELOAD_MS);
    await register.#reload();
    register.#loop = register.#follow();
    register.#reloads = register.#reloadNowAndThen();
    return register;
  }

  get version(): number {
    return this.#version;
  }

  isForgotten(channelId: string, stream: ForgottenStream, seq: number): boolean {
    if (this.#entries.size === 0) return false;
    let digest = this.#digests.get(channelId);
    if (digest === undefined) {
      if (this.#digests.size >= MAX_CACHED_DIGESTS) this.#digests.clear();
      digest = channelDigest(channelId);
      this.#digests.set(channelId, digest);
    }
    const entry = this.#entries.get(digest);
    return entry !== undefined && dropsEvent(entry, stream, seq);
  }

  /** Stops following the register (before its connection closes). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#watch?.stop();
    await Promise.all([this.#loop, this.#reloads]);
  }

  /** Reads every key of the register; keys gone since are dropped. */
  async #reload(): Promise<void> {
    const texts = new Map<string, string>();
    for await (const key of await this.kv.keys(`${FORGOTTEN_PREFIX}>`)) {
      const e = await this.kv.get(key);
      if (e?.operation === 'PUT') texts.set(key, e.string());
    }
    for (const digest of [...this.#texts.keys()])
      if (!texts.has(`${FORGOTTEN_PREFIX}${digest}`)) this.#apply(`${FORGOTTEN_PREFIX}${digest}`, null);
    for (const [key, text] of texts) this.#apply(key, text);
  }

  async #reloadNowAndThen(): Promise<void> {
    const signal = this.#stopping.signal;
    for (;;) {
      await sleep(this.reloadMs, signal);
      if (signal.aborted) return;
      await this.#reload().catch((err: unknown) =>
        this.log.warn({ err: String(err) }, 'reading the register of forgotten channels failed; trying again later'),
      );
    }
  }

  async #follow(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      try {
        this.#watch = await this.kv.watch({ key: `${FORGOTTEN_PREFIX}>` });
        if (signal.aborted) this.#watch.stop();
        for await (const e of this.#watch) this.#apply(e.key, e.operation === 'PUT' ? e.string() : null);
      } catch (err) {
        if (!signal.aborted)
          this.log.warn({ err: String(err) }, 'watching the register of forgotten channels failed; watching again');
      }
      await sleep(REWATCH_MS, signal);
    }
  }

  /** Takes in a key's current text (null: deleted). */
  #apply(key: string, text: string | null): void {
    const digest = key.slice(FORGOTTEN_PREFIX.length);
    if ((this.#texts.get(digest) ?? null) === text) return;
    const entry = text === null ? null : parseForgottenEntry(text);
    if (text === null) this.#texts.delete(digest);
    else this.#texts.set(digest, text);
    if (entry === null) this.#entries.delete(digest);
    else this.#entries.set(digest, entry);
    if (text !== null && entry === null)
      this.log.error({ key }, 'unreadable entry in the register of forgotten channels; ignoring it');
    this.#version++;
  }
}
