/**
 * The data a batch moves through: what it touches (targets), what it found and locked (loaded
 * state), and what it writes (the plan). See `batch-load.ts`, `batch-plan.ts` and `batch-write.ts`.
 */
import type { BoardOrder, CommitResult } from '../../engine/types.js';
import type { SavepointError } from '../../errors.js';

/** A map key for a document; names never contain U+0000 (the engine refuses control characters). */
export const documentKey = (collection: string, key: string): string => `${collection}\u0000${key}`;

// ---- what a batch touches ----

/** A document some op of the batch names. */
export interface DocumentTarget {
  readonly collection: string;
  readonly key: string;
  /** Some op patches it, so its stored value must be read. */
  needsValue: boolean;
  /**
   * Every op on it is a `put`: a row this instance never saw may be guessed absent (a new key, such
   * as a game's next history entry or an idempotency record), since a put plans alike either way
   * and the guess is checked.
   */
  onlyPuts: boolean;
}

/** Everything the batch's ops name: the rows to load and lock before planning. */
export interface BatchTargets {
  readonly documents: Map<string, DocumentTarget>;
  readonly streams: Set<string>;
  readonly boards: Set<string>;
  /** Members named by `score` and `removeMember` ops, by board. */
  readonly members: Map<string, Set<string>>;
}

// ---- what the batch found (locked) ----

/** A `documents` row as loaded (and locked), expired or not. */
export interface LoadedDocument {
  readonly collection: string;
  readonly key: string;
  /** `null` when no op of the batch patches it, so the value was not read. */
  readonly json: string | null;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
}

/** A `streams` row as loaded (and locked), expired or not. */
export interface LoadedStream {
  readonly name: string;
  readonly id: number;
  readonly head: number;
  readonly expiresAt: number | null;
}

/** A `boards` row as loaded (and locked); its lock guards its entries and blocks too. */
export interface LoadedBoard {
  readonly name: string;
  readonly id: number;
  readonly order: BoardOrder;
  readonly count: number;
}

/** A `board_entries` row of a member some op names. */
export interface LoadedEntry {
  readonly board: string;
  readonly member: string;
  readonly score: number;
  readonly reachedAt: number;
  readonly metadataJson: string | null;
  readonly sortKey: Buffer;
}

/** Everything the batch found, keyed for the planner. */
export interface LoadedState {
  /** By {@link documentKey}. */
  readonly documents: ReadonlyMap<string, LoadedDocument>;
  readonly streams: ReadonlyMap<string, LoadedStream>;
  readonly boards: ReadonlyMap<string, LoadedBoard>;
  /** By board, then member. */
  readonly entries: ReadonlyMap<string, ReadonlyMap<string, LoadedEntry>>;
  /**
   * Ids drawn from the sequences, one per target stream and board, for those the batch creates:
   * the new rows can then be written in the same pipelined round trip as their events and entries.
   * Unused ids are simply skipped (gaps are harmless).
   */
  readonly freshStreamIds: readonly number[];
  readonly freshBoardIds: readonly number[];
}

// ---- what the batch writes ----

/** A document's final state after the batch. */
export interface DocumentWrite {
  readonly collection: string;
  readonly key: string;
  readonly json: string;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
}

/** Everything the batch changes in `documents`. */
export interface DocumentWrites {
  readonly deletes: Array<{ readonly collection: string; readonly key: string }>;
  /** Rows that exist (and are locked). */
  readonly updates: DocumentWrite[];
  /** Rows that did not exist at load; a concurrent insert of the same key makes the batch retry. */
  readonly inserts: DocumentWrite[];
}

/** A stream row's final state after the batch. */
export interface StreamRowWrite {
  readonly id: number;
  readonly name: string;
  readonly head: number;
  readonly expiresAt: number | null;
}

/** An event the batch appends. */
export interface EventWrite {
  readonly streamId: number;
  readonly seq: number;
  readonly type: string;
  readonly json: string;
  readonly at: number;
}

/** Everything the batch changes in `streams` and `stream_events`. */
export interface StreamWrites {
  readonly inserts: StreamRowWrite[];
  readonly updates: StreamRowWrite[];
  /** Stored streams whose events are all deleted (cleared by an append after expiry, or deleted). */
  readonly clears: number[];
  /** Stored streams whose row is deleted. */
  readonly drops: number[];
  readonly events: EventWrite[];
}

/** A board row's final state after the batch. */
export interface BoardRowWrite {
  readonly id: number;
  readonly name: string;
  readonly order: BoardOrder;
  readonly count: number;
}

/** A member's final entry after the batch, with its rank sort key. */
export interface EntryWrite {
  readonly boardId: number;
  readonly member: string;
  readonly score: number;
  readonly reachedAt: number;
  readonly metadataJson: string | null;
  readonly sortKey: Buffer;
}

/** One entry entering (+1) or leaving (-1) the block that covers `sortKey`. */
export interface BlockDelta {
  readonly boardId: number;
  readonly sortKey: Buffer;
  readonly delta: 1 | -1;
}

/** Everything the batch changes in `boards`, `board_entries` and `board_blocks`. */
export interface BoardWrites {
  readonly inserts: BoardRowWrite[];
  readonly updates: BoardRowWrite[];
  /** Stored boards whose entries and blocks are all deleted (deleted, maybe written again). */
  readonly clears: number[];
  /** Stored boards whose row is deleted. */
  readonly drops: number[];
  /** Boards that need their first, empty block: new ones and cleared ones still in use. */
  readonly freshBlocks: number[];
  readonly entryDeletes: Array<{ readonly boardId: number; readonly member: string }>;
  readonly entryUpserts: EntryWrite[];
  readonly blockDeltas: BlockDelta[];
}

/** What other instances are told about a commit (see `change-notifier.ts`). */
export type ChangeRef =
  | { readonly kind: 'document'; readonly collection: string; readonly key: string }
  | { readonly kind: 'stream'; readonly stream: string; readonly firstSeq: number; readonly lastSeq: number }
  | { readonly kind: 'streamDeleted'; readonly stream: string }
  | { readonly kind: 'board'; readonly board: string };

/** The target rows as a batch leaves them: `null` when no row is left (document) or the stream is gone. */
export interface BatchImages {
  readonly documents: ReadonlyArray<DocumentImageEntry>;
  readonly streams: ReadonlyArray<StreamImageEntry>;
}

export interface DocumentImageEntry {
  readonly collection: string;
  readonly key: string;
  readonly image: LoadedDocument | null;
}

export interface StreamImageEntry {
  readonly name: string;
  readonly image: LoadedStream | null;
}

/** The outcome of planning: per-commit results, and the writes of the commits that applied. */
export interface BatchPlan {
  /** One per commit, in order. */
  readonly outcomes: Array<CommitResult | SavepointError>;
  readonly documents: DocumentWrites;
  readonly streams: StreamWrites;
  readonly boards: BoardWrites;
  readonly changes: ChangeRef[];
  /** What the batch leaves behind, kept as hints for the next batch on the same rows. */
  readonly images: BatchImages;
}
