/**
 * Whether a Postgres server takes a session right now: for test support that
 * picks or waits for a server (control/testing.ts, test/support/postgres-server.ts).
 * Apart from testing.ts so that importing it connects nowhere.
 */
import pg from 'pg';

/** Whether a Postgres server answers a query at `url` within two seconds. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  // A server going away mid-probe reports on the client too: the probe's answer is enough.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
