/**
 * Test support: a real HTTP server standing in for Slack or Discord webhook
 * endpoints. It records every request (path, headers, raw body, the status it
 * answered) and answers as scripted per path: a queue of answers first (503,
 * 429 with Retry-After, …), then `always` (200 unless set).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export class WebhookReceiver {
  readonly requests: WebhookRequest[] = [];
  url = '';
  readonly #queued = new Map<string, Answer[]>();
  readonly #always = new Map<string, Answer>();
  readonly #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const answer = this.#queued.get(path)?.shift() ?? this.#always.get(path) ?? { status: 200, body: 'ok' };
      this.requests.push({
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: answer.status,
      });
      res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
    });
  });

  async start(): Promise<void> {
    // Fetch keeps connections alive; closing an idle one as a request reuses it would look like a failure.
    this.#server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The next requests to `path` get these answers, in order. */
  answer(path: string, ...answers: Answer[]): void {
    this.#queued.set(path, [...(this.#queued.get(path) ?? []), ...answers]);
  }

  /** Every request to `path` (after the queued ones) gets this answer. */
  always(path: string, answer: Answer): void {
    this.#always.set(path, answer);
  }

  /** Requests to `path`, in arrival order. */
  to(path: string): WebhookRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Requests to `path` it accepted (2xx). */
  accepted(path: string): WebhookRequest[] {
    return this.to(path).filter((r) => r.status >= 200 && r.status < 300);
  }
}
