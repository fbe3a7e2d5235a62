import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { anyFreePort } from '../clickhouse/local-server/child.ts';
import { ControlError } from './errors.ts';
import { isControlPlaneDown } from './unavailable.ts';

/** An error as `pg` makes it from a server's ErrorResponse. */
function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isControlPlaneDown', () => {
  it('is true for a server nobody listens on, as pg reports it', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: await anyFreePort(), user: 'postgres', max: 1 });
    const err = await pool.query('SELECT 1').catch((e: unknown) => e);
    await pool.end();
    expect(err).toBeInstanceOf(Error);
    expect(isControlPlaneDown(err)).toBe(true);
  });

  it('is true for a server going away or not taking sessions', () => {
    for (const [code, message] of [
      ['57P01', 'terminating connection due to administrator command'],
      ['57P03', 'the database system is starting up'],
      ['08006', 'connection failure'],
      ['53300', 'sorry, too many clients already'],
    ])
      expect(isControlPlaneDown(serverError(code, message)), code).toBe(true);
    expect(isControlPlaneDown(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isControlPlaneDown(new AggregateError([serverError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432')]))).toBe(
      true,
    );
  });

  it('is false for what retrying cannot cure', () => {
    expect(isControlPlaneDown(serverError('42P01', 'relation "api_keys" does not exist'))).toBe(false);
    expect(isControlPlaneDown(serverError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isControlPlaneDown(new ControlError('name', 'must not be empty'))).toBe(false);
    expect(isControlPlaneDown(new AggregateError([]))).toBe(false);
    expect(isControlPlaneDown('ECONNREFUSED')).toBe(false);
  });
});
