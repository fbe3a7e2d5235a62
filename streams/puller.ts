/**
 * Batches from a durable pull consumer: messages are pulled continuously
 * (`consume()`), buffered up to a high-water mark in messages and in bytes,
 * and handed out as batches of at most `maxBatch` messages and about
 * `maxBatchBytes`, or whatever arrived within `maxWaitMs` of the first one.
 * Acks are the caller's job, after its work is durable.
 *
 * Why bytes: messages are coalesced batches of 1 KiB to 256 KiB. A buffer
 * bounded only in messages held hundreds of MiB for a sink, and what the
 * client has not read yet queues on the server ahead of everything else on
 * the connection (publish acks timed out behind it).
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { sleep } from '../common/index.ts';
import { isTransientNatsError, retryNats } from './nats-errors.ts';

export interface PullerOptions {
  maxBatch: number;
  /** A batch stops growing once it holds this many payload bytes (default 8 MiB; one message at least). */
  maxBatchBytes?: number;
  /** Upper bound on the wait for a batch to fill once it has a message. */
  maxWaitMs: number;
  /** Messages buffered before pulling pauses (backpressure; default 4 batches). */
  highWater?: number;
  /** Payload bytes buffered before pulling pauses (default 2 batches' bytes). */
  highWaterBytes?: number;
  /** Messages requested per pull (default 64). */
  maxPull?: number;
  /** Told each time delivery had to be restarted (for logs and metrics). */
  onRestart?: (restarts: number) => void;
  signal: AbortSignal;
}

export class BatchPuller {
  #buf: JsMsg[] = [];
  #bufBytes = 0;
  /** The caller waiting in `next()` and how many buffered messages end its wait. */
  #waiter: { min: number; wake: () => void } | null = null;
  #resume: (() => void) | null = null;
  #messages: ConsumerMessages | null = null;
  #done = false;
  #error: unknown = null;
  readonly #highWater: number;
  readonly #highWaterBytes: number;
  readonly #maxBatchBytes: number;
  #endPump!: () => void;
  readonly #pumpEnded = new Promise<void>((resolve) => (this.#endPump = resolve));
  /** Times delivery ended unasked and was restarted. */
  restarts = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly opts: PullerOptions,
  ) {
    this.#highWater = opts.highWater ?? opts.maxBatch * 4;
    this.#maxBatchBytes = opts.maxBatchBytes ?? 8 * 1024 * 1024;
    this.#highWaterBytes = opts.highWaterBytes ?? this.#maxBatchBytes * 2;
    opts.signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  async start(): Promise<void> {
    try {
      this.#messages = await retryNats(() => this.#consume(), { signal: this.opts.signal });
    } catch (err) {
      this.#done = true;
      this.#endPump();
      throw err;
    }
    if (this.#done) {
      // Stopped while the first pull was being set up.
      this.#messages.stop();
      this.#endPump();
      return;
    }
    void this.#pump();
  }

  /**
   * Pulls are bounded in messages, not bytes: coalesced batches can be 256 KiB,
   * and a pull of thousands of them would overrun the server's per-client
   * buffer (slow consumer), while byte-bounded pulls stalled in testing.
   */
  #consume(): Promise<ConsumerMessages> {
    return this.consumer.consume({ max_messages: Math.min(this.#highWater, this.opts.maxPull ?? 64) });
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#done) {
        try {
          for await (const m of this.#messages!) {
            this.#buf.push(m);
            this.#bufBytes += m.data.byteLength;
            if (this.#waiter && this.#full(this.#waiter.min)) this.#notify();
            // Not reading on holds the next pull request back: nats.js sends it from this iterator.
            while ((this.#buf.length >= this.#highWater || this.#bufBytes >= this.#highWaterBytes) && !this.#done)
              await new Promise<void>((r) => (this.#resume = r));
            if (this.#done) break;
          }
        } catch (err) {
          // A frozen or restarting server: pull again once it answers; anything else ends delivery.
          if (!isTransientNatsError(err)) throw err;
        }
        if (this.#done) break;
        // The client ended delivery without being asked to (a dropped pull,
        // missed heartbeats): start consuming again rather than go quiet.
        this.restarts++;
        this.opts.onRestart?.(this.restarts);
        await sleep(Math.min(5_000, 100 * this.restarts), this.opts.signal);
        if (!this.#done) this.#messages = await retryNats(() => this.#consume(), { signal: this.opts.signal });
      }
    } catch (err) {
      if (!this.#done) this.#error = err;
    } finally {
      this.#done = true;
      this.#notify();
      this.#endPump();
    }
  }

  /** At least `min` messages, or a batch's worth of bytes, are buffered. */
  #full(min: number): boolean {
    return this.#buf.length >= min || this.#bufBytes >= this.#maxBatchBytes;
  }

  #notify(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.wake();
  }

  /**
   * The next batch: empty when nothing arrived within `idleMs` (so the caller
   * can do its idle work, e.g. checkpoint) or once stopped. Throws if the
   * underlying consumer failed.
   */
  async next(idleMs = 1_000): Promise<JsMsg[]> {
    // First wait for anything at all, then briefly for the batch to fill.
    if (!this.#buf.length && !this.#done) await this.#waitFor(1, idleMs);
    if (this.#buf.length && !this.#full(this.opts.maxBatch) && !this.#done)
      await this.#waitFor(this.opts.maxBatch, this.opts.maxWaitMs);
    if (this.#error && !this.#buf.length) throw this.#error;
    let n = 0;
    let bytes = 0;
    while (
      n < this.#buf.length &&
      n < this.opts.maxBatch &&
      (n === 0 || bytes + this.#buf[n].data.byteLength <= this.#maxBatchBytes)
    )
      bytes += this.#buf[n++].data.byteLength;
    const batch = this.#buf.splice(0, n);
    this.#bufBytes -= bytes;
    const r = this.#resume;
    this.#resume = null;
    r?.();
    return batch;
  }

  #waitFor(min: number, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#waiter = null;
        resolve();
      }, ms);
      this.#waiter = {
        min,
        wake: () => {
          clearTimeout(t);
          resolve();
        },
      };
    });
  }

  get stopped(): boolean {
    return this.#done;
  }

  /** Stops pulling; buffered messages are dropped unacked (JetStream redelivers them). */
  stop(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#messages === null) this.#endPump();
    this.#messages?.stop();
    this.#resume?.();
    this.#notify();
  }

  /** Stops pulling and resolves once the pull loop has ended. */
  async close(): Promise<void> {
    this.stop();
    await this.closed();
  }

  /** Resolves when the pull loop has ended, asked or not. */
  closed(): Promise<void> {
    return this.#pumpEnded;
  }
}
