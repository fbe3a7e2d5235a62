/**
 * Batches from a durable pull consumer: messages are pulled continuously
 * (`consume()`), buffered up to a high-water mark, and handed out as batches
 * of at most `maxBatch` messages or whatever arrived within `maxWaitMs` of the
 * first one. Acks are the caller's job, after its work is durable.
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';

export interface PullerOptions {
  maxBatch: number;
  /** Upper bound on the wait for a batch to fill once it has a message. */
  maxWaitMs: number;
  /** Messages buffered before pulling pauses (backpressure). */
  highWater?: number;
  signal: AbortSignal;
}

export class BatchPuller {
  #buf: JsMsg[] = [];
  #wake: (() => void) | null = null;
  #resume: (() => void) | null = null;
  #messages: ConsumerMessages | null = null;
  #done = false;
  #error: unknown = null;
  readonly #highWater: number;

  constructor(
    private readonly consumer: Consumer,
    private readonly opts: PullerOptions,
  ) {
    this.#highWater = opts.highWater ?? opts.maxBatch * 4;
    opts.signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  async start(): Promise<void> {
    this.#messages = await this.consumer.consume({ max_messages: Math.min(this.#highWater, 10_000) });
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for await (const m of this.#messages!) {
        this.#buf.push(m);
        if (this.#buf.length >= this.opts.maxBatch) this.#notify();
        while (this.#buf.length >= this.#highWater && !this.#done) await new Promise<void>((r) => (this.#resume = r));
        if (this.#done) break;
      }
    } catch (err) {
      this.#error = err;
    } finally {
      this.#done = true;
      this.#notify();
    }
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** The next batch; empty once stopped. Throws if the underlying consumer failed. */
  async next(): Promise<JsMsg[]> {
    while (!this.#buf.length && !this.#done) await this.#waitFor(1_000);
    if (this.#buf.length && this.#buf.length < this.opts.maxBatch && !this.#done) await this.#waitFor(this.opts.maxWaitMs);
    if (this.#error && !this.#buf.length) throw this.#error;
    const batch = this.#buf.splice(0, this.opts.maxBatch);
    const r = this.#resume;
    this.#resume = null;
    r?.();
    return batch;
  }

  #waitFor(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  get stopped(): boolean {
    return this.#done;
  }

  stop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#messages?.stop();
    this.#resume?.();
    this.#notify();
  }
}
