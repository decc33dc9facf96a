/**
 * Online backups of a SQLite store, and restoring one. A backup is taken through a separate
 * read-only connection with SQLite's backup API, so the server keeps serving; the copy is written
 * under a temporary name (see `atomic-file.ts`), switched to a self-contained single file (rollback
 * journal), checked with `quick_check`, and only then fsynced and renamed into place as
 * `<data dir>/backups/savepoint-<timestamp>.db`. A crash mid-backup leaves the earlier backups as
 * they were and a temporary file that listings ignore and the next prune removes.
 *
 * A backup holds the store shared (`store-lock.ts`), as any opener does; a restore holds it
 * exclusively, so it refuses while any process has the store open.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { removeStaleTemporaries, replaceFileAtomically } from '../../atomic-file.js';
import { SavepointError } from '../../errors.js';
import {
  backupDirOf,
  copyIntoPlace,
  fileTimestamp,
  integrityProblems,
  listBackups,
  problemWithFile,
  quarantineDatabase,
} from './sqlite-recovery.js';
import { StoreLock } from './store-lock.js';

/** What one backup wrote. */
export interface BackupResult {
  /** The backup file (absolute). */
  readonly path: string;
  readonly bytes: number;
  readonly durationMs: number;
}

/** Pages copied per step; between steps the event loop (and the server) runs. */
const PAGES_PER_STEP = 2048;

/** The name of a backup taken at `date`: `savepoint-20260114T101530123Z.db` (names sort by time). */
export function backupFileName(date: Date): string {
  return `savepoint-${fileTimestamp(date)}.db`;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** How long a backup waits for a running restore or replacing import before it gives up. */
const BACKUP_LOCK_WAIT_MS = 5000;

/** Copies `source` into the new file `partial` online, then makes it one self-contained, checked file. */
async function copyAndVerify(source: string, partial: string): Promise<void> {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    let lastRemaining = Number.POSITIVE_INFINITY;
    await db.backup(partial, {
      // A write by another connection restarts the copy; after a restart, copy the rest in one
      // step (one read transaction), so a busy server cannot keep the backup from finishing.
      progress: ({ remainingPages }) => {
        const restarted = remainingPages > lastRemaining;
        lastRemaining = remainingPages;
        return restarted ? 0 : PAGES_PER_STEP;
      },
    });
  } finally {
    db.close();
  }
  const copy = new Database(partial, { fileMustExist: true });
  let problems: string[];
  try {
    copy.pragma('journal_mode = DELETE');
    problems = integrityProblems(copy);
  } finally {
    copy.close();
  }
  if (problems.length > 0) {
    throw new SavepointError(
      'CORRUPT_DATA',
      `The backup of ${source} fails its check (${problems.slice(0, 3).join('; ')}); run savepoint check`,
    );
  }
}

/**
 * Copies the live database `source` to `destination` (default: a new file in its backups
 * directory), online, then verifies the copy. Resolves with where it went and its size; fails with
 * `STORAGE_UNAVAILABLE` (cannot read or write) or `CORRUPT_DATA` (the copy fails its check), in
 * which case no file is left at `destination`.
 */
export async function backupSqliteFile(source: string, destination?: string): Promise<BackupResult> {
  const started = performance.now();
  const target = path.resolve(destination ?? path.join(backupDirOf(source), backupFileName(new Date())));
  if (!fs.existsSync(source)) {
    throw new SavepointError('STORAGE_UNAVAILABLE', `Cannot back up ${source}: no such database file`);
  }
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
  } catch (error) {
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `Cannot back up ${source} to ${target}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  // Shared, as any opener: a restore must not move the file away while it is being copied.
  const hold = StoreLock.share(source, BACKUP_LOCK_WAIT_MS);
  try {
    await replaceFileAtomically(target, (partial) => copyAndVerify(source, partial));
  } catch (error) {
    if (error instanceof SavepointError) throw error;
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `Cannot back up ${source} to ${target}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    hold.release();
  }
  return { path: target, bytes: fs.statSync(target).size, durationMs: performance.now() - started };
}

/**
 * Deletes the oldest backups in `dir` beyond the newest `keep`, and the temporary files of backups
 * whose writer died mid-copy; returns the removed backups.
 */
export function pruneBackups(dir: string, keep: number): string[] {
  removeStaleTemporaries(dir);
  const removed = listBackups(dir).slice(keep);
  for (const file of removed) fs.rmSync(file, { force: true });
  return removed;
}

export interface BackupSchedulerOptions {
  /** The live database file. */
  readonly source: string;
  readonly intervalMs: number;
  /** How many backups to keep in the backups directory. */
  readonly keep: number;
  readonly onBackup?: (result: BackupResult, pruned: readonly string[]) => void;
  /** Hears failures; the scheduler tries again at the next tick. */
  readonly onError: (error: unknown) => void;
}

/**
 * Takes a backup every `intervalMs` and keeps the newest `keep`. The timer does not keep the
 * process alive. Returns `stop`, which waits for a backup in progress.
 */
export function startBackupScheduler(options: BackupSchedulerOptions): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = backupSqliteFile(options.source)
      .then((result) => options.onBackup?.(result, pruneBackups(path.dirname(result.path), options.keep)))
      .catch(options.onError)
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export interface RestoreResult {
  /** The backup copied in. */
  readonly restoredFrom: string;
  /** Where the file it replaced went, if there was one. */
  readonly previousMovedTo?: string;
}

/**
 * Replaces the database `file` with `backup`, offline: refuses (`STORE_IN_USE`) while any process
 * has the store open (a server, a game server embedding the library, a command, a backup), refuses
 * (`CORRUPT_DATA`) a backup that fails `integrity_check`, and moves the current file aside to
 * `<file>.before-restore-<timestamp>` rather than deleting it. Holds the store exclusively
 * throughout, so nothing opens it half-restored.
 */
export function restoreSqliteFile(backup: string, file: string, now: Date = new Date()): RestoreResult {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const lock = StoreLock.claim(file, `restore ${backup}`);
  try {
    const problem = problemWithFile(backup, { check: 'integrity' });
    if (problem !== undefined) {
      throw new SavepointError('CORRUPT_DATA', `Refusing to restore ${backup}: it ${problem}`);
    }
    const previousMovedTo = fs.existsSync(file)
      ? quarantineDatabase(file, `.before-restore-${fileTimestamp(now)}`)
      : undefined;
    copyIntoPlace(backup, file);
    return {
      restoredFrom: path.resolve(backup),
      ...(previousMovedTo === undefined ? {} : { previousMovedTo }),
    };
  } finally {
    lock.release();
  }
}
