/**
 * Talking to the tgpulse API: JSON with the caller's key in the
 * Authorization header, errors as {@link ApiFailure} with the API's own code
 * and message, and CSV downloads (a link cannot carry the header, so the file
 * is fetched and handed to the browser as a Blob).
 */
import type { AnswerMeta } from '../../../read/index.ts';
import { currentKey } from './session.ts';

/** The `{ meta, data }` envelope of every analytics answer. */
export interface Answer<T> {
  meta: AnswerMeta & { granularity?: string };
  data: T;
}

/** A refused or failed request: the HTTP status and the API's error code and message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before retrying (429), when the API said. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export type Query = Record<string, string | number | undefined>;

/** `path?query`, leaving out parameters that are undefined. */
export function withQuery(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function send(url: string, { anonymous, ...init }: RequestInit & { anonymous?: boolean }): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = anonymous ? null : currentKey();
  if (key) headers.set('authorization', `Bearer ${key}`);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers });
  } catch {
    throw new ApiFailure(0, 'network', 'The API could not be reached. Check the connection and try again.', null);
  }
  if (!res.ok) throw await failureOf(res);
  return res;
}

async function failureOf(res: Response): Promise<ApiFailure> {
  const retry = Number(res.headers.get('retry-after'));
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not a JSON error body (a proxy's page): the status says enough.
  }
  return new ApiFailure(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : null);
}

/** GET a JSON answer. `anonymous` sends no key (share reports). */
export async function getJson<T>(path: string, query?: Query, opts: { anonymous?: boolean } = {}): Promise<T> {
  const res = await send(withQuery(path, query), {
    headers: { accept: 'application/json' },
    anonymous: opts.anonymous ?? false,
  });
  return (await res.json()) as T;
}

/** POST a JSON body, without a key, and read the JSON answer (the Mini App session exchange). */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await send(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    anonymous: true,
  });
  return (await res.json()) as T;
}

/** Fetch a CSV export with the key and save it under the name the API gives (or `fallbackName`). */
export async function downloadCsv(path: string, query: Query, fallbackName: string): Promise<void> {
  const res = await send(withQuery(path, query), { headers: { accept: 'text/csv' } });
  const blob = await res.blob();
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The click has started the download; the URL may go once this task ends.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
