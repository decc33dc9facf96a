/**
 * Schemas every domain shares: ids, durations, times and the problem document. Domains build their
 * route schemas from these, so an id or a duration is checked (and documented) the same everywhere.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { errorCodes } from '../errors.js';
import { ERROR_MESSAGE } from './schema-keywords.js';

/** Ids in paths are 1–200 characters of `[A-Za-z0-9._:@-]` (docs/api.md#conventions). */
export const ID_PATTERN = '^[A-Za-z0-9._:@-]{1,200}$';

/** An id (collection, key, game id, member…). */
export const Id = (description: string) =>
  Type.String({
    pattern: ID_PATTERN,
    minLength: 1,
    maxLength: 200,
    description,
    [ERROR_MESSAGE]: 'must be 1-200 characters of A-Z a-z 0-9 . _ : @ -',
  });

const DURATION_UNIT = '(ms|s|m|h|d|w)';
const DURATION_PART = `\\d+(\\.\\d+)?${DURATION_UNIT}`;
/** A part with a non-zero digit, in its whole or its fraction. */
const NONZERO_DURATION_PART = `(\\d*[1-9]\\d*(\\.\\d+)?|\\d+\\.\\d*[1-9]\\d*)${DURATION_UNIT}`;

/** A duration string such as `30m`, `0` included; checked in full by `parseDuration`. */
export const Duration = (description: string) =>
  Type.String({
    pattern: `^(0|(${DURATION_PART})+)$`,
    maxLength: 40,
    description,
    example: '30m',
    [ERROR_MESSAGE]: 'must be a duration such as 500ms, 30s, 30m, 7d or 1h30m',
  });

/**
 * A duration above zero. The pattern admits exactly the durations with a non-zero digit; the upper
 * bound, which a pattern cannot state, belongs in the description.
 */
export const PositiveDuration = (description: string) =>
  Type.String({
    pattern: `^(${DURATION_PART})*${NONZERO_DURATION_PART}(${DURATION_PART})*$`,
    maxLength: 40,
    description,
    example: '30m',
    [ERROR_MESSAGE]: 'must be a duration above zero such as 500ms, 30s, 30m, 7d or 1h30m',
  });

/** An ISO-8601 UTC time. */
export const Time = (description: string) => Type.String({ format: 'date-time', description });

/**
 * Text without control characters (U+0000-U+001F, U+007F) or lone surrogates, which names and
 * event types refuse because they become store keys or SSE lines. The pattern reads the same with
 * and without the `u` flag: a surrogate pair is one character, or a pair of units the second
 * branch takes.
 */
export const NO_CONTROL_CHARACTERS =
  '^(?:[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*$';

/** A name or type of 1 to `maxLength` characters without control characters or lone surrogates. */
export const Name = (description: string, maxLength = 200) =>
  Type.String({
    minLength: 1,
    maxLength,
    pattern: NO_CONTROL_CHARACTERS,
    description,
    [ERROR_MESSAGE]: `must be 1-${maxLength} characters, without control characters or lone surrogates`,
  });

/** The largest integer a JSON number carries exactly (2^53 - 1); larger ones would be rounded. */
export const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** An integer from `minimum` to 2^53 - 1 (a version, a seq, a count, an offset). */
export const SafeInteger = (minimum: number, description: string) =>
  Type.Integer({
    minimum,
    maximum: MAX_SAFE_INTEGER,
    description,
    [ERROR_MESSAGE]: `must be an integer from ${minimum} to ${MAX_SAFE_INTEGER}`,
  });

/** A record version: 1 on creation, +1 on every change. */
export const Version = (description = 'The record version: 1 on creation, +1 on every change') =>
  SafeInteger(1, description);

/** `application/problem+json`, the body of every error answer. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the problem type: urn:savepoint:error:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.Union(
      errorCodes.map((code) => Type.Literal(code)),
      { description: 'A stable code: branch on this, not on the message' },
    ),
    detail: Type.String({ description: 'What happened and what to do about it' }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          in: Type.String({ description: 'body, querystring, params or headers' }),
          path: Type.String({ description: 'A JSON pointer to the field' }),
          message: Type.String(),
        }),
        { description: 'Field problems, for INVALID_INPUT answers' },
      ),
    ),
  },
  { $id: 'Problem', additionalProperties: true, description: 'An RFC 9457 problem document' },
);

const ProblemRef = Type.Ref(Problem);

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'INVALID_INPUT: a malformed body, a bad field, an invalid id, JSON deeper than 64 levels',
  401: 'UNAUTHORIZED: the API key is missing or wrong',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'VERSION_CONFLICT: the body expectedVersion (or a condition) did not hold',
  412: 'VERSION_CONFLICT: If-Match or If-None-Match did not hold',
  413: 'PAYLOAD_TOO_LARGE: the body is over SAVEPOINT_MAX_BODY',
  503: 'STORAGE_UNAVAILABLE: retry after the Retry-After header',
};

/** A problem answer in a route's response schema, typed `application/problem+json` in OpenAPI. */
export interface ProblemResponse {
  readonly description: string;
  readonly content: { readonly 'application/problem+json': { readonly schema: TSchema } };
}

/** Problem answers for a route's OpenAPI entry, one per status, each described by its code. */
export function problemResponses<Status extends number>(
  ...statuses: readonly Status[]
): Record<Status, ProblemResponse> {
  const responses = {} as Record<Status, ProblemResponse>;
  for (const status of statuses) {
    responses[status] = {
      description: STATUS_TEXT[status] ?? 'A problem document',
      content: { 'application/problem+json': { schema: ProblemRef } },
    };
  }
  return responses;
}
