/**
 * Online backups of a SQLite store (issue #7 item 2), and restoring one. A backup is taken through
 * a separate read-only connection with SQLite's backup API, so the server keeps serving; the copy
 * is switched to a self-contained single file (rollback journal), checked with `quick_check`, and
 * only then renamed into place as `<data dir>/backups/savepoint-<timestamp>.db`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
  const partial = `${target}.partial`;
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(partial, { force: true });
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
    fs.renameSync(partial, target);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    if (error instanceof SavepointError) throw error;
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `Cannot back up ${source} to ${target}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  return { path: target, bytes: fs.statSync(target).size, durationMs: performance.now() - started };
}

/** Deletes the oldest backups in `dir` beyond the newest `keep`; returns the removed paths. */
export function pruneBackups(dir: string, keep: number): string[] {
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

/** The lock file a serving process holds for a database file: `<data dir>/savepoint.pid`. */
export function lockFileOf(file: string): string {
  return path.join(path.dirname(path.resolve(file)), `${path.basename(file, '.db')}.pid`);
}

/** Writes this process's pid into the lock file of `file`; returns the function that removes it. */
export function holdLock(file: string): () => void {
  const lock = lockFileOf(file);
  fs.writeFileSync(lock, `${process.pid}\n`);
  return () => {
    try {
      if (fs.readFileSync(lock, 'utf8').trim() === String(process.pid)) fs.rmSync(lock, { force: true });
    } catch {
      // Already gone.
    }
  };
}

/** The pid of a live process holding `file`, or `undefined` (no lock file, or a stale one). */
export function lockHolder(file: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(lockFileOf(file), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: it exists but belongs to someone else; it still holds the file.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export interface RestoreResult {
  /** The backup copied in. */
  readonly restoredFrom: string;
  /** Where the file it replaced went, if there was one. */
  readonly previousMovedTo?: string;
}

/**
 * Replaces the database `file` with `backup`, offline: refuses (`VERSION_CONFLICT`) while a server
 * holds the file, refuses (`CORRUPT_DATA`) a backup that fails `integrity_check`, and moves the
 * current file aside to `<file>.before-restore-<timestamp>` rather than deleting it.
 */
export function restoreSqliteFile(backup: string, file: string, now: Date = new Date()): RestoreResult {
  const holder = lockHolder(file);
  if (holder !== undefined) {
    throw new SavepointError(
      'VERSION_CONFLICT',
      `Refusing to restore: process ${holder} is serving ${file} (see ${lockFileOf(file)}); stop it first`,
    );
  }
  const problem = problemWithFile(backup, { check: 'integrity' });
  if (problem !== undefined) {
    throw new SavepointError('CORRUPT_DATA', `Refusing to restore ${backup}: it ${problem}`);
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const previousMovedTo = fs.existsSync(file)
    ? quarantineDatabase(file, `.before-restore-${fileTimestamp(now)}`)
    : undefined;
  copyIntoPlace(backup, file);
  return {
    restoredFrom: path.resolve(backup),
    ...(previousMovedTo === undefined ? {} : { previousMovedTo }),
  };
}
