/**
 * The contract between the engine and a storage driver (after Kysely's dialect/driver split).
 * The engine validates and prepares every commit; a driver only stores and reads. Drivers never
 * know what a match or a game is, and domains never see a driver.
 */
import type { SavepointError } from '../errors.js';
import type {
  BoardEntry,
  BoardInfo,
  BoardOrder,
  CommitOptions,
  CommitResult,
  DocumentPage,
  JsonObject,
  JsonValue,
  Patch,
  ScoreMode,
  StoredDocument,
  StreamEvent,
  SweepResult,
} from './types.js';

/** What a driver can do; the engine adapts to it. */
export interface DriverCapabilities {
  /** Data survives the process (false for memory). */
  readonly persistent: boolean;
  /** Other processes can write the same store, so caches must listen for external changes. */
  readonly sharedAcrossProcesses: boolean;
  /** How many batches the engine may have in flight at once (1 for single-writer drivers). */
  readonly maxConcurrentBatches: number;
  /**
   * The fallback the driver took to open its store, when it could not open it as found (a corrupt
   * file quarantined, a backup restored). Absent when the store opened cleanly. It rides on the
   * capabilities so that every layer (the Redis layer copies them) and `Savepoint.recovery` see it.
   */
  readonly recovery?: StartupRecovery;
}

/** What a driver did at start because its store could not be used as found (`/health` reports it). */
export interface StartupRecovery {
  /**
   * `restored-backup`: the store was quarantined and the newest good backup copied in its place.
   * `started-empty`: the store was quarantined and no good backup existed.
   * `truncated-wal`: only the write-ahead log was damaged; a copy of it was kept, and SQLite applies
   * the commits before the damage and ignores the rest (the database file passed its check).
   */
  readonly action: 'restored-backup' | 'started-empty' | 'truncated-wal';
  /** Why the store could not be used, as found. */
  readonly reason: string;
  /** Where the original file now is (never deleted). */
  readonly quarantinedTo: string;
  /** The backup copied in, for `restored-backup`. */
  readonly backup?: string;
  /** When the fallback was taken (ISO-8601). */
  readonly at: string;
}

/** What a driver needs to complete an idempotency record from the results of the ops before it. */
export interface RecordCompletion {
  readonly fingerprint: string;
  readonly answer?: CommitOptions['answer'];
}

/* Prepared operations: validated, with JSON serialized once and expiry resolved to absolute times. */

export interface PreparedPut {
  readonly op: 'put';
  readonly collection: string;
  readonly key: string;
  readonly value: JsonValue;
  /** `JSON.stringify(value)`, computed once by the engine. */
  readonly json: string;
  /** A put replaces the whole document, expiry included. */
  readonly expiresAt: number | null;
  readonly expectedVersion?: number;
  readonly mustNotExist?: boolean;
  /**
   * Set only on an idempotency record (the last op of a keyed commit): the driver builds its value
   * from the results of the commit's earlier ops with `completeRecordOp` before applying it.
   */
  readonly completion?: RecordCompletion;
}

export interface PreparedPatch {
  readonly op: 'patch';
  readonly collection: string;
  readonly key: string;
  readonly patch: Patch;
  readonly upsert: boolean;
  /** `undefined` keeps the current expiry. */
  readonly expiresAt: number | null | undefined;
  readonly expectedVersion?: number;
  readonly mustNotExist?: boolean;
}

export interface PreparedDelete {
  readonly op: 'delete';
  readonly collection: string;
  readonly key: string;
  readonly expectedVersion?: number;
}

export interface PreparedEvent {
  readonly type: string;
  readonly data: JsonValue;
  readonly json: string;
}

export interface PreparedAppend {
  readonly op: 'append';
  readonly stream: string;
  readonly events: readonly PreparedEvent[];
  readonly expectedHead?: number;
  /** `undefined` keeps the stream's current expiry. */
  readonly expiresAt: number | null | undefined;
}

export interface PreparedExpireStream {
  readonly op: 'expireStream';
  readonly stream: string;
  readonly expiresAt: number | null;
}

export interface PreparedDeleteStream {
  readonly op: 'deleteStream';
  readonly stream: string;
}

export interface PreparedScore {
  readonly op: 'score';
  readonly board: string;
  readonly member: string;
  readonly score: number;
  readonly mode: ScoreMode;
  /** `undefined` keeps the member's metadata. */
  readonly metadata: JsonObject | null | undefined;
  readonly metadataJson: string | null | undefined;
  /** `undefined` accepts the board's existing order (or `desc` for a new board). */
  readonly order: BoardOrder | undefined;
}

export interface PreparedRemoveMember {
  readonly op: 'removeMember';
  readonly board: string;
  readonly member: string;
}

export interface PreparedDeleteBoard {
  readonly op: 'deleteBoard';
  readonly board: string;
}

export type PreparedOp =
  | PreparedPut
  | PreparedPatch
  | PreparedDelete
  | PreparedAppend
  | PreparedExpireStream
  | PreparedDeleteStream
  | PreparedScore
  | PreparedRemoveMember
  | PreparedDeleteBoard;

export interface PreparedCommit {
  readonly ops: readonly PreparedOp[];
  /** The commit's time: `createdAt`, `updatedAt`, event `at` and `reachedAt` all use it. */
  readonly at: number;
  /** The largest serialized document the engine accepts, for patch results. */
  readonly maxValueBytes: number;
}

/** Something changed that this process did not commit itself (another process or instance). */
export type ExternalChangeListener = (changes: readonly Change[]) => void;

/** One committed change, as the change feed reports it. */
export type Change =
  | {
      readonly kind: 'document';
      readonly collection: string;
      readonly key: string;
      readonly document: StoredDocument | null;
    }
  | { readonly kind: 'stream'; readonly stream: string; readonly events: readonly StreamEvent[] }
  | { readonly kind: 'streamDeleted'; readonly stream: string }
  | { readonly kind: 'board'; readonly board: string }
  /** Another process changed the store in ways not known here; caches must drop everything. */
  | { readonly kind: 'unknown' };

/**
 * One stored record in a dump, exactly as stored: versions, times and the JSON text are kept byte
 * for byte, so a dump loaded elsewhere reads back identically and later commits continue from it.
 *
 * A dump comes in the canonical order, the same from every driver:
 * 1. every document, by collection then key (code-point order);
 * 2. every stream by name, each `stream` record followed at once by its events, seq 1 to `head`;
 * 3. every board by name, each `board` record followed at once by its members in rank order.
 * `importRecords` refuses records out of that order, so two dumps of the same data are equal line
 * for line (which is how `migrate` verifies a copy).
 */
export type RecordDump =
  | {
      readonly kind: 'document';
      readonly collection: string;
      readonly key: string;
      /** The value's JSON text as stored. */
      readonly json: string;
      readonly version: number;
      readonly createdAt: number;
      readonly updatedAt: number;
      readonly expiresAt: number | null;
    }
  | {
      readonly kind: 'stream';
      readonly stream: string;
      readonly head: number;
      readonly expiresAt: number | null;
    }
  | {
      readonly kind: 'event';
      readonly stream: string;
      readonly seq: number;
      readonly type: string;
      /** The event data's JSON text as stored. */
      readonly json: string;
      readonly at: number;
    }
  | { readonly kind: 'board'; readonly board: string; readonly order: BoardOrder }
  | {
      readonly kind: 'member';
      readonly board: string;
      readonly member: string;
      readonly score: number;
      readonly reachedAt: number;
      readonly metadataJson: string | null;
    };

export type RecordKind = RecordDump['kind'];

/** How many records of each kind a store holds, a dump carries, or an import wrote. */
export interface ImportCounts {
  readonly documents: number;
  readonly streams: number;
  readonly events: number;
  readonly boards: number;
  readonly members: number;
}

export interface ImportOptions {
  /**
   * Replace whatever the store holds, in the same transaction as the import (default false: a
   * store holding any live record is refused with `VERSION_CONFLICT` and left untouched). Expired
   * records not yet swept count as absent either way and are removed by the import. Drivers whose
   * store other processes can open (SQLite, PostgreSQL) refuse a replacing import with
   * `STORE_IN_USE`, changing nothing, while another opener has the store open.
   */
  readonly replace?: boolean;
  /**
   * A stream the target keeps through the import, replacing or not (the CLI passes `audit`, the
   * audit log, whose entries are about the store rather than its data). It does not make the
   * target count as non-empty, and its live events, read inside the import's transaction, are
   * written back in the same transaction after the dump's own events of that stream (as a stream
   * of their own where the dump has none): renumbered from there, `type` and `at` unchanged, their
   * data given an `originalSeq` (see `keptEvent` in `dump-import.ts`). Kept events the dump holds
   * already, the same to the letter at the start of its stream (the target was loaded from this
   * source before), stay where the dump has them. So they are neither lost nor written twice, and
   * a failed import leaves them as they were. A target without the stream, or with an empty one,
   * gets exactly the dump.
   */
  readonly keepStream?: string;
}

export interface Driver {
  /** `memory`, `sqlite`, `postgres`, or a layer's name such as `postgres+redis`. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;

  /** Reads ignore records whose expiry is at or before `now`. */
  getDocument(collection: string, key: string, now: number): Promise<StoredDocument | undefined>;
  /** Missing keys are left out; order follows `keys`. */
  getDocuments(collection: string, keys: readonly string[], now: number): Promise<StoredDocument[]>;
  /** Keys ascend by Unicode code point. `limit` is already clamped by the engine. */
  listDocuments(
    collection: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
    now: number,
  ): Promise<DocumentPage>;

  /** Events with `seq > after`, ascending. An expired or missing stream reads as empty. */
  readStream(stream: string, after: number, limit: number, now: number): Promise<StreamEvent[]>;
  /** The last seq, or 0 for an empty, missing or expired stream. */
  streamHead(stream: string, now: number): Promise<number>;

  boardInfo(board: string): Promise<BoardInfo | undefined>;
  /** Entries at ranks `offset + 1 ...`, at most `limit`. */
  boardRange(board: string, offset: number, limit: number): Promise<BoardEntry[]>;
  boardMember(board: string, member: string): Promise<BoardEntry | undefined>;
  /** Boards whose name starts with `prefix`, ascending by name. */
  listBoards(prefix: string): Promise<BoardInfo[]>;

  /**
   * Applies each commit all-or-nothing and independently: a commit that fails (a condition, a bad
   * patch) yields its error in its slot and leaves no trace, while its neighbours still apply.
   * Drivers that can should apply the whole batch in one transaction (group commit).
   */
  applyBatch(batch: readonly PreparedCommit[]): Promise<Array<CommitResult | SavepointError>>;

  /** Removes at most `limit` expired documents and streams. */
  sweepExpired(now: number, limit: number): Promise<SweepResult>;

  /**
   * Every live record (expiry after `now`; expired records not yet swept are left out, as reads
   * leave them out), in pages, in the canonical order of {@link RecordDump}, from one consistent
   * snapshot taken when iteration starts: commits made meanwhile are either wholly in it or not at
   * all. Stopping early (`break`) releases the snapshot.
   */
  exportRecords(now: number): AsyncIterable<readonly RecordDump[]>;

  /**
   * Loads a dump all-or-nothing, in one transaction: either every record is stored, exactly as
   * dumped (versions, times, seqs), or nothing changes. Derived structures (stream heads, board
   * counts and rank blocks) are rebuilt from the records. Refuses, with `VERSION_CONFLICT`, a store
   * that holds any live record (outside `keepStream`) unless `replace` is set; refuses, with
   * `INVALID_INPUT`, records out of canonical order, duplicated, or with gaps in a stream's seqs.
   * A failure while reading `pages` rolls the import back and rethrows. Records count as live when
   * their expiry is after `now`. Resolves with the dump's counts (kept events not included).
   */
  importRecords(
    pages: AsyncIterable<readonly RecordDump[]>,
    now: number,
    options?: ImportOptions,
  ): Promise<ImportCounts>;

  /** Live records (expiry after `now`) of each kind, as {@link exportRecords} would dump them. */
  countRecords(now: number): Promise<ImportCounts>;

  /**
   * The storage's own consistency check (SQLite: `PRAGMA integrity_check`): the problems found,
   * empty when the store is sound. Drivers that cannot check leave it out.
   */
  checkIntegrity?(): Promise<string[]>;

  /** Subscribes to changes committed elsewhere (another process or instance), when the driver can tell. */
  onExternalChange?(listener: ExternalChangeListener): () => void;

  close(): Promise<void>;
}
