/**
 * The envelope of the API's analytics answers: `{ meta, data }`, where
 * `data` is a read model's answer, serialized and documented with the
 * schema that read model defines (read/models/), and `meta` tells how fresh
 * it is and where it came from.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { AnswerMeta, Granularity } from '../read/index.ts';

const META_ID = 'Meta';

export const Meta = Type.Object(
  { ...AnswerMeta.properties, granularity: Type.Optional(Granularity) },
  { $id: META_ID, description: 'Freshness and provenance of the answer' },
);

/** Every analytics answer: the data and the meta block (a reference to the shared `Meta` schema). */
export function answer<T extends TSchema>(data: T) {
  return Type.Object({ meta: Type.Unsafe<Static<typeof Meta>>(Type.Ref(META_ID)), data });
}
