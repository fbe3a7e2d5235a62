/**
 * Input checks shared by the control-plane modules. Each throws a
 * `ControlError` naming the field, so callers can map it to their own flag
 * or property name.
 */
import { ControlError } from './errors.ts';

const CHANNEL_ID = /^-?[0-9]{1,20}$/;

/** A trimmed string of `min`..`max` characters. */
export function checkText(field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string') throw new ControlError(field, `expected a string of ${min} to ${max} characters`);
  const text = value.trim();
  if (text.length < min || text.length > max)
    throw new ControlError(field, `expected ${min} to ${max} characters, got ${text.length}`);
  return text;
}

/** An integer from `min` to `max`. */
export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ControlError(field, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A non-empty subset of `allowed`, without repeats, in the order of `allowed` (so equal sets compare equal). */
export function checkSubset<T extends string>(field: string, values: unknown, allowed: readonly T[]): T[] {
  const expected = `a non-empty list of ${allowed.join(', ')}`;
  if (!Array.isArray(values) || values.length === 0) throw new ControlError(field, `expected ${expected}`);
  const unknown = values.filter((v) => !(allowed as readonly unknown[]).includes(v));
  if (unknown.length > 0)
    throw new ControlError(field, `unknown ${unknown.map((v) => JSON.stringify(v)).join(', ')}; expected ${expected}`);
  return allowed.filter((a) => values.includes(a));
}

/** A Telegram channel id as a decimal string (int64 does not fit a JS number). */
export function checkChannelId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !CHANNEL_ID.test(value)) {
    throw new ControlError(
      field,
      `expected a channel id of decimal digits (e.g. -1001234567890), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
