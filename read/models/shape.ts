/**
 * Building blocks of the read models' answer shapes. Each answer is one
 * TypeBox schema beside the read model that produces it: its TypeScript type
 * is derived from the schema (`Static`), and the API serializes and documents
 * the answer with the same schema, so a shape has a single source.
 */
import { type SchemaOptions, Type, type TNull, type TSchema, type TUnion } from '@sinclair/typebox';

/** The value, or null when it is unknown. */
export const Nullable = <T extends TSchema>(t: T, options?: SchemaOptions): TUnion<[T, TNull]> =>
  Type.Union([t, Type.Null()], options);

/** Times are epoch milliseconds, UTC (CSV exports print them as ISO 8601). */
export const Time = Type.Number({ description: 'epoch milliseconds, UTC' });

export const Count = Type.Number();

/** A ratio is null when its denominator is zero or unknown. */
export const Ratio = Nullable(Type.Number());
