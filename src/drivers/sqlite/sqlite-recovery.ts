/**
 * Start-up on any data directory: corrupt or partial data must not crash the backend. Before the
 * driver opens a file it checks it: a zero-length file, a file that is not SQLite, a garbled
 * write-ahead log, or a file failing `PRAGMA quick_check` is moved aside to
 * `<file>.corrupt-<timestamp>` (never deleted), then the newest backup that passes its own check is
 * copied in, or the store starts empty. One error line says what happened and where the old file
 * is; the returned {@link StartupRecovery} is what `/health` reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { copyFileAtomicSync, fsyncDirectory } from '../../atomic-file.js';
import type { StartupRecovery } from '../../engine/driver.js';
import { SavepointError } from '../../errors.js';

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** The WAL header magic numbers (the last bit tells the checksum byte order). */
const WAL_MAGIC = new Set([0x377f0682, 0x377f0683]);
const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

export interface RecoveryOptions {
  /** Where backups are looked for; default `<directory of the file>/backups`. */
  readonly backupDir?: string;
  /** Hears the one line describing a fallback; default: written to stderr. */
  readonly log?: (line: string) => void;
  /** The time used in the quarantine name and the report; default now. */
  readonly now?: () => Date;
  /**
   * Runs the fallback that moves the damaged file aside and puts a backup in its place. The driver
   * passes its store lock here, so the fallback refuses (`STORE_IN_USE`) while another process has
   * the store open instead of pulling the file from under it. Default: runs it directly.
   */
  readonly replacing?: <T>(work: () => T) => T;
}

/** A compact, sortable, file-name-safe UTC time: `20260114T101530123Z`. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

/** The default backup directory of a database file. */
export function backupDirOf(file: string): string {
  return path.join(path.dirname(path.resolve(file)), 'backups');
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs SQLite's check on an open connection: the problems found (empty when sound). `full` runs
 * `integrity_check` (also cross-checks indexes against tables), otherwise `quick_check`.
 */
export function integrityProblems(db: Database.Database, full = false): string[] {
  const rows = db.pragma(full ? 'integrity_check' : 'quick_check') as Array<Record<string, unknown>>;
  // One row can hold several lines ("*** in database main ***\nPage 4: ..."); keep one problem a line.
  const lines = rows.flatMap((row) =>
    String(Object.values(row)[0])
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('***')),
  );
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}

/**
 * Checks a database file without changing its contents: why it cannot be used, or `undefined` when
 * it opens and passes the check. Opening may create its `-shm` index file.
 *
 * `check` picks the depth: `integrity` (the full check, after a fallback), `quick` (`quick_check`,
 * the default), or `open` (the header and the schema page only). `quick_check` reads every page, so
 * its cost grows with the file; start-up uses it only after an unclean shutdown (see
 * {@link prepareSqliteFile}), to keep the open time of a cleanly closed store flat as data grows.
 * `readonly` opens the file read-only, for checking a file a running server is writing to.
 */
export function problemWithFile(
  file: string,
  options: { readonly check?: 'integrity' | 'quick' | 'open'; readonly readonly?: boolean } = {},
): string | undefined {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (error) {
    return `cannot be read (${messageOf(error)})`;
  }
  if (size === 0) return 'zero-length file';
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, header.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) return 'not a SQLite database (bad header)';
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true, readonly: options.readonly ?? false });
    const check = options.check ?? 'quick';
    if (check === 'open') {
      db.pragma('schema_version');
      return undefined;
    }
    const problems = integrityProblems(db, check === 'integrity');
    if (problems.length > 0) return `fails the integrity check: ${problems.slice(0, 3).join('; ')}`;
    return undefined;
  } catch (error) {
    return `cannot be opened (${messageOf(error)})`;
  } finally {
    db?.close();
  }
}

/** The largest database file whose every page is checked at start (64 MiB: about 170 ms). */
export const QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024;

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readUInt32(buffer: Buffer, offset: number): number {
  return buffer.readUInt32BE(offset);
}

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `s0`, `s1`. */
function walChecksum(data: Buffer, bigEndian: boolean, s0: number, s1: number): [number, number] {
  let a = s0;
  let b = s1;
  for (let offset = 0; offset + 8 <= data.length; offset += 8) {
    const x = bigEndian ? data.readUInt32BE(offset) : data.readUInt32LE(offset);
    const y = bigEndian ? data.readUInt32BE(offset + 4) : data.readUInt32LE(offset + 4);
    a = (a + x + b) >>> 0;
    b = (b + y + a) >>> 0;
  }
  return [a, b];
}

/**
 * Why a write-ahead log is damaged, or `undefined` when it is absent, empty or sound. SQLite
 * silently ignores a log whose header is bad, and every frame after the first bad checksum; a torn
 * last frame is a normal crash, but a bad header, or a bad frame followed by later frames of the
 * same log generation, means committed data would vanish unannounced.
 */
export function problemWithWal(walFile: string): string | undefined {
  let wal: Buffer;
  try {
    wal = fs.readFileSync(walFile);
  } catch {
    return undefined;
  }
  if (wal.length === 0) return undefined;
  if (wal.length < WAL_HEADER_BYTES) return 'the write-ahead log is shorter than its header';
  const magic = readUInt32(wal, 0);
  if (!WAL_MAGIC.has(magic)) return 'the write-ahead log has a bad header';
  const bigEndian = (magic & 1) === 1;
  const pageSize = readUInt32(wal, 8);
  const [h0, h1] = walChecksum(wal.subarray(0, 24), bigEndian, 0, 0);
  if (h0 !== readUInt32(wal, 24) || h1 !== readUInt32(wal, 28))
    return 'the write-ahead log header fails its checksum';
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    return 'the write-ahead log names an impossible page size';
  const salt1 = readUInt32(wal, 16);
  const salt2 = readUInt32(wal, 20);
  const frameBytes = WAL_FRAME_HEADER_BYTES + pageSize;
  let s0 = h0;
  let s1 = h1;
  let brokenAt: number | undefined;
  for (
    let offset = WAL_HEADER_BYTES, frame = 1;
    offset + frameBytes <= wal.length;
    offset += frameBytes, frame++
  ) {
    const sameGeneration = readUInt32(wal, offset + 8) === salt1 && readUInt32(wal, offset + 12) === salt2;
    if (brokenAt !== undefined) {
      if (sameGeneration) return `the write-ahead log is damaged at frame ${brokenAt}, before later commits`;
      continue;
    }
    if (!sameGeneration) {
      brokenAt = frame;
      continue;
    }
    [s0, s1] = walChecksum(wal.subarray(offset, offset + 8), bigEndian, s0, s1);
    [s0, s1] = walChecksum(wal.subarray(offset + 24, offset + frameBytes), bigEndian, s0, s1);
    if (s0 !== readUInt32(wal, offset + 16) || s1 !== readUInt32(wal, offset + 20)) brokenAt = frame;
  }
  return undefined;
}

/** Moves `from` to `to`, if it exists; a failure is `STORAGE_UNAVAILABLE` naming both paths. */
function moveAside(from: string, to: string): boolean {
  if (!fs.existsSync(from)) return false;
  try {
    fs.renameSync(from, to);
    return true;
  } catch (cause) {
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `Cannot move ${from} aside to ${to}: ${messageOf(cause)}`,
      {
        cause,
      },
    );
  }
}

/**
 * Moves a database file and its `-wal`/`-shm` companions aside as `<file><suffix>`,
 * `<file><suffix>-wal`, `<file><suffix>-shm`, so they stay a pair SQLite can open. Returns the new
 * path of the main file.
 */
export function quarantineDatabase(file: string, suffix: string): string {
  const target = `${file}${suffix}`;
  moveAside(file, target);
  moveAside(`${file}-wal`, `${target}-wal`);
  moveAside(`${file}-shm`, `${target}-shm`);
  fsyncDirectory(path.dirname(path.resolve(file)));
  return target;
}

/** Backup files in `dir` (`savepoint-*.db`), newest first (their names sort by time). */
export function listBackups(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^savepoint-.*\.db$/.test(name))
    .sort()
    .reverse()
    .map((name) => path.join(dir, name));
}

/** Copies `backup` over `file` atomically (see `atomic-file.ts`), so `file` is never half-written. */
export function copyIntoPlace(backup: string, file: string): void {
  copyFileAtomicSync(backup, file);
}

/** Fails, naming the directory, unless a file can be created in it. */
export function assertWritableDirectory(directory: string): void {
  const probe = path.join(directory, `.savepoint-write-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (cause) {
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `The data directory ${directory} is not writable (${(cause as NodeJS.ErrnoException).code ?? messageOf(cause)}); fix its permissions or choose another with --data-dir`,
      { cause },
    );
  }
}

function describe(file: string, recovery: StartupRecovery): string {
  const then =
    recovery.action === 'restored-backup'
      ? `restored the backup ${recovery.backup}`
      : 'started with an empty store (no good backup was found)';
  if (recovery.action === 'truncated-wal') {
    return `error: the write-ahead log of ${file} is damaged (${recovery.reason}); copied it to ${recovery.quarantinedTo}; the commits before the damage are kept, the ones after it are lost`;
  }
  return `error: the database ${file} could not be used as found (${recovery.reason}); moved it to ${recovery.quarantinedTo}; ${then}`;
}

/**
 * Makes `file` safe to open, taking a fallback when it cannot be used as found (see the module
 * comment). Returns what was done, or `undefined` when the file was sound (or did not exist yet).
 * After a fallback the file in place passes `integrity_check`, or this throws `CORRUPT_DATA`.
 */
export function prepareSqliteFile(file: string, options: RecoveryOptions = {}): StartupRecovery | undefined {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = (options.now ?? (() => new Date()))();
  assertWritableDirectory(path.dirname(path.resolve(file)));
  if (!fs.existsSync(file)) return undefined;
  const suffix = `.corrupt-${fileTimestamp(now)}`;
  const at = now.toISOString();

  let reason = problemWithWal(`${file}-wal`);
  if (reason !== undefined) {
    // The log is damaged. It is copied aside, never moved: another process (a second server, the
    // seed or migrate command) may have the database open and be appending to this very log, and a
    // torn read of a live log looks damaged too. Left in place, SQLite itself applies the commits
    // before the damage and ignores the rest, which keeps more than discarding the whole log would.
    const walCopy = `${file}${suffix}-wal`;
    copyFileAtomicSync(`${file}-wal`, walCopy);
    const mainProblem = problemWithFile(file);
    if (mainProblem === undefined) {
      const recovery: StartupRecovery = { action: 'truncated-wal', reason, quarantinedTo: walCopy, at };
      log(describe(file, recovery));
      return recovery;
    }
    reason = `${reason}; and the database file ${mainProblem}`;
  } else {
    // quick_check reads every page (about 2.6 ms per MiB here), so only files up to
    // QUICK_CHECK_MAX_BYTES get it at start; larger ones are opened and their schema page read, so
    // start-up stays flat as data grows. `savepoint check` and every verified backup cover the rest.
    const check = fileSize(file) <= QUICK_CHECK_MAX_BYTES ? 'quick' : 'open';
    reason = problemWithFile(file, { check });
    if (reason === undefined) return undefined;
  }

  const found = reason;
  const replacing = options.replacing ?? (<T>(work: () => T): T => work());
  const recovery = replacing((): StartupRecovery => {
    const quarantinedTo = quarantineDatabase(file, suffix);
    for (const backup of listBackups(options.backupDir ?? backupDirOf(file))) {
      if (problemWithFile(backup) !== undefined) continue;
      copyIntoPlace(backup, file);
      return { action: 'restored-backup', reason: found, quarantinedTo, backup, at };
    }
    return { action: 'started-empty', reason: found, quarantinedTo, at };
  });
  const { quarantinedTo } = recovery;
  if (recovery.action === 'restored-backup') {
    const problem = problemWithFile(file, { check: 'integrity' });
    if (problem !== undefined) {
      throw new SavepointError(
        'CORRUPT_DATA',
        `Refusing to serve: ${file} (restored from ${recovery.backup}) still ${problem}; the damaged original is at ${quarantinedTo}`,
      );
    }
  }
  log(describe(file, recovery));
  return recovery;
}
