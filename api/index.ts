/**
 * The read-only REST API (Fastify).
 */
export type { ApiConfig } from './config.ts';
export { type ApiServer, startApiServer } from './server.ts';
