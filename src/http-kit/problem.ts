/**
 * Turns any error into an RFC 9457 problem document (`application/problem+json`):
 * `{ type, title, status, code, detail }`, plus `errors` for field problems and the catalog
 * error's details as extension members. Only catalog codes ever reach a client, and an
 * unexpected error never shows its message or stack: it answers `500 INTERNAL` and is logged.
 */
import { type ErrorCode, errorCatalog, isSavepointError, SavepointError } from '../errors.js';

/** One field that failed validation: where it was (`body`, `querystring`, `params`, `headers`), its path and why. */
export interface FieldIssue {
  readonly in: string;
  /** The field, as a JSON pointer into that part of the request (`/ops/0/key`); empty for the whole part. */
  readonly path: string;
  readonly message: string;
}

/** The body of every error answer. */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  /** Field problems, for `INVALID_INPUT` answers to a request that failed its schema. */
  readonly errors?: readonly FieldIssue[];
  readonly [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Seconds a client should wait before retrying when storage is unavailable. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/** The problem `type` URI of a code; stable, and listed in docs/errors.md. */
export function problemType(code: ErrorCode): string {
  return `urn:savepoint:error:${code}`;
}

/**
 * Conflicts that came from `If-Match` / `If-None-Match` headers answer 412 instead of 409
 * (docs/api.md#versions). The flag lives beside the error rather than in its details, so the
 * catalog error stays what the engine made.
 */
const preconditionFailures = new WeakSet<SavepointError>();

/** Marks a `VERSION_CONFLICT` caused by a conditional request header, so that it answers `412`. */
export function asPreconditionFailure(error: SavepointError): SavepointError {
  preconditionFailures.add(error);
  return error;
}

/** A request part that failed its schema (`INVALID_INPUT`); carries every field problem found. */
export class RequestValidationError extends SavepointError {
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly FieldIssue[]) {
    const first = issues[0];
    const where = first === undefined ? 'Invalid request' : describeField(first);
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super('INVALID_INPUT', `${where}: ${first?.message ?? 'invalid'}${more}`);
    this.issues = issues;
  }
}

function describeField(issue: FieldIssue): string {
  const part =
    issue.in === 'params' ? 'path parameter' : issue.in === 'querystring' ? 'query parameter' : issue.in;
  if (issue.path === '') return `Invalid ${issue.in === 'body' ? 'request body' : part}`;
  const field = issue.path.slice(1).replaceAll('/', '.');
  return `Invalid ${part} "${field}"`;
}

/** What a failed request answers: the problem document, extra headers, and whether it is worth an error log. */
export interface ProblemAnswer {
  readonly problem: ProblemDocument;
  readonly headers: Readonly<Record<string, string>>;
  /** True for answers that point at a fault on our side (5xx). */
  readonly serverFault: boolean;
}

function document(code: ErrorCode, detail: string, status?: number, extra: object = {}): ProblemDocument {
  const problem: Record<string, unknown> = {
    type: problemType(code),
    title: errorCatalog[code].title,
    status: status ?? errorCatalog[code].status,
    code,
    detail,
  };
  // Extension members never replace the five standard ones (a detail named `status` stays a detail).
  for (const [name, value] of Object.entries(extra)) if (!(name in problem)) problem[name] = value;
  return problem as ProblemDocument;
}

/** The fields a Fastify or Node error may carry. */
interface FrameworkError {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly message?: unknown;
}

function statusOf(error: FrameworkError): number | undefined {
  return typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
    ? error.statusCode
    : undefined;
}

/** Catalog codes for the client errors Fastify itself raises (bad content type, oversized body, bad URL...). */
function codeForClientStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 429:
      return 'RATE_LIMITED';
    default:
      return 'INVALID_INPUT';
  }
}

function fromSavepointError(error: SavepointError): ProblemAnswer {
  const headers: Record<string, string> = {};
  let status = error.status;
  if (error.code === 'VERSION_CONFLICT' && preconditionFailures.has(error)) status = 412;
  if (error.code === 'STORAGE_UNAVAILABLE') headers['retry-after'] = String(STORAGE_RETRY_AFTER_SECONDS);
  if (error.code === 'RATE_LIMITED' && typeof error.details.retryAfterSeconds === 'number')
    headers['retry-after'] = String(Math.ceil(error.details.retryAfterSeconds));
  if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer realm="savepoint"';
  if (error.code === 'INTERNAL') {
    // The message of an unexpected error may carry internals (paths, SQL): it goes to the log only.
    return {
      problem: document('INTERNAL', 'An unexpected error occurred; it has been logged.'),
      headers,
      serverFault: true,
    };
  }
  const issues = error instanceof RequestValidationError ? error.issues : undefined;
  return {
    problem: document(error.code, error.message, status, {
      ...error.details,
      ...(issues === undefined ? {} : { errors: issues }),
    }),
    headers,
    serverFault: status >= 500,
  };
}

/** Maps anything thrown while handling a request to the answer a client gets. */
export function problemFor(error: unknown): ProblemAnswer {
  if (isSavepointError(error)) return fromSavepointError(error);
  const framework = (typeof error === 'object' && error !== null ? error : {}) as FrameworkError;
  const status = statusOf(framework);
  if (status !== undefined && status < 500) {
    const code = codeForClientStatus(status);
    const message = typeof framework.message === 'string' ? framework.message : errorCatalog[code].title;
    if (framework.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return clientProblem('INVALID_INPUT', `${message}; send JSON with Content-Type: application/json`);
    if (framework.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return clientProblem(
        'PAYLOAD_TOO_LARGE',
        'The request body is over the limit set by SAVEPOINT_MAX_BODY',
      );
    // 415 and the other 4xx Fastify raises have no code of their own in the catalog: they are the caller's input.
    return clientProblem(code, message);
  }
  if (status === 503) {
    return {
      problem: document('STORAGE_UNAVAILABLE', 'The service is unavailable; retry shortly.'),
      headers: { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) },
      serverFault: true,
    };
  }
  return {
    problem: document('INTERNAL', 'An unexpected error occurred; it has been logged.'),
    headers: {},
    serverFault: true,
  };
}

function clientProblem(code: ErrorCode, detail: string): ProblemAnswer {
  return { problem: document(code, detail), headers: {}, serverFault: false };
}

/** A problem answer for a known situation (unknown route, a closing server...), without an error object. */
export function problemOf(code: ErrorCode, detail: string, status?: number): ProblemAnswer {
  const headers: Record<string, string> =
    code === 'STORAGE_UNAVAILABLE' ? { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) } : {};
  return { problem: document(code, detail, status), headers, serverFault: (status ?? 0) >= 500 };
}
