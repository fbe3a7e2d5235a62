/**
 * Socket error codes of a server that cannot be reached or went away under
 * a request: what the warehouse and control-plane clients treat as "down,
 * retry" rather than as a wrong request.
 */
export const UNREACHABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
