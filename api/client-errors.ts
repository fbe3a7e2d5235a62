/**
 * Requests refused before any route or hook sees them are answered in the
 * API's one error shape too, instead of Node's or Fastify's own, so a client
 * reads every refusal the same way: those Node's HTTP parser refuses (headers
 * over the size limit, a malformed request line, a client too slow to send
 * its headers) and those Fastify's router refuses (a broken percent-escape,
 * a path segment over the parameter length).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

/** Status, code and message by the parser's or the router's error code; anything else is a malformed request. */
const REFUSALS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'the request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request was not received in time'],
  FST_ERR_BAD_URL: [
    400,
    'invalid_url',
    'the URL is not valid: a percent-escape is broken or encodes invalid UTF-8 (encode parameters with encodeURIComponent)',
  ],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long', 'a path segment of the URL is longer than the API accepts'],
};
const MALFORMED: [number, string, string] = [400, 'malformed_request', 'the request is not well-formed HTTP'];

function refusal(code: string | undefined): ApiError {
  const [status, name, message] = REFUSALS[code ?? ''] ?? MALFORMED;
  return new ApiError(status, name, message);
}

/** Fastify's `clientErrorHandler`: writes the refusal on the raw socket and closes the connection. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = refusal(err.code);
  const body = JSON.stringify(e.body());
  // An answer to HEAD has no body, or the client reads the body as the next answer.
  const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${head ? '' : body}`,
    );
  }
  socket.destroy(err);
}

/** Fastify's `frameworkErrors`: what the router refuses before a route is found. */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const e = refusal(err.code);
  reply.code(e.status).header('cache-control', 'no-store').send(e.body());
}
