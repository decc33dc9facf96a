/**
 * The storage reserve (for `STORAGE_FULL`, see src/engine/storage-full.ts): a file of real bytes kept beside the database, deleted
 * when SQLite reports the disk full. In WAL mode even a DELETE first appends pages to the log, so
 * on a disk at 100% the sweep that would make room fails just like the write did; deleting the
 * reserve gives it that room. The driver decides when to release and retake it (`sqlite-driver.ts`).
 *
 * The bytes are written, not reserved with a seek or `truncate`: a sparse file holds no blocks, and
 * deleting it would free nothing.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { removeStaleTemporaries, replaceFileAtomicallySync } from '../../atomic-file.js';

/** Default size: room for a sweep or a few game deletions, at a cost no data dir notices. */
export const DEFAULT_RESERVE_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/** `<dir>/savepoint.reserve` for `<dir>/savepoint.db`: one reserve per database file, never shared. */
export function reservePathOf(databaseFile: string): string {
  const resolved = path.resolve(databaseFile);
  return path.join(path.dirname(resolved), `${path.basename(resolved, path.extname(resolved))}.reserve`);
}

/** Outcome of {@link StorageReserve.take}: `no-room` waits for space; `failed` will not get better by waiting. */
export type TakeOutcome = 'held' | 'no-room' | 'failed';

const mib = (bytes: number): string =>
  `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;

export class StorageReserve {
  readonly path: string;
  readonly bytes: number;
  readonly #log: (line: string) => void;
  #held = false;

  constructor(databaseFile: string, bytes: number, log: (line: string) => void) {
    this.path = reservePathOf(databaseFile);
    this.bytes = bytes;
    this.#log = log;
  }

  get held(): boolean {
    return this.#held;
  }

  /** The size, for log lines. */
  get size(): string {
    return mib(this.bytes);
  }

  /** Bytes an unprivileged writer can still allocate on the reserve's filesystem. */
  freeBytes(): number {
    try {
      const stats = fs.statfsSync(path.dirname(this.path));
      return stats.bavail * stats.bsize;
    } catch {
      return 0;
    }
  }

  /**
   * Makes the reserve whole: keeps a file of the right size whose blocks are all allocated, or
   * writes one when the disk has the room (`no-room` otherwise, leaving what space there is to the
   * database). Never throws: the reserve is a safety margin, not a reason to fail.
   */
  take(): TakeOutcome {
    // A reserve being written when its process died is only a temporary file: give its room back.
    removeStaleTemporaries(path.dirname(this.path));
    const existing = allocatedBytes(this.path);
    if (existing >= this.bytes && fileSize(this.path) === this.bytes) {
      this.#held = true;
      return 'held';
    }
    if (this.freeBytes() + existing < this.bytes) return 'no-room';
    try {
      writeReserve(this.path, this.bytes, Buffer.alloc(CHUNK_BYTES));
      // A compressing filesystem (ZFS, btrfs) stores zeros as holes; bytes it cannot compress it must keep.
      if (allocatedBytes(this.path) < this.bytes)
        writeReserve(this.path, this.bytes, randomBytes(CHUNK_BYTES));
      this.#held = true;
      return 'held';
    } catch (error) {
      fs.rmSync(this.path, { force: true });
      this.#held = false;
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return 'no-room';
      this.#log(
        `warning: cannot write the storage reserve ${this.path} (${error instanceof Error ? error.message : String(error)}); running without one`,
      );
      return 'failed';
    }
  }

  /** Deletes the reserve, giving its bytes to the database; `true` when it was held. */
  release(): boolean {
    if (!this.#held) return false;
    this.#held = false;
    try {
      fs.rmSync(this.path, { force: true });
      return true;
    } catch {
      return false;
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Bytes of `file` backed by blocks on disk (0 for a missing file, or where `blocks` is unknown). */
function allocatedBytes(file: string): number {
  try {
    return fs.statSync(file).blocks * 512;
  } catch {
    return 0;
  }
}

/**
 * Writes the reserve atomically (see `atomic-file.ts`): a crash never leaves a short one in place.
 * A reserve of the wrong size goes first, so the disk never needs room for two.
 */
function writeReserve(file: string, bytes: number, chunk: Buffer): void {
  fs.rmSync(file, { force: true });
  replaceFileAtomicallySync(file, (temporary) => {
    const fd = fs.openSync(temporary, 'wx');
    try {
      for (let written = 0; written < bytes; ) {
        written += fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
      }
    } finally {
      fs.closeSync(fd);
    }
  });
}
