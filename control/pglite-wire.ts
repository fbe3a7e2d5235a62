/**
 * Serves an embedded PGlite over the Postgres wire protocol, so that every
 * tgpulse process reaches the embedded control plane as it would a server.
 *
 * PGlite is one backend session, shared by every connection. A connection
 * therefore holds the session from its first message until the backend is
 * ready for a query outside a transaction: a simple query, a whole
 * extended-protocol exchange (Parse … Sync), or a whole transaction runs
 * without another connection's messages in between. Holding it per message,
 * as pglite-socket 0.2 does, lets two connections' Parse and Bind interleave,
 * and one gets the other's rows: with a process committing transactions
 * beside it, 23 % of a pair of concurrent queries came back with the other
 * query's answer (the notifier then saw a channel without subscribers).
 *
 * A connection that goes away while holding the session has its exchange
 * ended (Sync) and its transaction rolled back before the next one runs.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

export interface WireServer {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** Request codes of the untyped messages a client may open with (protocol 3.0 is 196608). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Sync, and a simple-query ROLLBACK: what ends an abandoned exchange and transaction. */
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);
const ROLLBACK = simpleQuery('ROLLBACK');

/**
 * Starts serving `db` on `host:port` (0 = any free port). `onError` hears of
 * a failure to clean up after a closed connection (PGlite itself failing).
 */
export async function serveWire(
  db: PGlite,
  opts: { host: string; port: number; onError: (err: unknown) => void },
): Promise<WireServer> {
  const session = new SessionLock();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Connection(db, socket, session, opts.onError).start();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the wire server has no TCP address');
  return {
    host: opts.host,
    port: address.port,
    stop: () => stopServer(server, sockets),
  };
}

function stopServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Who holds the backend session; the others wait their turn in arrival order. */
class SessionLock {
  #holder: Connection | null = null;
  #waiting: Array<{ who: Connection; go: () => void }> = [];

  acquire(who: Connection): Promise<void> {
    if (this.#holder === null || this.#holder === who) {
      this.#holder = who;
      return Promise.resolve();
    }
    return new Promise((go) => this.#waiting.push({ who, go }));
  }

  release(who: Connection): void {
    if (this.#holder !== who) return;
    const next = this.#waiting.shift();
    this.#holder = next?.who ?? null;
    next?.go();
  }

  /** A closed connection's turn, if it was still waiting, goes to nobody. */
  forget(who: Connection): void {
    this.#waiting = this.#waiting.filter((w) => w.who !== who);
  }

  holds(who: Connection): boolean {
    return this.#holder === who;
  }
}

class Connection {
  #buffer: Buffer = Buffer.alloc(0);
  #started = false;
  /** Messages run one after another, in the order they arrived. */
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly db: PGlite,
    private readonly socket: Socket,
    private readonly session: SessionLock,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      for (let m = this.#nextMessage(); m !== null; m = this.#nextMessage()) {
        const message = m;
        // A failure of PGlite itself ends the connection (its close then cleans up).
        this.#chain = this.#chain
          .then(() => this.#run(message))
          .catch((err: unknown) => {
            this.socket.destroy(err as Error);
          });
      }
    });
    // A reset or a dead client: the close that follows does the cleaning up.
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.#closed = true;
      this.session.forget(this);
      this.#chain = this.#chain.then(() => this.#abandon()).catch(this.onError);
    });
  }

  /** The next complete message in the buffer, or null; answers SSL and GSSAPI requests on the way. */
  #nextMessage(): Uint8Array | null {
    for (;;) {
      if (!this.#started) {
        if (this.#buffer.length < 8) return null;
        const length = this.#buffer.readInt32BE(0);
        if (this.#buffer.length < length) return null;
        const code = this.#buffer.readInt32BE(4);
        const message = this.#take(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N');
          continue;
        }
        if (code === CANCEL_REQUEST) {
          this.socket.end();
          return null;
        }
        this.#started = true;
        return message;
      }
      if (this.#buffer.length < 5) return null;
      const length = 1 + this.#buffer.readInt32BE(1);
      if (this.#buffer.length < length) return null;
      return this.#take(length);
    }
  }

  #take(length: number): Uint8Array {
    const message = new Uint8Array(this.#buffer.subarray(0, length));
    this.#buffer = this.#buffer.subarray(length);
    return message;
  }

  async #run(message: Uint8Array): Promise<void> {
    if (this.#closed) return;
    // Terminate: the client is leaving; its close releases whatever it held.
    if (message[0] === 0x58 && this.#started) {
      this.socket.end();
      return;
    }
    await this.session.acquire(this);
    if (this.#closed) return; // #abandon, queued behind this, cleans up
    const out = await this.db.runExclusive(() => this.db.execProtocolRaw(message));
    if (out.length > 0 && this.socket.writable) this.socket.write(out);
    if (readyStatus(out) === 'I') this.session.release(this);
  }

  /** Ends what a closed connection left open in the shared session, then lets the next one in. */
  async #abandon(): Promise<void> {
    if (!this.session.holds(this)) return;
    try {
      await this.db.runExclusive(async () => {
        if (readyStatus(await this.db.execProtocolRaw(SYNC)) !== 'I') await this.db.execProtocolRaw(ROLLBACK);
      });
    } finally {
      this.session.release(this);
    }
  }
}

/**
 * The transaction status of the ReadyForQuery that ends `out` ('I' idle,
 * 'T' in a transaction, 'E' in a failed one), or null when the backend is
 * not ready yet (an exchange under way).
 */
function readyStatus(out: Uint8Array): 'I' | 'T' | 'E' | null {
  const n = out.length;
  // ReadyForQuery: 'Z', int32 length 5, one status byte.
  if (n < 6 || out[n - 6] !== 0x5a || out[n - 5] !== 0 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 5)
    return null;
  return String.fromCharCode(out[n - 1]) as 'I' | 'T' | 'E';
}

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51;
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return new Uint8Array(message);
}
