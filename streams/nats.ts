/**
 * NATS connection for every role: reconnects forever (a NATS restart must not
 * kill a role), and reports status changes to the log instead of hiding them.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../observability/index.ts';
import { redactUrl, withRetry } from '../common/index.ts';
import { natsServers } from './nats-servers.ts';

export async function connectNats(url: string, name: string, log?: Logger): Promise<NatsConnection> {
  const open = () =>
    connect({
      ...natsServers(url),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5000,
      // Capturing a stack trace for every request costs more than the publish itself at our rates.
      noAsyncTraces: true,
    });
  // A server that accepts the connection but does not answer (frozen, overloaded) is waited for a
  // while; one that refuses it is a wrong address or a stopped server, reported at once.
  const nc = await withRetry(open, {
    attempts: 12,
    baseMs: 500,
    maxMs: 5000,
    isFatal: (err) => (err as Error)?.name !== 'TimeoutError',
    onRetry: (err, attempt) =>
      log?.warn(
        { err: String(err), url: redactUrl(url), attempt },
        'NATS accepted the connection but did not answer; retrying',
      ),
  }).catch((err) => {
    throw new Error(
      `cannot connect to NATS at ${redactUrl(url)}: ${(err as Error).message}. Is nats-server running with JetStream (-js)?`,
      { cause: err },
    );
  });
  if (log) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error')
          log.warn(
            {
              nats: s.type,
              server: 'server' in s ? s.server : undefined,
              err: 'error' in s ? String(s.error) : undefined,
            },
            'nats connection status',
          );
      }
    })();
  }
  return nc;
}

/** True when a NATS server answers at `url` within `timeoutMs`. */
export async function natsReachable(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const nc = await connect({
      ...natsServers(url),
      timeout: timeoutMs,
      maxReconnectAttempts: 0,
      reconnect: false,
    });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}
