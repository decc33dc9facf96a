/**
 * Savepoint's own schema options. Route schemas set them (on the floor below the domains); the
 * server's validator (`src/http/validation.ts`) and OpenAPI document read them. The `x-` prefix
 * keeps OpenAPI documents valid.
 */

/**
 * A schema option naming the rule in words, used instead of the generic message when a value fails
 * that schema (a regex pattern reads badly).
 */
export const ERROR_MESSAGE = 'x-error-message';

/**
 * A schema option for a request body that may be left out (or sent as JSON `null`): OpenAPI then
 * marks the body as not required, and the validator lets `undefined` and `null` through.
 */
export const OPTIONAL_BODY = 'x-optional-body';
