/**
 * Errors of the control plane that a caller can act on.
 */

/**
 * An input to the control plane was invalid. `field` names the offending
 * input so a caller can point at its own spelling of it (a CLI flag, a JSON
 * property) instead of repeating the library's wording.
 *
 * @example
 * try { await createApiKey(pool, { name: '', scopes: ['read'] }); }
 * catch (err) { if (err instanceof ControlError) reply(400, { field: err.field, message: err.problem }); }
 */
export class ControlError extends Error {
  constructor(
    /** The input that was wrong, in the library's terms (`name`, `scopes`, `ratePerMinute`, …). */
    readonly field: string,
    /** What is wrong with it and what is expected, without the field name. */
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`invalid ${field}: ${problem}`, options);
    this.name = 'ControlError';
  }
}
