/**
 * Files Savepoint writes outside its databases (backups, exports, the generated API key, the
 * storage reserve, quarantine copies) appear whole or not at all. Each is written under a
 * temporary name in its final directory, fsynced, renamed over the final name, and then the
 * directory is fsynced so that the rename itself survives a power cut. A crash at any point leaves
 * either the previous file or none under the final name, plus at most a temporary file.
 *
 * Temporary names are hidden and end in `.tmp` (`.<name>.<pid>-<random>.tmp`), so nothing that
 * lists good files (backups, exports) can mistake one for a finished file; the pid in the name
 * lets {@link removeStaleTemporaries} clean up after a writer that died, and only after one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A temporary file, or the `-wal`/`-shm`/`-journal` SQLite kept beside one (a backup being written). */
const TEMPORARY_NAME = /^\.(.+)\.(\d+)-[0-9a-f]+\.tmp(-wal|-shm|-journal)?$/;

/** A fresh temporary path in the directory of `file`, for this process. */
export function temporaryPathOf(file: string): string {
  const resolved = path.resolve(file);
  const name = `.${path.basename(resolved)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  return path.join(path.dirname(resolved), name);
}

/** Whether a directory entry is a temporary file of this module (never a finished file). */
export function isTemporaryName(name: string): boolean {
  return TEMPORARY_NAME.test(name);
}

/** Makes the directory's entries (a rename, a new file, a removal) durable. */
export function fsyncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Puts the finished temporary file in place: fsync, rename over `file` (or, `exclusive`, a link that
 * fails with `EEXIST` when `file` exists, so two writers agree on the first one), fsync the directory.
 */
function commit(temporary: string, file: string, exclusive: boolean): void {
  fsyncFile(temporary);
  if (exclusive) {
    fs.linkSync(temporary, file);
    fs.rmSync(temporary, { force: true });
  } else {
    fs.renameSync(temporary, file);
  }
  fsyncDirectory(path.dirname(path.resolve(file)));
}

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o666 before the umask). */
  readonly mode?: number;
  /** Fail with `EEXIST` instead of replacing an existing `file`. */
  readonly exclusive?: boolean;
}

/**
 * Runs `fill` on a fresh temporary path beside `file` (it may write it by any means: a stream,
 * SQLite's backup API, a copy), then puts the result in place atomically. On any failure the
 * temporary file is removed and `file` is left as it was.
 */
export async function replaceFileAtomically<T>(
  file: string,
  fill: (temporary: string) => Promise<T>,
  options: AtomicWriteOptions = {},
): Promise<T> {
  const temporary = temporaryPathOf(file);
  try {
    const result = await fill(temporary);
    commit(temporary, file, options.exclusive ?? false);
    return result;
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** {@link replaceFileAtomically} for a synchronous `fill`. */
export function replaceFileAtomicallySync<T>(
  file: string,
  fill: (temporary: string) => T,
  options: AtomicWriteOptions = {},
): T {
  const temporary = temporaryPathOf(file);
  try {
    const result = fill(temporary);
    commit(temporary, file, options.exclusive ?? false);
    return result;
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** Writes `data` to `file` atomically (see the module comment). */
export function writeFileAtomicSync(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  replaceFileAtomicallySync(
    file,
    (temporary) => fs.writeFileSync(temporary, data, { flag: 'wx', mode: options.mode ?? 0o666 }),
    options,
  );
}

/** Copies `source` to `file` atomically (see the module comment). */
export function copyFileAtomicSync(source: string, file: string): void {
  replaceFileAtomicallySync(file, (temporary) =>
    fs.copyFileSync(source, temporary, fs.constants.COPYFILE_EXCL),
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files in `directory` left by writers that are no longer running (a crash
 * mid-write); those of live processes, this one included, may still be in use and are kept.
 * Returns the removed paths. Best effort: a directory that cannot be read removes nothing.
 */
export function removeStaleTemporaries(directory: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(directory);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY_NAME.exec(name);
    if (match === null || isAlive(Number(match[2]))) continue;
    const file = path.join(directory, name);
    try {
      fs.rmSync(file, { force: true });
      removed.push(file);
    } catch {
      // Another cleaner got it first, or it cannot be removed: it is ignored either way.
    }
  }
  return removed;
}
