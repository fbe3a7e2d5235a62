/**
 * Remember the result of an async computation per key for a short time, and
 * let concurrent callers of the same key share one computation (single
 * flight). Failures are not remembered, but callers already waiting share
 * them. Used for what many requests ask at once: a channel's freshness,
 * identical answers when their cache entry expires.
 */
export class Memo<T> {
  readonly #done = new Map<string, { value: T; until: number }>();
  readonly #running = new Map<string, Promise<T>>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, compute: () => Promise<T>, now = Date.now()): Promise<T> {
    const hit = this.#done.get(key);
    if (hit && hit.until > now) return Promise.resolve(hit.value);
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const started = compute().then(
      (value) => {
        this.#running.delete(key);
        if (this.ttlMs > 0) {
          if (this.#done.size >= this.maxEntries) this.#done.delete(this.#done.keys().next().value as string);
          this.#done.set(key, { value, until: now + this.ttlMs });
        }
        return value;
      },
      (err: unknown) => {
        this.#running.delete(key);
        throw err;
      },
    );
    this.#running.set(key, started);
    return started;
  }
}
