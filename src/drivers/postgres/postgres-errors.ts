/**
 * Translation of PostgreSQL and socket errors into catalog errors (docs/errors.md). The original is
 * always kept as `cause`.
 */
import postgres from 'postgres';
import { SavepointError } from '../../errors.js';

/** Socket and client-side codes (Node's and postgres.js's) that mean "the server cannot be reached". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/** SQLSTATEs (besides class 08, connection exceptions) after which the database is unusable for now. */
const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '53000', // insufficient_resources
  '53200', // out_of_memory
  '53300', // too_many_connections
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name: the database does not exist
  '25006', // read_only_sql_transaction: connected to a standby
]);

/** SQLSTATEs after which the whole transaction can simply run again. */
const RETRYABLE_STATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  // unique_violation: only our own plain INSERTs of rows the batch saw as missing raise it, when a
  // concurrent transaction created the same row first ("first insert race"). Retrying reloads it.
  '23505',
]);

export function sqlStateOf(error: unknown): string | undefined {
  return error instanceof postgres.PostgresError ? error.code : undefined;
}

function socketCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Node 20 connects to every address of a host at once and reports an AggregateError.
  if (error instanceof AggregateError) return socketCodeOf(error.errors[0]);
  return undefined;
}

/**
 * True when the connection that raised `error` is gone or going (a socket error, or a FATAL
 * server error, after which the server hangs up). Nothing may be sent on it again: postgres.js
 * throws an uncaught TypeError when a query is written to a closed socket.
 */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof postgres.PostgresError)
    return error.severity === 'FATAL' || error.severity === 'PANIC';
  const code = socketCodeOf(error);
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/** True when running the whole transaction again may succeed (serialization failure, deadlock, insert race). */
export function isRetryable(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && RETRYABLE_STATES.has(state);
}

/** True when the error is about the data of one commit (a value PostgreSQL refuses), not the database. */
export function isDataError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('54'));
}

/** Turns anything thrown by the client into a catalog error; `action` says what was being done. */
export function translatePostgresError(error: unknown, action: string): SavepointError {
  if (error instanceof SavepointError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlStateOf(error);
  if (state !== undefined) {
    if (state === '53100') {
      return new SavepointError(
        'STORAGE_FULL',
        `PostgreSQL is out of disk space while ${action}: ${message}`,
        {
          cause: error,
        },
      );
    }
    if (state.startsWith('08') || UNAVAILABLE_STATES.has(state)) {
      return new SavepointError(
        'STORAGE_UNAVAILABLE',
        `PostgreSQL is unavailable while ${action} (${state}): ${message}`,
        { cause: error },
      );
    }
    if (RETRYABLE_STATES.has(state)) {
      return new SavepointError(
        'STORAGE_UNAVAILABLE',
        `PostgreSQL kept aborting the transaction while ${action} (${state}: ${message}); try again`,
        { cause: error },
      );
    }
    if (isDataError(error)) {
      return new SavepointError('INVALID_INPUT', `PostgreSQL refused the data while ${action}: ${message}`, {
        cause: error,
      });
    }
    return new SavepointError('INTERNAL', `PostgreSQL failed while ${action} (${state}): ${message}`, {
      cause: error,
    });
  }
  const code = socketCodeOf(error);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new SavepointError(
      'STORAGE_UNAVAILABLE',
      `PostgreSQL cannot be reached while ${action} (${code}): ${message}`,
      { cause: error },
    );
  }
  return new SavepointError('INTERNAL', `Unexpected error while ${action}: ${message}`, { cause: error });
}
