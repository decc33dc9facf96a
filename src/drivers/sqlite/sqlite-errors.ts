/**
 * Translation of native SQLite failures into the error catalog (docs/errors.md): callers branch on a
 * stable code, and the native error stays attached as `cause`.
 */
import Database from 'better-sqlite3';
import { type ErrorCode, SavepointError, toSavepointError } from '../../errors.js';

interface Translation {
  readonly code: ErrorCode;
  readonly advice: string;
}

/** By primary result code; extended codes (`SQLITE_BUSY_SNAPSHOT`, `SQLITE_IOERR_FSYNC`) map by prefix. */
const TRANSLATIONS: ReadonlyMap<string, Translation> = new Map([
  [
    'SQLITE_BUSY',
    { code: 'STORAGE_UNAVAILABLE', advice: 'another connection holds the database lock; retry later' },
  ],
  [
    'SQLITE_LOCKED',
    { code: 'STORAGE_UNAVAILABLE', advice: 'another connection holds the database lock; retry later' },
  ],
  ['SQLITE_FULL', { code: 'STORAGE_FULL', advice: 'the disk holding the database is full; free space' }],
  [
    'SQLITE_CORRUPT',
    { code: 'CORRUPT_DATA', advice: 'the database file is damaged; restore it from a backup' },
  ],
  [
    'SQLITE_NOTADB',
    { code: 'CORRUPT_DATA', advice: 'the file is not a SQLite database or is damaged; check the path' },
  ],
  [
    'SQLITE_IOERR',
    { code: 'STORAGE_UNAVAILABLE', advice: 'the database file cannot be read or written; check the disk' },
  ],
  [
    'SQLITE_CANTOPEN',
    {
      code: 'STORAGE_UNAVAILABLE',
      advice: 'the database file cannot be opened; check the path and its permissions',
    },
  ],
  [
    'SQLITE_READONLY',
    { code: 'STORAGE_UNAVAILABLE', advice: 'the database file is read-only; check its permissions' },
  ],
  ['SQLITE_TOOBIG', { code: 'PAYLOAD_TOO_LARGE', advice: 'a value exceeds SQLite’s size limit' }],
]);

function translationOf(nativeCode: string): Translation | undefined {
  const underscore = nativeCode.indexOf('_', 'SQLITE_'.length);
  return TRANSLATIONS.get(underscore === -1 ? nativeCode : nativeCode.slice(0, underscore));
}

/**
 * Turns anything thrown by better-sqlite3 (or by the driver's own code) into a {@link SavepointError}.
 * Catalog errors pass through unchanged; unknown failures become `INTERNAL`. `where` names what was
 * being done, for the message (for example the database path at open).
 */
export function translateSqliteError(error: unknown, where = 'SQLite'): SavepointError {
  if (error instanceof SavepointError) return error;
  if (!(error instanceof Database.SqliteError)) return toSavepointError(error);
  const translation = translationOf(error.code);
  if (translation === undefined) {
    return new SavepointError('INTERNAL', `${where}: unexpected ${error.code}: ${error.message}`, {
      cause: error,
    });
  }
  return new SavepointError(
    translation.code,
    `${where}: ${translation.advice} (${error.code}: ${error.message})`,
    {
      cause: error,
    },
  );
}

/**
 * Whether a failure that aborted a whole batch might belong to one commit alone (a value too large,
 * a full disk that a smaller commit still fits), so retrying the commits one by one can save the
 * others. A busy lock or a damaged file would only fail every retry again, slowly.
 */
export function mayBeCommitSpecific(error: SavepointError): boolean {
  return error.code === 'INTERNAL' || error.code === 'STORAGE_FULL' || error.code === 'PAYLOAD_TOO_LARGE';
}
