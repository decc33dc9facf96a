/**
 * The engine's data model: documents, streams and boards, and the operations that change them.
 * Every write is a list of these operations handed to `commit`, applied all-or-nothing.
 * Times are milliseconds since the Unix epoch (UTC).
 */

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A JSON value addressed by `(collection, key)`. */
export interface StoredDocument<T extends JsonValue = JsonValue> {
  readonly collection: string;
  readonly key: string;
  readonly value: T;
  /** 1 on creation, +1 on every change. */
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the document stops being visible; `null` for never. */
  readonly expiresAt: number | null;
}

/** One event of an append-only stream. `seq` starts at 1 and has no gaps. */
export interface StreamEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: JsonValue;
  readonly at: number;
}

export type BoardOrder = 'desc' | 'asc';

/** How a `score` op combines the submitted score with the member's current one. */
export type ScoreMode = 'set' | 'best' | 'incr';

/** A member of a board. Ranks are 1-based: by score in the board's order, then earliest `reachedAt`, then member. */
export interface BoardEntry {
  readonly member: string;
  readonly score: number;
  /** When the member's current score was reached; earlier wins ties. */
  readonly reachedAt: number;
  readonly metadata: JsonObject | null;
  readonly rank: number;
}

/**
 * Atomic update operators, applied in this order: `$set`, `$unset`, `$inc`, `$max`, `$min`, `$push`.
 * Keys are dot paths (`"stats.wins"`); missing intermediate objects are created.
 */
export interface Patch {
  readonly $set?: Readonly<Record<string, JsonValue>>;
  readonly $unset?: Readonly<Record<string, true | 1 | ''>>;
  readonly $inc?: Readonly<Record<string, number>>;
  readonly $max?: Readonly<Record<string, number>>;
  readonly $min?: Readonly<Record<string, number>>;
  /** Appends one value, or every value of `{ $each: [...] }`, to an array (created when missing). */
  readonly $push?: Readonly<Record<string, JsonValue | { readonly $each: readonly JsonValue[] }>>;
}

/** Conditions a document op can carry. A failed condition fails the whole commit with `VERSION_CONFLICT`. */
export interface DocumentCondition {
  /** The document must exist with exactly this version. */
  readonly expectedVersion?: number;
  /** The document must not exist (expired documents count as absent). */
  readonly mustNotExist?: boolean;
}

/** Expiry for a write: `expiresAt` (absolute) or `ttlMs` (relative to the commit's time); `null` clears it. */
export interface Expiry {
  readonly expiresAt?: number | null;
  readonly ttlMs?: number | null;
}

export interface PutOp extends DocumentCondition, Expiry {
  readonly op: 'put';
  readonly collection: string;
  readonly key: string;
  readonly value: JsonValue;
}

export interface PatchOp extends DocumentCondition, Expiry {
  readonly op: 'patch';
  readonly collection: string;
  readonly key: string;
  readonly patch: Patch;
  /** Create the document from `{}` when it does not exist (default: fail with `NOT_FOUND`). */
  readonly upsert?: boolean;
}

export interface DeleteOp {
  readonly op: 'delete';
  readonly collection: string;
  readonly key: string;
  readonly expectedVersion?: number;
}

export interface EventInput {
  readonly type: string;
  readonly data?: JsonValue;
}

export interface AppendOp {
  readonly op: 'append';
  readonly stream: string;
  readonly events: readonly EventInput[];
  /** The stream's current last seq must be exactly this (0 for an empty stream). */
  readonly expectedHead?: number;
  /** Sets when the whole stream expires; `null` clears it; absent leaves it unchanged. */
  readonly expiresAt?: number | null;
}

/** Sets or clears the expiry of a whole stream without appending. */
export interface ExpireStreamOp {
  readonly op: 'expireStream';
  readonly stream: string;
  readonly expiresAt: number | null;
}

export interface DeleteStreamOp {
  readonly op: 'deleteStream';
  readonly stream: string;
}

export interface ScoreOp {
  readonly op: 'score';
  readonly board: string;
  readonly member: string;
  readonly score: number;
  readonly mode: ScoreMode;
  /** Replaces the member's metadata when given. */
  readonly metadata?: JsonObject | null;
  /** The board's order, fixed when the board is first written (default `desc`); a different one is a conflict. */
  readonly order?: BoardOrder;
}

export interface RemoveMemberOp {
  readonly op: 'removeMember';
  readonly board: string;
  readonly member: string;
}

export interface DeleteBoardOp {
  readonly op: 'deleteBoard';
  readonly board: string;
}

export type CommitOp =
  | PutOp
  | PatchOp
  | DeleteOp
  | AppendOp
  | ExpireStreamOp
  | DeleteStreamOp
  | ScoreOp
  | RemoveMemberOp
  | DeleteBoardOp;

export type OpName = CommitOp['op'];

export interface DocumentWriteResult {
  readonly op: 'put' | 'patch';
  readonly document: StoredDocument;
  /** True when this op created the document. */
  readonly created: boolean;
}

export interface DeleteResult {
  readonly op: 'delete' | 'deleteStream' | 'removeMember' | 'deleteBoard';
  /** False when there was nothing to delete. */
  readonly deleted: boolean;
}

export interface AppendResult {
  readonly op: 'append';
  readonly stream: string;
  readonly events: readonly StreamEvent[];
  readonly firstSeq: number;
  readonly lastSeq: number;
}

export interface ExpireStreamResult {
  readonly op: 'expireStream';
  /** False when the stream does not exist. */
  readonly found: boolean;
}

export interface ScoreResult {
  readonly op: 'score';
  readonly board: string;
  readonly member: string;
  readonly score: number;
  readonly reachedAt: number;
  /** False when a `best` submission did not beat the current score. */
  readonly changed: boolean;
}

export type OpResult = DocumentWriteResult | DeleteResult | AppendResult | ExpireStreamResult | ScoreResult;

export interface CommitResult {
  /** One result per op, in op order. */
  readonly results: readonly OpResult[];
  /** The time the commit was applied at. */
  readonly at: number;
  /** Keyed commits only: true when the key had already been used and nothing was applied now. */
  readonly replayed?: boolean;
  /** Keyed commits only: the answer stored with the results (see `CommitOptions.answer`). */
  readonly answer?: JsonValue;
}

/** Options of one commit (see `Store.commit`). */
export interface CommitOptions {
  /**
   * Makes the commit exactly-once: the first commit with this key applies and stores its results
   * with the key in the same transaction; a later one with the same key applies nothing and gets
   * the stored results, with `replayed: true`, for as long as the key is kept (24 hours by
   * default). 1-200 characters of `[A-Za-z0-9._:@-]`.
   */
  readonly idempotencyKey?: string;
  /**
   * What the key stands for; a repeat with another fingerprint fails with
   * `IDEMPOTENCY_KEY_REUSED`. Default: a digest of the ops.
   */
  readonly fingerprint?: string;
  /**
   * Derives an answer from the commit's results inside its transaction; it is stored with the key
   * and returned as `answer` by the first commit and every replay.
   */
  readonly answer?: (results: readonly OpResult[], at: number) => JsonValue;
}

export interface ListOptions {
  /** Only keys starting with this. */
  readonly prefix?: string;
  /** Resume after this key (the `nextCursor` of a previous page). */
  readonly after?: string;
  /** 1 to 1000; default 100. */
  readonly limit?: number;
}

export interface DocumentPage {
  readonly items: readonly StoredDocument[];
  /** Pass as `after` to read the next page; `null` at the end. */
  readonly nextCursor: string | null;
}

export interface ReadStreamOptions {
  /** Return events with `seq > after` (default 0: from the start). */
  readonly after?: number;
  /** 1 to 10000; default 1000. */
  readonly limit?: number;
}

export interface BoardRangeOptions {
  readonly offset?: number;
  /** 1 to 1000; default 100. */
  readonly limit?: number;
}

export interface BoardInfo {
  readonly board: string;
  readonly order: BoardOrder;
  readonly count: number;
}

/** What `sweepExpired` removed. */
export interface SweepResult {
  /** Removed documents by collection. */
  readonly documents: Readonly<Record<string, number>>;
  /** Removed streams (with all their events). */
  readonly streams: number;
  /** True when `limit` stopped the sweep before everything expired was removed. */
  readonly more: boolean;
}
