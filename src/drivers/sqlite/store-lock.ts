/**
 * Who has a SQLite store open. Every opener (a server, a game server embedding the library, a CLI
 * command, a backup) holds a SHARED lock on `<database>.lock` for as long as it has the store open;
 * a command that replaces the store (`restore`, `import --force`, `migrate --force`, the start-up
 * fallback that moves a damaged file aside) must first get the EXCLUSIVE lock, which the operating
 * system grants only while nobody else holds SHARED. It asks once and never waits: while the store
 * is open anywhere else, it refuses with `STORE_IN_USE` and changes nothing.
 *
 * Why these locks: they are POSIX record locks (`fcntl`), taken by SQLite itself on the lock file,
 * a small SQLite database in rollback-journal mode that nothing ever writes to. A SHARED lock is an
 * open read transaction on it; EXCLUSIVE is `BEGIN EXCLUSIVE` with no busy wait. The kernel drops
 * every lock of a process when it dies, `kill -9` included, so a crash never leaves a store locked,
 * and no file content decides anything (a pid file can be overwritten, deleted by a second server,
 * or name a recycled pid). better-sqlite3 is already here, so this needs no native add-on of its own
 * (Node has no `flock`).
 *
 * Two facts about POSIX locks shape the rest:
 * - They belong to a process, not to a connection. SQLite makes connections within one process
 *   exclude each other as separate processes would, so a second opener in this process also
 *   blocks a replacement. An opener that replaces the store itself (an `import --force` on the
 *   store it opened) upgrades its own hold ({@link StoreLock.exclusively}) instead of asking
 *   with a second connection, which its own SHARED lock would refuse.
 * - Closing any descriptor of the lock file drops every lock this process has on it. Only SQLite,
 *   which shares one descriptor per file across connections, may open it: never read or copy the
 *   lock file from a process that has the store open.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SavepointError } from '../../errors.js';

/**
 * `<database>.lock` beside the database (`./data/savepoint.db.lock`). It keeps its path when
 * `restore` moves the database aside, so it names the store, not one file's contents. A symlinked
 * database file is followed, so every path to one file shares one lock.
 */
export function lockFileOf(databaseFile: string): string {
  let resolved = path.resolve(databaseFile);
  try {
    resolved = fs.realpathSync(resolved);
  } catch {
    // Not created yet: its directory is enough (a symlinked directory is the same directory).
  }
  return `${resolved}.lock`;
}

const isBusy = (error: unknown): boolean =>
  error instanceof Error && /^SQLITE_BUSY/.test((error as { code?: string }).code ?? '');

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A process holding the lock file, as Linux's `/proc/locks` tells (best effort; none elsewhere). */
interface Holder {
  readonly pid: number;
  readonly command: string | undefined;
}

/** Other processes with a lock on `lockFile`, read from `/proc/locks`; empty where it cannot be read. */
function holdersOf(lockFile: string): Holder[] {
  let inode: number;
  let table: string;
  try {
    inode = fs.statSync(lockFile).ino;
    table = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const pids = new Set<number>();
  // `1: POSIX  ADVISORY  READ 15529 fe:00:2146548 1073741826 1073742335`
  for (const match of table.matchAll(/^\d+:\s+POSIX\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/gm)) {
    const pid = Number(match[1]);
    if (Number(match[2]) === inode && pid > 0 && pid !== process.pid) pids.add(pid);
  }
  return [...pids].sort((a, b) => a - b).map((pid) => ({ pid, command: commandOf(pid) }));
}

function commandOf(pid: number): string | undefined {
  try {
    const words = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const command = words.join(' ');
    // The end names the command and its data dir; the start names the program.
    return command.length > 160 ? `${command.slice(0, 60)} ... ${command.slice(-95)}` : command;
  } catch {
    return undefined;
  }
}

function describeHolders(holders: readonly Holder[]): string {
  if (holders.length === 0) return 'another Savepoint opener in this process';
  return holders
    .map((holder) => `process ${holder.pid}${holder.command === undefined ? '' : ` (${holder.command})`}`)
    .join(', ');
}

/**
 * The refusal of a replacement while others have the store open: it names the data dir, who holds
 * it when the system can tell, and what to stop.
 */
function storeInUse(databaseFile: string, lockFile: string, what: string): SavepointError {
  const holders = holdersOf(lockFile);
  const directory = path.dirname(path.resolve(databaseFile));
  return new SavepointError(
    'STORE_IN_USE',
    `Refusing to ${what}: the store ${path.resolve(databaseFile)} in data dir ${directory} is open in ${describeHolders(holders)}. Stop every savepoint serve, game server embedding Savepoint and savepoint command using ${directory}, then run this again; nothing was changed (STORE_IN_USE)`,
    {
      details: {
        dataDir: directory,
        holders: holders.map((holder) => holder.pid).join(',') || null,
      },
    },
  );
}

/** A hold on a SQLite store: SHARED while open, EXCLUSIVE while replacing. See the module comment. */
export class StoreLock {
  /** The database file this lock guards. */
  readonly databaseFile: string;
  /** The lock file (`<database>.lock`). */
  readonly path: string;
  readonly #db: Database.Database;
  readonly #waitMs: number;
  #released = false;

  private constructor(databaseFile: string, db: Database.Database, waitMs: number) {
    this.databaseFile = databaseFile;
    this.path = db.name;
    this.#db = db;
    this.#waitMs = waitMs;
  }

  static #open(databaseFile: string, waitMs: number): StoreLock {
    const lockFile = lockFileOf(databaseFile);
    let db: Database.Database;
    try {
      db = new Database(lockFile, { timeout: waitMs });
    } catch (cause) {
      throw new SavepointError(
        'STORAGE_UNAVAILABLE',
        `Cannot open the lock file ${lockFile} of ${databaseFile}: ${messageOf(cause)}`,
        { cause },
      );
    }
    return new StoreLock(databaseFile, db, waitMs);
  }

  /**
   * Holds the store shared until {@link release} (or this process ends). When a replacement is
   * running, waits up to `waitMs` for it (blocking this thread), then fails with `STORE_IN_USE`.
   */
  static share(databaseFile: string, waitMs: number): StoreLock {
    const lock = StoreLock.#open(databaseFile, waitMs);
    try {
      lock.#takeShared();
    } catch (error) {
      lock.#db.close();
      throw error;
    }
    return lock;
  }

  /**
   * Holds the store exclusively (for a replacement by a process that has not opened it), or fails
   * at once with `STORE_IN_USE` naming who has it open. `what` completes "Refusing to ...".
   */
  static claim(databaseFile: string, what: string): StoreLock {
    const lock = StoreLock.#open(databaseFile, 0);
    if (!lock.#tryExclusive()) {
      lock.#db.close();
      throw storeInUse(databaseFile, lock.path, what);
    }
    return lock;
  }

  /** The read transaction that is the SHARED lock; `STORE_IN_USE` when a replacement outlasts the wait. */
  #takeShared(): void {
    try {
      this.#db.exec('BEGIN');
      this.#db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      if (!isBusy(error)) {
        throw new SavepointError(
          'STORAGE_UNAVAILABLE',
          `Cannot lock ${this.path}: ${messageOf(error)}; with no Savepoint process running, delete it and start again`,
          { cause: error },
        );
      }
      throw new SavepointError(
        'STORE_IN_USE',
        `The store ${this.databaseFile} is being replaced by another command (restore, import --force or migrate --force) and stayed locked for ${this.#waitMs} ms; wait for it to finish, then start again (STORE_IN_USE)`,
      );
    }
  }

  /** `BEGIN EXCLUSIVE` without waiting: true when held, false while anyone else holds the file. */
  #tryExclusive(): boolean {
    this.#db.pragma('busy_timeout = 0');
    try {
      this.#db.exec('BEGIN EXCLUSIVE');
      return true;
    } catch (error) {
      if (isBusy(error)) return false;
      throw new SavepointError('STORAGE_UNAVAILABLE', `Cannot lock ${this.path}: ${messageOf(error)}`, {
        cause: error,
      });
    } finally {
      this.#db.pragma(`busy_timeout = ${this.#waitMs}`);
    }
  }

  /** Drops the shared hold and takes the exclusive one, or takes the shared one back and refuses. */
  #upgrade(what: string): void {
    if (this.#released) throw new SavepointError('STORAGE_UNAVAILABLE', 'The store lock is released');
    this.#db.exec('COMMIT');
    if (this.#tryExclusive()) return;
    this.#takeShared();
    throw storeInUse(this.databaseFile, this.path, what);
  }

  /** Back from exclusive to shared. Nothing was written, so ROLLBACK only drops the lock. */
  #downgrade(): void {
    this.#db.exec('ROLLBACK');
    this.#takeShared();
  }

  /**
   * Runs `work` (a replacement) with this hold upgraded to EXCLUSIVE, then returns to SHARED.
   * Refuses with `STORE_IN_USE`, before running `work`, while anyone else has the store open.
   */
  async exclusively<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.#upgrade(what);
    try {
      return await work();
    } finally {
      this.#downgrade();
    }
  }

  /** {@link exclusively} for synchronous work. */
  exclusivelySync<T>(what: string, work: () => T): T {
    this.#upgrade(what);
    try {
      return work();
    } finally {
      this.#downgrade();
    }
  }

  /** Lets go (idempotent). The lock file stays: deleting it could split later openers across two files. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#db.close();
  }
}
