/**
 * Numbers in a URL must be written as plain decimals. Fastify's validator
 * (Ajv) coerces query and path strings with `+value`: "1e309" becomes
 * Infinity, which passes `integer` and slips past `maximum` (Ajv compares
 * bounds on finite numbers only), and "0x10", " 5" or "1e2" pass as numbers
 * too. A read model handed Infinity fails in the warehouse (a 500). So every
 * query and path parameter a route's schema types as a number is checked
 * against the decimal syntax before validation, on every route, and refused
 * with 400 naming it; the schema then checks its range as before.
 */
import fp from 'fastify-plugin';
import { invalidParameter } from '../errors.ts';

/** Longer numerals lose digits as a JavaScript number; no parameter of the API needs them. */
const MAX_DIGITS = 15;
const SYNTAX = {
  integer: { re: new RegExp(`^-?[0-9]{1,${MAX_DIGITS}}$`), expected: 'a whole number in decimal digits, e.g. 10' },
  number: {
    re: new RegExp(`^-?[0-9]{1,${MAX_DIGITS}}(\\.[0-9]{1,${MAX_DIGITS}})?$`),
    expected: 'a number in decimal digits, e.g. 2.5',
  },
} as const;

type Syntax = (typeof SYNTAX)[keyof typeof SYNTAX];
/** The parts of a request whose values arrive as text. */
const PARTS = ['querystring', 'params'] as const;
/** A route's numeric fields, by where they are, e.g. `querystring.limit`. */
type NumericFields = Array<{ part: (typeof PARTS)[number]; name: string; syntax: Syntax }>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set for every route from its schema (below); not for routes to set. */
    numericFields?: NumericFields;
  }
}

export const decimalNumbers = fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      const fields = PARTS.flatMap((part) => numericFieldsOf(route.schema?.[part]).map((f) => ({ part, ...f })));
      if (fields.length > 0) route.config = { ...route.config, numericFields: fields };
    });

    app.addHook('preValidation', async (req) => {
      for (const { part, name, syntax } of req.routeOptions.config.numericFields ?? []) {
        const value = (part === 'querystring' ? req.query : req.params) as Record<string, unknown>;
        const given = value[name];
        if (given === undefined) continue;
        // A repeated query parameter arrives as an array; the schema refuses it, once each copy is a numeral.
        for (const text of Array.isArray(given) ? given : [given]) {
          if (typeof text !== 'string' || !syntax.re.test(text))
            throw invalidParameter(`${part}.${name}`, `expected ${syntax.expected}`);
        }
      }
    });
  },
  { name: 'tgpulse-decimal-numbers', fastify: '5.x' },
);

/** The properties a query or params schema types as integer or number. */
function numericFieldsOf(schema: unknown): Array<{ name: string; syntax: Syntax }> {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(properties).flatMap(([name, s]) =>
    s.type === 'integer' || s.type === 'number' ? [{ name, syntax: SYNTAX[s.type] }] : [],
  );
}
