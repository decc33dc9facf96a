/**
 * The engine: reads, one write path (`commit`), a change feed and sweeping, over any driver.
 * Every write in Savepoint passes through `commit`, so group commit, the change feed and the
 * hooks for metrics are written once, here.
 */
import { invalidInput, isSavepointError, SavepointError, toSavepointError } from '../errors.js';
import { changesOf } from './changes.js';
import type {
  Change,
  Driver,
  ImportCounts,
  ImportOptions,
  PreparedCommit,
  PreparedPut,
  RecordDump,
} from './driver.js';
import {
  assertIdempotencyKey,
  type CommitRecord,
  currentKeyScope,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  fingerprintOf,
  IDEMPOTENCY_COLLECTION,
  keyReused,
  parseCommitRecord,
  recordKeyOf,
} from './idempotency.js';
import { assertName, prepareCommit } from './prepare.js';
import { isStorageFull, type ReclaimReport, reclaimSpace, type SpaceReclaimer } from './storage-full.js';
import type {
  BoardEntry,
  BoardInfo,
  BoardRangeOptions,
  CommitOp,
  CommitOptions,
  CommitResult,
  DocumentPage,
  ListOptions,
  ReadStreamOptions,
  StoredDocument,
  StreamEvent,
  SweepResult,
} from './types.js';

/** A source of "now" in milliseconds; tests pass a manual clock to exercise expiry. */
export type Clock = () => number;

export interface StoreOptions {
  /** Default `Date.now`. */
  readonly clock?: Clock;
  /** Largest serialized value, event or metadata accepted, in bytes. Default 16 MiB. */
  readonly maxValueBytes?: number;
  /** Most commits grouped into one driver batch. Default 256. */
  readonly maxBatchCommits?: number;
  /** How long an idempotency key's record is kept. Default 24 hours. */
  readonly idempotencyTtlMs?: number;
}

export interface ChangeBatch {
  readonly changes: readonly Change[];
  /** `local` for commits made through this store, `external` for changes another process or instance made. */
  readonly origin: 'local' | 'external';
}

export type ChangeListener = (batch: ChangeBatch) => void;

/** Observes every commit, for metrics; called once per commit with its outcome. */
export type CommitObserver = (outcome: {
  readonly ops: number;
  readonly durationMs: number;
  readonly error: SavepointError | undefined;
}) => void;

interface PendingCommit {
  readonly prepared: PreparedCommit;
  readonly enqueuedAt: number;
  /** Already retried after a `STORAGE_FULL` (or made by a reclaimer): its next outcome is final. */
  readonly retried?: boolean;
  readonly resolve: (result: CommitResult) => void;
  readonly reject: (error: SavepointError) => void;
}

const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

function clampLimit(limit: number | undefined, fallback: number, max: number, what: string): number {
  if (limit === undefined) return fallback;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max)
    throw invalidInput(`${what} must be an integer from 1 to ${max}`);
  return limit;
}

function assertOffset(offset: number | undefined, what: string): number {
  if (offset === undefined) return 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalidInput(`${what} must be an integer >= 0`);
  return offset;
}

/**
 * How long a keyed commit that lost its race waits for the winner's record to become readable. The
 * storage already has it; only a cache's invalidation can lag, by a round trip or an ack timeout.
 */
const RECORD_VISIBLE_WITHIN_MS = 2_000;

export class Store {
  readonly #driver: Driver;
  readonly #clock: Clock;
  readonly #maxValueBytes: number;
  readonly #maxBatchCommits: number;
  readonly #idempotencyTtlMs: number;
  readonly #listeners = new Set<ChangeListener>();
  readonly #observers = new Set<CommitObserver>();
  readonly #listenerErrors = new Set<(error: unknown) => void>();
  #queue: PendingCommit[] = [];
  /** Commits inside driver batches, and the number of those batches. */
  #inFlight = 0;
  #batchesInFlight = 0;
  #flushScheduled = false;
  #closed = false;
  #idle: Array<() => void> = [];
  /** See `storage-full.ts`: what domains can give up when storage is full, and the reclaim under way. */
  readonly #reclaimers = new Map<string, SpaceReclaimer>();
  #reclaiming: Promise<ReclaimReport> | undefined;
  /** Set while someone listens: external changes cost a connection (PostgreSQL LISTEN) or a poll (SQLite). */
  #unsubscribeExternal: (() => void) | undefined;

  constructor(driver: Driver, options: StoreOptions = {}) {
    this.#driver = driver;
    this.#clock = options.clock ?? Date.now;
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#maxBatchCommits = options.maxBatchCommits ?? 256;
    this.#idempotencyTtlMs = options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    if (!Number.isSafeInteger(this.#idempotencyTtlMs) || this.#idempotencyTtlMs < 1)
      throw invalidInput('idempotencyTtlMs must be a positive whole number of milliseconds');
  }

  /** How long idempotency records are kept, in milliseconds. */
  get idempotencyTtlMs(): number {
    return this.#idempotencyTtlMs;
  }

  /** The driver's name: `memory`, `sqlite`, `postgres`, `postgres+redis`. */
  get driverName(): string {
    return this.#driver.name;
  }

  get capabilities(): Driver['capabilities'] {
    return this.#driver.capabilities;
  }

  /** The store's clock; domains use it so that every time in a commit agrees. */
  now(): number {
    return this.#clock();
  }

  /** Commits waiting for, or inside, a driver batch. */
  get pendingCommits(): number {
    return this.#queue.length + this.#inFlight;
  }

  // ---- documents ----

  /** The live document, or `undefined` if it does not exist or has expired. */
  async get(collection: string, key: string): Promise<StoredDocument | undefined> {
    assertName(collection, 'collection');
    assertName(key, 'key');
    this.#assertOpen();
    return this.#driver.getDocument(collection, key, this.#clock());
  }

  /** Up to 1,000 documents in one read; missing keys are left out, order follows `keys`. */
  async getMany(collection: string, keys: readonly string[]): Promise<StoredDocument[]> {
    assertName(collection, 'collection');
    if (!Array.isArray(keys) || keys.length > 1000)
      throw invalidInput('getMany takes an array of at most 1000 keys');
    for (const key of keys) assertName(key, 'key');
    this.#assertOpen();
    if (keys.length === 0) return [];
    return this.#driver.getDocuments(collection, keys, this.#clock());
  }

  /**
   * Every live document of a collection under `prefix`, ascending by key, read page by page: for
   * the bounded sets modules keep (a game's seats, a kind's items), not for a whole large table.
   */
  async listAll(collection: string, prefix = ''): Promise<StoredDocument[]> {
    const documents: StoredDocument[] = [];
    let after: string | undefined;
    do {
      const page = await this.list(collection, {
        prefix,
        limit: 1000,
        ...(after === undefined ? {} : { after }),
      });
      documents.push(...page.items);
      after = page.nextCursor ?? undefined;
    } while (after !== undefined);
    return documents;
  }

  /** A page of a collection, ascending by key. */
  async list(collection: string, options: ListOptions = {}): Promise<DocumentPage> {
    assertName(collection, 'collection');
    const prefix = options.prefix ?? '';
    if (prefix !== '') assertName(prefix, 'prefix');
    const after = options.after ?? null;
    if (after !== null) assertName(after, 'cursor');
    const limit = clampLimit(options.limit, 100, 1000, 'limit');
    this.#assertOpen();
    return this.#driver.listDocuments(collection, { prefix, after, limit }, this.#clock());
  }

  // ---- streams ----

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StreamEvent[]> {
    assertName(stream, 'stream');
    const after = assertOffset(options.after, 'after');
    const limit = clampLimit(options.limit, 1000, 10_000, 'limit');
    this.#assertOpen();
    return this.#driver.readStream(stream, after, limit, this.#clock());
  }

  /** The stream's last seq; 0 when it is empty, missing or expired. */
  async streamHead(stream: string): Promise<number> {
    assertName(stream, 'stream');
    this.#assertOpen();
    return this.#driver.streamHead(stream, this.#clock());
  }

  // ---- boards ----

  async boardInfo(board: string): Promise<BoardInfo | undefined> {
    assertName(board, 'board');
    this.#assertOpen();
    return this.#driver.boardInfo(board);
  }

  /** Entries ranked `offset + 1` onwards. */
  async boardRange(board: string, options: BoardRangeOptions = {}): Promise<BoardEntry[]> {
    assertName(board, 'board');
    const offset = assertOffset(options.offset, 'offset');
    const limit = clampLimit(options.limit, 100, 1000, 'limit');
    this.#assertOpen();
    return this.#driver.boardRange(board, offset, limit);
  }

  /** The member's entry with its rank, or `undefined`. */
  async boardMember(board: string, member: string): Promise<BoardEntry | undefined> {
    assertName(board, 'board');
    assertName(member, 'member');
    this.#assertOpen();
    return this.#driver.boardMember(board, member);
  }

  /** The member and up to `radius` entries on each side of it, in rank order; `[]` if not on the board. */
  async boardAround(board: string, member: string, radius: number): Promise<BoardEntry[]> {
    if (!Number.isSafeInteger(radius) || radius < 0 || radius > 500)
      throw invalidInput('around must be an integer from 0 to 500');
    const entry = await this.boardMember(board, member);
    if (entry === undefined) return [];
    const offset = Math.max(0, entry.rank - 1 - radius);
    return this.#driver.boardRange(board, offset, entry.rank - offset + radius);
  }

  async listBoards(prefix = ''): Promise<BoardInfo[]> {
    if (prefix !== '') assertName(prefix, 'prefix');
    this.#assertOpen();
    return this.#driver.listBoards(prefix);
  }

  // ---- the write path ----

  /**
   * Applies `ops` all-or-nothing. A failed condition rejects with `VERSION_CONFLICT` (details name
   * the op by `opIndex`) and applies nothing. Commits issued in the same tick share one driver
   * batch (group commit) yet keep separate outcomes.
   *
   * With `options.idempotencyKey` the commit is exactly-once (see `idempotency.ts`): its results
   * are stored with the key in the same transaction, and a repeat applies nothing and resolves
   * with them (`replayed: true`). Inside a key scope (an HTTP request carrying `Idempotency-Key`)
   * every commit is keyed that way by its ordinal in the request.
   */
  commit(ops: readonly CommitOp[], options: CommitOptions = {}): Promise<CommitResult> {
    const scope = options.idempotencyKey === undefined ? currentKeyScope() : undefined;
    if (options.idempotencyKey === undefined && scope === undefined) return this.#enqueue(ops);
    try {
      if (scope !== undefined) {
        // Inside a keyed unit of work (an HTTP request, a keyed game call): keyed by ordinal.
        const taken = scope.take();
        return this.#commitKeyed(ops, taken.key, scope.fingerprint, options).catch((error: unknown) => {
          taken.release();
          throw error;
        });
      }
      assertIdempotencyKey(options.idempotencyKey, 'idempotencyKey');
      const key = recordKeyOf('commit', options.idempotencyKey as string);
      return this.#commitKeyed(ops, key, options.fingerprint ?? fingerprintOf(ops), options);
    } catch (error) {
      return Promise.reject(toSavepointError(error));
    }
  }

  /**
   * The stored record of an idempotency key given to {@link commit}, if it is still kept: what the
   * keyed commit answered. Lets a caller answer a repeat before doing any of the work again.
   */
  async idempotencyRecord(idempotencyKey: string): Promise<CommitRecord | undefined> {
    assertIdempotencyKey(idempotencyKey, 'idempotencyKey');
    return this.#record(recordKeyOf('commit', idempotencyKey));
  }

  /**
   * Inside a key scope: the record of the commit the scope makes next, if that commit already
   * applied (the scope's work is being re-run). Lets the work answer from it before redoing checks.
   */
  async nextScopedRecord(): Promise<CommitRecord | undefined> {
    const scope = currentKeyScope();
    return scope === undefined ? undefined : this.#record(scope.peek());
  }

  async #record(recordKey: string): Promise<CommitRecord | undefined> {
    const document = await this.get(IDEMPOTENCY_COLLECTION, recordKey);
    return document === undefined ? undefined : parseCommitRecord(document.value, recordKey);
  }

  /**
   * A keyed commit: the ops plus, as the last op, the key's record (`mustNotExist`, completed by the
   * driver from the ops' results), in one driver commit. See `idempotency.ts`.
   */
  async #commitKeyed(
    ops: readonly CommitOp[],
    recordKey: string,
    fingerprint: string,
    options: CommitOptions,
  ): Promise<CommitResult> {
    const replayOf = (record: CommitRecord): CommitResult => {
      if (record.fingerprint !== fingerprint) throw keyReused('commit');
      return {
        results: record.results,
        at: record.at,
        replayed: true,
        ...(record.answer === undefined ? {} : { answer: record.answer }),
      };
    };
    // The common repeat is answered by one read, without preparing or queueing anything.
    const before = await this.#record(recordKey);
    if (before !== undefined) return replayOf(before);
    const at = this.#clock();
    const record: PreparedPut = {
      op: 'put',
      collection: IDEMPOTENCY_COLLECTION,
      key: recordKey,
      value: null,
      json: 'null',
      expiresAt: at + this.#idempotencyTtlMs,
      mustNotExist: true,
      completion: { fingerprint, ...(options.answer === undefined ? {} : { answer: options.answer }) },
    };
    try {
      const result = await this.#enqueue(ops, record);
      const stored = result.results.at(-1);
      const answer =
        stored?.op === 'put' ? parseCommitRecord(stored.document.value, recordKey).answer : undefined;
      return {
        results: result.results.slice(0, -1),
        at: result.at,
        replayed: false,
        ...(answer === undefined ? {} : { answer }),
      };
    } catch (error) {
      // A racing commit with the same key won (our record's `mustNotExist` failed), or the state has
      // moved on since the key's commit applied (an op's own condition fails now): either way the
      // record, if there is one, is the answer.
      if (isSavepointError(error, 'VERSION_CONFLICT') || isSavepointError(error, 'NOT_FOUND')) {
        // When the record's own `mustNotExist` failed, the winner's record is committed; a cache in
        // front of the storage may still answer the absence it held before the race, until the
        // winner's invalidation lands (a round trip or two), so that read is retried briefly.
        const recordExists =
          isSavepointError(error, 'VERSION_CONFLICT') && error.details.opIndex === ops.length;
        const after = await this.#recordOnceVisible(recordKey, recordExists ? RECORD_VISIBLE_WITHIN_MS : 0);
        if (after !== undefined) return replayOf(after);
      }
      throw error;
    }
  }

  /** The key's record, read again (with a pause that doubles from 1 ms) until `withinMs` has passed. */
  async #recordOnceVisible(recordKey: string, withinMs: number): Promise<CommitRecord | undefined> {
    const deadline = performance.now() + withinMs;
    for (let pauseMs = 1; ; pauseMs *= 2) {
      const record = await this.#record(recordKey);
      if (record !== undefined || performance.now() >= deadline) return record;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  #enqueue(ops: readonly CommitOp[], record?: PreparedPut): Promise<CommitResult> {
    try {
      this.#assertOpen();
      let prepared = prepareCommit(ops, this.#clock(), this.#maxValueBytes);
      if (record !== undefined) prepared = { ...prepared, ops: [...prepared.ops, record] };
      return new Promise<CommitResult>((resolve, reject) => {
        this.#queue.push({ prepared, enqueuedAt: performance.now(), resolve, reject });
        this.#scheduleFlush();
      });
    } catch (error) {
      return Promise.reject(toSavepointError(error));
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#batchesInFlight >= this.#driver.capabilities.maxConcurrentBatches)
      return;
    this.#flushScheduled = true;
    // A microtask, not a timer: commits issued in the same tick are grouped, and a lone commit pays no delay.
    queueMicrotask(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#maxBatchCommits);
    this.#inFlight += batch.length;
    this.#batchesInFlight++;
    // Another batch may start at once when the driver allows several in flight (PostgreSQL's pool).
    if (this.#queue.length > 0) this.#scheduleFlush();
    let outcomes: Array<CommitResult | SavepointError>;
    try {
      outcomes = await this.#driver.applyBatch(batch.map((pending) => pending.prepared));
    } catch (error) {
      const failure = toSavepointError(error);
      outcomes = batch.map(() => failure);
    }
    // Storage full: those commits wait (still counted in flight) for space to be reclaimed, then run once more.
    const full = batch.filter((pending, i) => pending.retried !== true && isStorageFull(outcomes[i]));
    if (full.length > 0) {
      const held = new Set(full);
      outcomes = outcomes.filter((_, i) => !held.has(batch[i] as PendingCommit));
      batch.splice(0, batch.length, ...batch.filter((pending) => !held.has(pending)));
      void this.#reclaimThenRetry(full);
    }
    this.#inFlight -= batch.length;
    this.#batchesInFlight--;
    const changes: Change[] = [];
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome !== undefined && !(outcome instanceof SavepointError)) {
        changes.push(...changesOf((batch[i] as PendingCommit).prepared, outcome));
      }
    }
    // Subscribers hear a commit before its caller does, so an acknowledged write is already in every feed.
    if (changes.length > 0) this.#emit({ changes, origin: 'local' });
    const finishedAt = performance.now();
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i] as PendingCommit;
      const outcome =
        outcomes[i] ?? new SavepointError('INTERNAL', 'The driver returned no outcome for a commit');
      const error = outcome instanceof SavepointError ? outcome : undefined;
      for (const observer of this.#observers) {
        observer({ ops: pending.prepared.ops.length, durationMs: finishedAt - pending.enqueuedAt, error });
      }
      if (error === undefined) pending.resolve(outcome as CommitResult);
      else pending.reject(error);
    }
    if (this.#queue.length > 0) this.#scheduleFlush();
    else if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  /**
   * Registers what a domain can give up when storage is full (see `storage-full.ts`); the name
   * makes registering again replace the earlier one. Returns an unregister function.
   */
  addSpaceReclaimer(name: string, reclaimer: SpaceReclaimer): () => void {
    this.#reclaimers.set(name, reclaimer);
    return () => {
      if (this.#reclaimers.get(name) === reclaimer) this.#reclaimers.delete(name);
    };
  }

  /** One reclaim at a time, shared by every commit that met the full storage meanwhile; then one retry each. */
  async #reclaimThenRetry(full: readonly PendingCommit[]): Promise<void> {
    this.#reclaiming ??= reclaimSpace(
      (limit) => this.#driver.sweepExpired(this.#clock(), limit),
      {
        now: this.#clock(),
        commit: (ops) =>
          new Promise<CommitResult>((resolve, reject) => {
            const prepared = prepareCommit(ops, this.#clock(), this.#maxValueBytes);
            this.#queue.push({ prepared, enqueuedAt: performance.now(), retried: true, resolve, reject });
            this.#scheduleFlush();
          }),
      },
      this.#reclaimers,
    ).finally(() => {
      this.#reclaiming = undefined;
    });
    await this.#reclaiming;
    this.#inFlight -= full.length;
    this.#queue.unshift(...full.map((pending) => ({ ...pending, retried: true })));
    this.#scheduleFlush();
  }

  // ---- change feed ----

  /** Hears every committed change, local and (when the driver can tell) external. Returns an unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1 && !this.#closed) {
      this.#unsubscribeExternal = this.#driver.onExternalChange?.((changes) =>
        this.#emit({ changes, origin: 'external' }),
      );
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      this.#unsubscribeExternal?.();
      this.#unsubscribeExternal = undefined;
    };
  }

  /** Observes each commit's size, duration and outcome (for metrics). */
  observeCommits(observer: CommitObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** Called when a change listener throws; the commit itself has already succeeded. */
  onListenerError(handler: (error: unknown) => void): () => void {
    this.#listenerErrors.add(handler);
    return () => this.#listenerErrors.delete(handler);
  }

  #emit(batch: ChangeBatch): void {
    for (const listener of this.#listeners) {
      try {
        listener(batch);
      } catch (error) {
        for (const handler of this.#listenerErrors) handler(error);
      }
    }
  }

  // ---- maintenance ----

  /** Removes at most `limit` expired documents and streams (expired records are already invisible to reads). */
  async sweepExpired(limit = 10_000): Promise<SweepResult> {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw invalidInput('sweep limit must be a positive integer');
    this.#assertOpen();
    return this.#driver.sweepExpired(this.#clock(), limit);
  }

  // ---- dump and load (export, import, migrate) ----

  /**
   * Every live record, in pages, in the canonical order (see `RecordDump`), from one consistent
   * snapshot. Records that expire at or before `now` (default: the store's clock) are left out.
   */
  exportRecords(options: { readonly now?: number } = {}): AsyncIterable<readonly RecordDump[]> {
    this.#assertOpen();
    return this.#driver.exportRecords(options.now ?? this.#clock());
  }

  /**
   * Loads a dump (such as {@link exportRecords} yields) all-or-nothing, keeping versions, times
   * and seqs. The store must hold no live record unless `replace` is set, which swaps the whole
   * contents in the same transaction. Afterwards every change listener hears `unknown`, so caches
   * and feeds re-read.
   */
  async importRecords(
    pages: AsyncIterable<readonly RecordDump[]>,
    options: ImportOptions = {},
  ): Promise<ImportCounts> {
    this.#assertOpen();
    const counts = await this.#driver.importRecords(pages, this.#clock(), options);
    this.#emit({ changes: [{ kind: 'unknown' }], origin: 'local' });
    return counts;
  }

  /** Live records of each kind (as {@link exportRecords} would yield them at `now`). */
  async countRecords(options: { readonly now?: number } = {}): Promise<ImportCounts> {
    this.#assertOpen();
    return this.#driver.countRecords(options.now ?? this.#clock());
  }

  /** Waits for queued commits to finish, then closes the driver. Later calls reject with `STORAGE_UNAVAILABLE`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.pendingCommits > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#unsubscribeExternal?.();
    this.#unsubscribeExternal = undefined;
    this.#listeners.clear();
    await this.#driver.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new SavepointError('STORAGE_UNAVAILABLE', 'The store is closed');
  }
}
