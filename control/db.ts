/**
 * Small helpers over `pg` shared by the control-plane modules.
 */
import type { Pool, PoolClient } from 'pg';

/** Something that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pool | PoolClient;

/**
 * Runs `fn` in one transaction on one pooled connection, so a change and its
 * audit row commit or roll back together.
 *
 * `fn` must query only through the client it is given: on the embedded store
 * the pool has a single connection, so a query on the pool from inside `fn`
 * would wait for itself forever.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    // A connection whose ROLLBACK failed is in an unknown state: destroy it instead of pooling it.
    const broken = await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackErr: unknown) => (rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr))),
    );
    client.release(broken);
    throw err;
  }
}

/** A `timestamptz` column as epoch milliseconds (the unit every tgpulse time uses). */
export function epochMs(value: Date): number;
export function epochMs(value: Date | null): number | null;
export function epochMs(value: Date | null): number | null {
  return value === null ? null : value.getTime();
}
