/**
 * The SQLite driver: one database file, opened in WAL mode with prepared statements, the default
 * store of Savepoint. A batch of commits from the engine's group commit is applied in
 * one write transaction, each commit of several ops in its own savepoint, so a commit that fails a
 * condition leaves no trace while its neighbours still apply, and the whole batch costs one commit
 * (and, in `full` durability, one fsync).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type {
  Driver,
  DriverCapabilities,
  ExternalChangeListener,
  ImportCounts,
  ImportOptions,
  PreparedCommit,
  PreparedOp,
  RecordDump,
  StartupRecovery,
} from '../../engine/driver.js';
import { completeRecordOp } from '../../engine/idempotency.js';
import type {
  BoardEntry,
  BoardInfo,
  CommitResult,
  DocumentPage,
  OpResult,
  StoredDocument,
  StreamEvent,
  SweepResult,
} from '../../engine/types.js';
import { invalidInput, SavepointError } from '../../errors.js';
import { BoardTable } from './board-table.js';
import { DataVersionWatcher } from './data-version-watcher.js';
import { DocumentTable, isOneStatement } from './document-table.js';
import * as dump from './dump.js';
import { integrityProblemsOffThread } from './integrity-off-thread.js';
import { migrate, schemaVersion } from './migrations.js';
import { mayBeCommitSpecific, translateSqliteError } from './sqlite-errors.js';
import { integrityProblems, prepareSqliteFile, type RecoveryOptions } from './sqlite-recovery.js';
import { DEFAULT_RESERVE_BYTES, StorageReserve } from './storage-reserve.js';
import { StoreLock } from './store-lock.js';
import { StreamTable } from './stream-table.js';
import { WalCheckpointer } from './wal-checkpointer.js';

export interface SqliteDriverOptions {
  /** File path, or `':memory:'`. A missing parent directory is created. */
  readonly path: string;
  /**
   * `normal` (default): WAL with `synchronous=NORMAL`; survives process crashes (kill -9), at risk
   * only on power loss. `full`: `synchronous=FULL`, an fsync on every commit (one per batch).
   */
  readonly durability?: 'normal' | 'full';
  /** How long a write waits for another process holding the write lock, in ms; default 5000. */
  readonly busyTimeoutMs?: number;
  /**
   * Take a fallback instead of failing when the file cannot be used as found (a corrupt, truncated
   * or zero-length file, a garbled WAL): quarantine it, restore the newest good backup or start
   * empty, and report it as `capabilities.recovery` (see `sqlite-recovery.ts`). Default false: such
   * a file fails with `CORRUPT_DATA`. `open.ts` turns it on for `sqlite:` URLs.
   */
  readonly recover?: boolean | RecoveryOptions;
  /**
   * Size of the storage reserve `<dir>/<name>.reserve` kept beside a database file, in bytes;
   * default 4 MiB, 0 for none. When the disk fills it is deleted so that expired data and old games
   * can still be removed to make room (see `storage-reserve.ts`).
   */
  readonly reserveBytes?: number;
  /**
   * Copy the WAL into the database from a worker thread once the store is busy (default true), so
   * that the event loop does not stall for each checkpoint (see `wal-checkpointer.ts`). False
   * leaves every checkpoint to SQLite on this connection.
   */
  readonly offThreadCheckpoints?: boolean;
  /** Hears the storage reserve's warnings (released, not created); default: written to stderr. */
  readonly log?: (line: string) => void;
}

/** The settings in force on the driver's connection, as SQLite reports them (for start-up logs and tests). */
export interface SqliteConnectionSettings {
  readonly path: string;
  /** `wal` for files, `memory` for `:memory:`. */
  readonly journalMode: string;
  readonly synchronous: 'off' | 'normal' | 'full' | 'extra';
  readonly busyTimeoutMs: number;
  readonly schemaVersion: number;
  /** WAL pages at which a commit on this connection checkpoints (SQLite's `wal_autocheckpoint`). */
  readonly autoCheckpointPages: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** Page cache per connection, in KiB (negative means KiB to SQLite): large boards rank without disk reads. */
const CACHE_KIB = 64 * 1024;
const SYNCHRONOUS_MODES = ['off', 'normal', 'full', 'extra'] as const;
/** SQLite's default `wal_autocheckpoint`, which this connection keeps except around a settle's commit. */
const AUTO_CHECKPOINT_PAGES = 1000;

function closedError(): SavepointError {
  return new SavepointError('STORAGE_UNAVAILABLE', 'The SQLite driver is closed');
}

const isFull = (outcome: CommitResult | SavepointError | undefined): boolean =>
  outcome instanceof SavepointError && outcome.code === 'STORAGE_FULL';

/** Ops that only remove: what the storage-full path commits to make room, so they may use the reserve's. */
const REMOVALS: ReadonlySet<PreparedOp['op']> = new Set([
  'delete',
  'deleteStream',
  'removeMember',
  'deleteBoard',
]);
const touchesBoards = (op: PreparedOp): boolean =>
  op.op === 'score' || op.op === 'removeMember' || op.op === 'deleteBoard';
const removes = (commit: PreparedCommit): boolean => commit.ops.every((op) => REMOVALS.has(op.op));

/** The storage reserve of a file store (taken, or found without room, at open) and where it reports. */
export interface SqliteReserveParts {
  readonly reserve?: StorageReserve;
  readonly log?: (line: string) => void;
  /** The shared hold on a file store (see `store-lock.ts`), released when the driver closes. */
  readonly lock?: StoreLock;
}

/** A store in one SQLite file. Open it with {@link openSqliteDriver}. */
export class SqliteDriver implements Driver {
  readonly name = 'sqlite';
  readonly capabilities: DriverCapabilities;
  readonly #db: Database.Database;
  readonly #documents: DocumentTable;
  readonly #streams: StreamTable;
  readonly #boards: BoardTable;
  readonly #watcher: DataVersionWatcher;
  /** Takes WAL checkpoints off the event loop once the store is busy; none for `:memory:`. */
  readonly #checkpointer: WalCheckpointer | undefined;
  /** Every commit of the batch, in one write transaction; fills `outcomes` in batch order. */
  readonly #applyAll: Database.Transaction<
    (batch: readonly PreparedCommit[], outcomes: Array<CommitResult | SavepointError>) => void
  >;
  /** One commit inside a savepoint, so that its failure undoes only its own ops. */
  readonly #applyIsolated: Database.Transaction<(commit: PreparedCommit) => CommitResult>;
  /** Reads that take several statements run in one read transaction, so they see one snapshot. */
  readonly #readDocuments: Database.Transaction<
    (collection: string, keys: readonly string[], now: number) => StoredDocument[]
  >;
  readonly #readBoardRange: Database.Transaction<
    (board: string, offset: number, limit: number) => BoardEntry[]
  >;
  readonly #readBoardMember: Database.Transaction<(board: string, member: string) => BoardEntry | undefined>;
  readonly #sweep: Database.Transaction<(now: number, limit: number) => SweepResult>;
  #closed = false;
  /** Set while a settle's commit runs without this connection's automatic checkpoint. */
  #checkpointDeferred = false;
  /** Set while `importRecords` writes (on its own connection); commits and sweeps wait for it. */
  #importing: Promise<void> | undefined;
  /** Dropped for good when it cannot be written for a reason other than space. */
  #reserve: StorageReserve | undefined;
  /** Tells replacing commands in other processes that this store is open; none for `:memory:`. */
  readonly #lock: StoreLock | undefined;
  readonly #log: (line: string) => void;
  /** Stops the integrity checks running in worker threads when the driver closes. */
  readonly #closing = new AbortController();

  /** Wraps a connection that is already configured and migrated; use {@link openSqliteDriver}. */
  constructor(
    db: Database.Database,
    recovery?: StartupRecovery,
    reserve: SqliteReserveParts = {},
    offThreadCheckpoints = true,
  ) {
    this.#db = db;
    this.#reserve = reserve.reserve;
    this.#lock = reserve.lock;
    this.#log = reserve.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const persistent = !db.memory;
    // Nothing else can open a `:memory:` database.
    this.capabilities = {
      persistent,
      sharedAcrossProcesses: persistent,
      maxConcurrentBatches: 1,
      ...(recovery === undefined ? {} : { recovery }),
    };
    this.#documents = new DocumentTable(db);
    this.#streams = new StreamTable(db);
    this.#boards = new BoardTable(db);
    this.#watcher = new DataVersionWatcher(db);
    this.#checkpointer = persistent && offThreadCheckpoints ? new WalCheckpointer(db.name) : undefined;
    this.#applyIsolated = db.transaction((commit: PreparedCommit) => this.#applyCommit(commit));
    this.#applyAll = db.transaction((batch, outcomes) => {
      for (let index = 0; index < batch.length; index++) {
        const commit = batch[index] as PreparedCommit;
        try {
          // Every op checks all it can fail on before its first write, so a commit of one op needs no
          // savepoint: when it fails, it has written nothing.
          outcomes[index] = commit.ops.length === 1 ? this.#applyCommit(commit) : this.#applyIsolated(commit);
        } catch (error) {
          // Its ops are rolled back; the board blocks held in memory may have seen some of them.
          if (commit.ops.some(touchesBoards)) this.#boards.forgetRanks();
          // A catalog error is the commit's own failure; anything else aborts the batch (see applyBatch).
          if (!(error instanceof SavepointError)) throw error;
          outcomes[index] = error;
        }
      }
      // A settle's commit writes a few thousand pages to the WAL, past the 1,000 at which SQLite
      // checkpoints on this connection, inside the commit: copying and syncing them all stalled the
      // event loop for tens of ms. With the worker running, it copies them within one interval.
      if (this.#streams.settleIfFull() && this.#checkpointer?.running === true) this.#deferCheckpoint();
    });
    this.#readDocuments = db.transaction((collection: string, keys: readonly string[], now: number) => {
      const found: StoredDocument[] = [];
      for (const key of new Set(keys)) {
        const document = this.#documents.get(collection, key, now);
        if (document !== undefined) found.push(document);
      }
      return found;
    });
    this.#readBoardRange = db.transaction((board: string, offset: number, limit: number) =>
      this.#boards.range(board, offset, limit),
    );
    this.#readBoardMember = db.transaction((board: string, member: string) =>
      this.#boards.member(board, member),
    );
    this.#sweep = db.transaction((now: number, limit: number): SweepResult => {
      const documents: Record<string, number> = {};
      let removed = this.#documents.sweep(now, limit, documents);
      const streams = removed < limit ? this.#streams.sweep(now, limit - removed) : 0;
      removed += streams;
      const more = removed >= limit && (this.#documents.hasExpired(now) || this.#streams.hasExpired(now));
      return { documents, streams, more };
    });
  }

  async getDocument(collection: string, key: string, now: number): Promise<StoredDocument | undefined> {
    return this.#read(() => this.#documents.get(collection, key, now));
  }

  async getDocuments(collection: string, keys: readonly string[], now: number): Promise<StoredDocument[]> {
    return this.#read(() => this.#readDocuments(collection, keys, now));
  }

  async listDocuments(
    collection: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
    now: number,
  ): Promise<DocumentPage> {
    return this.#read(() => this.#documents.list(collection, options, now));
  }

  async readStream(stream: string, after: number, limit: number, now: number): Promise<StreamEvent[]> {
    return this.#read(() => this.#streams.read(stream, after, limit, now));
  }

  async streamHead(stream: string, now: number): Promise<number> {
    return this.#read(() => this.#streams.head(stream, now));
  }

  async boardInfo(board: string): Promise<BoardInfo | undefined> {
    return this.#read(() => this.#boards.info(board));
  }

  async boardRange(board: string, offset: number, limit: number): Promise<BoardEntry[]> {
    return this.#read(() => this.#readBoardRange(board, offset, limit));
  }

  async boardMember(board: string, member: string): Promise<BoardEntry | undefined> {
    return this.#read(() => this.#readBoardMember(board, member));
  }

  async listBoards(prefix: string): Promise<BoardInfo[]> {
    return this.#read(() => this.#boards.list(prefix));
  }

  /**
   * Applies the batch in one `BEGIN IMMEDIATE` transaction. A commit that fails a condition (or a
   * patch, or a size limit) gets its error in its slot and is rolled back to its savepoint alone. A
   * native failure aborts the whole transaction; when it may belong to one commit (a value too big,
   * a full disk), the commits are then retried one per transaction so that the others still land.
   * A batch of one unconditional put or delete runs as that one statement, which is atomic alone.
   */
  async applyBatch(batch: readonly PreparedCommit[]): Promise<Array<CommitResult | SavepointError>> {
    if (this.#importing !== undefined) await this.#importFinished();
    if (this.#closed) throw closedError();
    // Anything that adds data first takes a released reserve back, so that writes never use up the
    // room the next removal will need.
    if (this.#reserve?.held === false && !batch.every(removes)) this.#retakeReserve();
    let outcomes: Array<CommitResult | SavepointError>;
    try {
      outcomes = this.#apply(batch);
    } finally {
      if (this.#checkpointDeferred) this.#restoreCheckpoint();
    }
    // Removals that meet the full disk (the storage-full path deleting old games) are what the
    // reserve is for. A write that meets it keeps the reserve: it is refused, or retried after the
    // sweep, whose own removals release the reserve only if they need it.
    if (!outcomes.some(isFull)) return outcomes;
    const starved = batch.flatMap((commit, index) =>
      isFull(outcomes[index]) && removes(commit) ? [index] : [],
    );
    if (starved.length > 0 && this.#releaseReserve()) {
      for (const index of starved) {
        outcomes[index] = this.#apply([batch[index] as PreparedCommit])[0] as CommitResult | SavepointError;
      }
    }
    return outcomes;
  }

  #apply(batch: readonly PreparedCommit[]): Array<CommitResult | SavepointError> {
    const lone = batch.length === 1 ? (batch[0] as PreparedCommit) : undefined;
    if (lone?.ops.length === 1 && isOneStatement(lone.ops[0] as PreparedOp)) {
      // Atomic by itself: BEGIN and COMMIT around it measured 3 us of a 16 us upsert. But it must run
      // to completion: a RETURNING statement read with `.get()` commits when reset, and a failure
      // there (SQLITE_FULL, an I/O error) is silently dropped, losing an acknowledged write. So only
      // outside autocommit is the fast path safe; the transaction's COMMIT reports such failures.
      try {
        const outcome = this.#applyIsolated(lone);
        this.#checkpointer?.committed();
        return [outcome];
      } catch (error) {
        this.#boards.forgetRanks();
        return [translateSqliteError(error)];
      }
    }
    const outcomes = new Array<CommitResult | SavepointError>(batch.length);
    try {
      this.#applyAll.immediate(batch, outcomes);
      this.#checkpointer?.committed();
      return outcomes;
    } catch (error) {
      this.#boards.forgetRanks();
      const failure = translateSqliteError(error);
      if (batch.length === 1 || !mayBeCommitSpecific(failure)) return batch.map(() => failure);
      return batch.map((commit) => {
        const alone = new Array<CommitResult | SavepointError>(1);
        try {
          this.#applyAll.immediate([commit], alone);
          return alone[0] as CommitResult | SavepointError;
        } catch (retryError) {
          this.#boards.forgetRanks();
          return translateSqliteError(retryError);
        }
      });
    }
  }

  /** Removes at most `limit` expired documents, then expired streams and their events; one transaction. */
  async sweepExpired(now: number, limit: number): Promise<SweepResult> {
    if (this.#importing !== undefined) await this.#importFinished();
    if (this.#closed) throw closedError();
    try {
      return this.#sweep.immediate(now, limit);
    } catch (error) {
      const failure = translateSqliteError(error);
      // Deleting needs free pages for the WAL first: on a full disk, the reserve's.
      if (failure.code !== 'STORAGE_FULL' || !this.#releaseReserve()) throw failure;
    }
    try {
      return this.#sweep.immediate(now, limit);
    } catch (error) {
      throw translateSqliteError(error);
    }
  }

  /** Turns off this connection's automatic checkpoint until {@link #restoreCheckpoint}, after the commit. */
  #deferCheckpoint(): void {
    this.#db.pragma('wal_autocheckpoint = 0');
    this.#checkpointDeferred = true;
  }

  #restoreCheckpoint(): void {
    this.#checkpointDeferred = false;
    this.#db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  }

  /** Gives the reserve's bytes to the database; `true` when there was one to give. */
  #releaseReserve(): boolean {
    const reserve = this.#reserve;
    if (reserve === undefined || !reserve.release()) return false;
    this.#log(
      `warning: the disk holding ${this.#db.name} is full: deleted the ${reserve.size} storage reserve ${reserve.path} so that expired data and old games can be removed to make room; it is written again once there is room`,
    );
    return true;
  }

  /**
   * Writes the released reserve again when the disk has room for it. Space freed inside the
   * database stays there; what reaches the disk is the write-ahead log's, so the log is first
   * checkpointed and truncated. Best effort: it never fails, nor holds up, the write that follows.
   */
  #retakeReserve(): void {
    const reserve = this.#reserve;
    if (reserve === undefined) return;
    // Cheap test first (a statfs and a stat): truncating the log can free at most its size.
    if (reserve.freeBytes() + fileBytes(`${this.#db.name}-wal`) < reserve.bytes) return;
    const busyTimeoutMs = this.#busyTimeoutMs();
    try {
      // A reader (an export, a check) pins the log: then skip at once rather than wait for it.
      this.#db.pragma('busy_timeout = 0');
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A checkpoint that meets the full disk leaves the log as it was; the next write tries again.
    } finally {
      this.#db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
    const outcome = reserve.take();
    if (outcome === 'failed') this.#reserve = undefined;
    if (outcome === 'held')
      this.#log(`the storage reserve ${reserve.path} (${reserve.size}) is written again`);
  }

  // ---- dump and load (see dump.ts) ----

  /** From a read-only connection's snapshot (a `:memory:` database is read in one pass). */
  exportRecords(now: number): AsyncIterable<readonly RecordDump[]> {
    if (this.#closed) throw closedError();
    return dump.exportRecords(this.#db, now, this.#busyTimeoutMs());
  }

  /**
   * Imports on a second connection in one write transaction, while this connection's readers see
   * the old contents; commits and sweeps made meanwhile wait until it ends. A replacing import
   * holds the store exclusively: it refuses (`STORE_IN_USE`) while another process has it open.
   */
  async importRecords(
    pages: AsyncIterable<readonly RecordDump[]>,
    now: number,
    options: ImportOptions = {},
  ): Promise<ImportCounts> {
    if (this.#importing !== undefined) await this.#importFinished();
    if (this.#closed) throw closedError();
    const load = () => dump.importRecords(this.#db, pages, now, options, this.#busyTimeoutMs());
    const lock = this.#lock;
    const importing =
      options.replace === true && lock !== undefined
        ? lock.exclusively("replace the store's contents", load)
        : load();
    const finished = importing.then(
      () => undefined,
      () => undefined,
    );
    this.#importing = finished;
    void finished.then(() => {
      // A `:memory:` import writes on this connection, which data_version does not report.
      this.#boards.forgetRanks();
      if (this.#importing === finished) this.#importing = undefined;
    });
    return importing;
  }

  async countRecords(now: number): Promise<ImportCounts> {
    return this.#read(() => dump.countRecords(this.#db, now));
  }

  async #importFinished(): Promise<void> {
    while (this.#importing !== undefined) await this.#importing;
  }

  #busyTimeoutMs(): number {
    return this.#db.pragma('busy_timeout', { simple: true }) as number;
  }

  /**
   * Hears commits made by other connections to the same file, as `[{ kind: 'unknown' }]`, within
   * about 250 ms (it polls `PRAGMA data_version` while anyone listens).
   */
  onExternalChange(listener: ExternalChangeListener): () => void {
    if (this.#closed) throw closedError();
    return this.#watcher.listen(listener);
  }

  /**
   * `PRAGMA integrity_check`: the problems found, empty when the file is sound. It reads every page
   * (seconds on a large file), so a file is checked in a worker thread, on a read-only connection
   * of its own that sees the last commit; only `:memory:` is checked on this thread.
   */
  async checkIntegrity(): Promise<string[]> {
    if (this.#closed) throw closedError();
    if (this.#db.memory) return this.#read(() => integrityProblems(this.#db, true));
    return integrityProblemsOffThread(this.#db.name, this.#closing.signal);
  }

  /** The connection's effective settings, read back from SQLite. */
  connectionSettings(): SqliteConnectionSettings {
    return this.#read(() => ({
      path: this.#db.name,
      journalMode: this.#db.pragma('journal_mode', { simple: true }) as string,
      synchronous: SYNCHRONOUS_MODES[this.#db.pragma('synchronous', { simple: true }) as number] ?? 'off',
      busyTimeoutMs: this.#db.pragma('busy_timeout', { simple: true }) as number,
      schemaVersion: schemaVersion(this.#db),
      autoCheckpointPages: this.#db.pragma('wal_autocheckpoint', { simple: true }) as number,
    }));
  }

  /** Closes the connection (SQLite checkpoints the WAL). Idempotent; later calls: `STORAGE_UNAVAILABLE`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(closedError());
    this.#watcher.stop();
    // The worker's connection closes first, so that this one is the last and checkpoints the WAL away.
    await this.#checkpointer?.stop();
    this.#db.close();
    // Last: until the file is closed, a restore must still see this store as open.
    this.#lock?.release();
  }

  #read<T>(work: () => T): T {
    if (this.#closed) throw closedError();
    try {
      return work();
    } catch (error) {
      throw translateSqliteError(error);
    }
  }

  #applyCommit(commit: PreparedCommit): CommitResult {
    const results: OpResult[] = [];
    for (let index = 0; index < commit.ops.length; index++) {
      const op = completeRecordOp(commit.ops[index] as PreparedOp, results, commit.at);
      results.push(this.#applyOp(op, commit, index));
    }
    this.#boards.finishCommit();
    return { results, at: commit.at };
  }

  #applyOp(op: PreparedOp, commit: PreparedCommit, opIndex: number): OpResult {
    switch (op.op) {
      case 'put':
        return this.#documents.put(op, commit, opIndex);
      case 'patch':
        return this.#documents.patch(op, commit, opIndex);
      case 'delete':
        return this.#documents.delete(op, commit, opIndex);
      case 'append':
        return this.#streams.append(op, commit, opIndex);
      case 'expireStream':
        return this.#streams.expire(op, commit);
      case 'deleteStream':
        return this.#streams.delete(op, commit);
      case 'score':
        return this.#boards.score(op, commit, opIndex);
      case 'removeMember':
        return this.#boards.removeMember(op);
      case 'deleteBoard':
        return this.#boards.deleteBoard(op);
    }
  }
}

function fileBytes(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function configure(db: Database.Database, durability: 'normal' | 'full', busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL syncs only at checkpoints: a process crash loses nothing, a power cut may lose
  // the last commits. FULL syncs the WAL on every commit.
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  // The schema declares no foreign keys (ops delete dependent rows themselves), so foreign_keys stays off.
}

function createParentDirectory(file: string): void {
  const directory = path.dirname(path.resolve(file));
  try {
    fs.mkdirSync(directory, { recursive: true });
  } catch (cause) {
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `Cannot create the directory ${directory} for the SQLite database: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Takes the storage reserve of a database file, when it has one; a disk without room for it only warns. */
function openReserve(file: string, bytes: number, log: (line: string) => void): StorageReserve | undefined {
  if (file === ':memory:' || bytes === 0) return undefined;
  const reserve = new StorageReserve(file, bytes, log);
  const outcome = reserve.take();
  if (outcome === 'failed') return undefined;
  if (outcome === 'no-room') {
    log(
      `warning: not enough free space beside ${file} for its ${reserve.size} storage reserve ${reserve.path}; it is written once there is room`,
    );
  }
  return reserve;
}

/**
 * Opens (creating if needed) a SQLite store, brings its schema up to date and prepares every
 * statement. Opening reads no data rows, so it takes the same time for any size of database. A file
 * that is not a SQLite database fails with `CORRUPT_DATA`; a schema newer than this code, or a
 * file that cannot be opened, with `STORAGE_UNAVAILABLE`.
 */
export async function openSqliteDriver(options: SqliteDriverOptions): Promise<SqliteDriver> {
  const durability = options.durability ?? 'normal';
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw invalidInput('The SQLite driver needs a file path, or ":memory:"');
  }
  if (durability !== 'normal' && durability !== 'full') {
    throw invalidInput('SQLite durability must be "normal" or "full"');
  }
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw invalidInput('busyTimeoutMs must be an integer >= 0');
  }
  const reserveBytes = options.reserveBytes ?? DEFAULT_RESERVE_BYTES;
  if (!Number.isSafeInteger(reserveBytes) || reserveBytes < 0) {
    throw invalidInput('reserveBytes must be an integer >= 0');
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const inMemory = options.path === ':memory:';
  if (!inMemory) createParentDirectory(options.path);
  // Held from before the first look at the file until close, so that no replacement runs meanwhile.
  const lock = inMemory ? undefined : StoreLock.share(options.path, busyTimeoutMs);
  let db: Database.Database | undefined;
  try {
    const recover = options.recover ?? false;
    const recovery =
      lock === undefined || recover === false
        ? undefined
        : prepareSqliteFile(options.path, {
            ...(recover === true ? {} : recover),
            // Moving a damaged file aside under a live process would lose its writes.
            replacing: (work) => lock.exclusivelySync('move the damaged database aside', work),
          });
    db = new Database(options.path, { timeout: busyTimeoutMs });
    configure(db, durability, busyTimeoutMs);
    migrate(db);
    if (recovery !== undefined) {
      // After a fallback, serve only a store that passes the full check: a backup copied in may be damaged too.
      const problems = integrityProblems(db, true);
      if (problems.length > 0) {
        throw new SavepointError(
          'CORRUPT_DATA',
          `Refusing to serve: after ${recovery.action}, ${options.path} still fails its integrity check: ${problems.slice(0, 3).join('; ')}`,
        );
      }
    }
    return new SqliteDriver(
      db,
      recovery,
      { reserve: openReserve(options.path, reserveBytes, log), log, ...(lock === undefined ? {} : { lock }) },
      options.offThreadCheckpoints ?? true,
    );
  } catch (error) {
    db?.close();
    lock?.release();
    throw translateSqliteError(error, `Cannot open the SQLite database ${options.path}`);
  }
}
