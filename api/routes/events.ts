/**
 * `POST /v1/events`: a bot sends a batch of its users' events with a key of
 * scope `track`. Every item is checked on its own (api/event-intake.ts): the
 * good ones are published to TG_RAW as `bot_event`s, the bad ones come back
 * with their index, field and reason, and the answer is 200 either way, with
 * a status per item. A batch that is not a list of at most
 * {@link MAX_BATCH_EVENTS} items is 400 as a whole.
 *
 * The answer comes once the stream has acknowledged every accepted event; if
 * it does not, the request fails with 503 and the client sends the batch
 * again (the ids are deterministic, so nothing counts twice).
 */
import { Type } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { hashBotUserId } from '../../control/index.ts';
import type { RawEvent } from '../../streams/contract/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError, ErrorBody } from '../errors.ts';
import { BotEventInput, type IntakeResult, intakeItem, MAX_BATCH_EVENTS } from '../event-intake.ts';

/** Largest request body: a full batch of events with properties near their bound. */
const BODY_LIMIT = 512 * 1024;

const ItemResult = Type.Object({
  index: Type.Integer({ description: 'position of the item in the batch' }),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')]),
  id: Type.Optional(Type.String({ description: 'the event id (accepted items): the same event always gets the same' })),
  errors: Type.Optional(
    Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }), {
      description: 'what to fix (rejected items)',
    }),
  ),
});

const IntakeAnswer = Type.Object({
  accepted: Type.Integer(),
  rejected: Type.Integer(),
  results: Type.Array(ItemResult, { description: 'one per item, in the order sent' }),
});

/**
 * The items are checked one by one in the handler, so that a bad one does
 * not refuse the batch: the body's schema documents them, and only the list
 * around them is checked here.
 */
const batchOnly: FastifySchemaCompiler<unknown> = () => (body: unknown) =>
  Array.isArray(body) && body.length >= 1 && body.length <= MAX_BATCH_EVENTS
    ? { value: body }
    : {
        error: new ApiError(
          400,
          'invalid_parameter',
          `body: expected a JSON array of 1 to ${MAX_BATCH_EVENTS} events`,
          { parameter: 'body' },
        ),
      };

/** Registers `POST /v1/events`; `userSalt` gives the deployment's salt of user ids (control's `botUserSalt`). */
export function registerEventIntake(app: ApiApp, ctx: RouteContext, userSalt: () => Promise<Buffer>): void {
  app.post(
    '/v1/events',
    {
      schema: {
        summary: "Send a bot's custom events (a batch)",
        description:
          'Each item is checked on its own: the answer is 200 with a status per item, accepted ones carry their id, ' +
          'rejected ones the field and reason. User ids are stored only as a salted hash. Sending a batch again ' +
          'counts nothing twice. 503 when the events could not be stored: send the same batch again.',
        tags: ['events'],
        body: Type.Array(BotEventInput, { minItems: 1, maxItems: MAX_BATCH_EVENTS }),
        response: {
          200: IntakeAnswer,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          413: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
      validatorCompiler: batchOnly,
      bodyLimit: BODY_LIMIT,
      config: { scope: 'track' },
    },
    async (req) => {
      const publish = ctx.publish;
      if (!publish) {
        throw new ApiError(
          503,
          'event_intake_unavailable',
          'this API process does not publish events (it runs without NATS): send them to an API started by `tgpulse up`',
        );
      }
      const secret = await userSalt();
      const channels = req.apiKey?.channels ?? null;
      const now = ctx.now();
      const items = req.body as unknown[];
      const results: IntakeResult[] = items.map((item, index) =>
        intakeItem(item, index, {
          now,
          hashUser: (botId, userId) => hashBotUserId(secret, botId, userId),
          mayTrack: (botId) => channels === null || channels.includes(botId),
        }),
      );
      const events: RawEvent[] = [];
      const seen = new Set<string>();
      for (const r of results) {
        // The same event twice in one batch: both items are accepted, one is sent.
        if (!r.ok || seen.has(r.event.id)) continue;
        seen.add(r.event.id);
        events.push(r.event);
      }
      if (events.length > 0) {
        try {
          await publish(events);
        } catch (err) {
          ctx.log.error({ err, events: events.length }, 'publishing bot events failed');
          throw new ApiError(
            503,
            'events_not_stored',
            'the events could not be stored (the stream did not acknowledge them); send the same batch again',
            undefined,
            { 'retry-after': '5' },
          );
        }
      }
      const accepted = results.filter((r) => r.ok).length;
      return {
        accepted,
        rejected: results.length - accepted,
        results: results.map((r) =>
          r.ok
            ? { index: r.index, status: 'accepted' as const, id: r.event.id }
            : { index: r.index, status: 'rejected' as const, errors: r.errors },
        ),
      };
    },
  );
}
