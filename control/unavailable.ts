/**
 * Telling "Postgres is not answering right now" apart from every other
 * failure of a control-plane call. Callers act on the difference: the API
 * answers 503 (and keeps accepting keys it verified lately), the bot says it
 * is temporarily unavailable, the notifier holds its alerts until Postgres is
 * back. Any other failure (a bug, a rejected statement) stays what it is.
 */
import { UNREACHABLE_SOCKET_CODES } from '../common/index.ts';

/**
 * SQLSTATEs of a server that is going away or not taking work: every
 * connection exception (class 08), admin/crash shutdown and "the database
 * system is starting up / shutting down" (57P01–57P03), too many connections.
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/**
 * What `pg` says, without a code, when a connection dies under a query or
 * cannot be made in time.
 */
const UNAVAILABLE_MESSAGE =
  /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/** Whether `err` means the control plane's Postgres could not be reached (worth retrying later). */
export function isControlPlaneDown(err: unknown): boolean {
  // Connecting to a name with several addresses fails with one error per address.
  if (err instanceof AggregateError) return err.errors.length > 0 && err.errors.every(isControlPlaneDown);
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNREACHABLE_SOCKET_CODES.has(code))) return true;
  return UNAVAILABLE_MESSAGE.test(err.message);
}
