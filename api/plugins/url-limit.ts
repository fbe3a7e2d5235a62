/**
 * Refuses over-long URLs (414) before anything else reads them: a path or
 * query that long is a mistake or an attack, and every later step (keys,
 * limits, cache keys, logs) would carry it.
 */
import fp from 'fastify-plugin';
import { ApiError } from '../errors.ts';

export interface UrlLimitOptions {
  /** Longest URL accepted, path and query. */
  maxLength: number;
}

export const urlLimit = fp<UrlLimitOptions>(
  async (app, { maxLength }) => {
    app.addHook('onRequest', async (req) => {
      if (req.url.length > maxLength) {
        throw new ApiError(414, 'uri_too_long', `the URL is longer than ${maxLength} characters`);
      }
    });
  },
  { name: 'tgpulse-url-limit', fastify: '5.x' },
);
