/**
 * Errors the API answers with: a status, a stable machine code, and a
 * message that tells the caller what to change. Every error body has the
 * same shape, `{ error: { status, code, message, details? } }`.
 */
import { Type, type Static } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      status: Type.Integer(),
      code: Type.String({ description: 'Stable machine-readable code, e.g. invalid_parameter, unknown_channel' }),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return {
      error: {
        status: this.status,
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** A query or path parameter the caller must fix. */
export function invalidParameter(name: string, message: string): ApiError {
  return new ApiError(400, 'invalid_parameter', `${name}: ${message}`, { parameter: name });
}

export function unknownChannel(channelId: string): ApiError {
  return new ApiError(
    404,
    'unknown_channel',
    `channel ${channelId} is not tracked (GET /v1/channels lists the channels with data)`,
    {
      channel_id: channelId,
    },
  );
}
