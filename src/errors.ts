/**
 * The one error catalog. Every failure Savepoint reports, in the library, over HTTP and in the CLI,
 * is a {@link SavepointError} carrying one of these stable codes. Clients branch on `code`; the
 * message is for people and may change.
 */
export const errorCatalog = {
  INVALID_INPUT: { status: 400, title: 'Invalid input' },
  OUT_OF_BOUNDS: { status: 400, title: 'Value out of bounds' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  TOKEN_INVALID: { status: 401, title: 'Reconnect token invalid' },
  TOKEN_EXPIRED: { status: 401, title: 'Reconnect token expired' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  VERSION_CONFLICT: { status: 409, title: 'Version conflict' },
  SEAT_TAKEN: { status: 409, title: 'Seat already taken' },
  LEASE_HELD: { status: 409, title: 'Lease held by another holder' },
  LEASE_LOST: { status: 409, title: 'Lease lost' },
  ALREADY_CLOSED: { status: 409, title: 'Already closed' },
  STORE_IN_USE: { status: 409, title: 'Store in use' },
  IDEMPOTENCY_IN_FLIGHT: { status: 409, title: 'Idempotent request still running' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused' },
  GAME_COMPLETED: { status: 410, title: 'Game completed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  CORRUPT_DATA: { status: 422, title: 'Stored data is corrupt' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal error' },
  STORAGE_UNAVAILABLE: { status: 503, title: 'Storage unavailable' },
  STORAGE_FULL: { status: 507, title: 'Storage full' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];

/** Structured, JSON-safe facts about an error (the failing op's index, the current holder, ...). */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface SavepointErrorOptions {
  /** The native error this one translates (a SQLite or PostgreSQL error, a socket error). */
  cause?: unknown;
  details?: ErrorDetails;
}

/** An error with a stable catalog code. `message` says what happened and what to do about it. */
export class SavepointError extends Error {
  override readonly name = 'SavepointError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: SavepointErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The HTTP status the catalog assigns to this code. */
  get status(): number {
    return errorCatalog[this.code].status;
  }

  get title(): string {
    return errorCatalog[this.code].title;
  }
}

export function isSavepointError(error: unknown, code?: ErrorCode): error is SavepointError {
  return error instanceof SavepointError && (code === undefined || error.code === code);
}

/** Wraps anything thrown that is not already a catalog error as `INTERNAL`, keeping it as `cause`. */
export function toSavepointError(error: unknown): SavepointError {
  if (error instanceof SavepointError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SavepointError('INTERNAL', `Unexpected error: ${message}`, { cause: error });
}

export const invalidInput = (message: string, details?: ErrorDetails): SavepointError =>
  new SavepointError('INVALID_INPUT', message, details === undefined ? {} : { details });

export const notFound = (message: string, details?: ErrorDetails): SavepointError =>
  new SavepointError('NOT_FOUND', message, details === undefined ? {} : { details });

export const versionConflict = (message: string, details?: ErrorDetails): SavepointError =>
  new SavepointError('VERSION_CONFLICT', message, details === undefined ? {} : { details });
