/**
 * Order statistics for boards: ranks in O(log blocks + block size) instead of O(rank).
 *
 * A board's sort keys are cut into consecutive blocks. A block starts at its `lo` key and covers
 * every key up to the next block's `lo`; the first block starts at the empty key, below all keys.
 * Each block stores how many entries it covers, so the rank of a key is the sum of the counts of
 * the blocks before its block, plus the entries of its own block below it, plus one. A block that
 * grows past {@link MAX_BLOCK_SIZE} (2·B) splits at its median key; a block that shrinks below B/2
 * merges into its neighbour when both fit in {@link BLOCK_SIZE} (B), and an empty one always goes.
 * So blocks hold B/2 to 2·B entries, apart from a few that no neighbour can take. The sum of the
 * counts before a block comes from memory (below), so B is small: a rank counts at most 2·B = 128
 * index entries. (When SQL summed the counts, B was 512 to keep the blocks few: a million members
 * took 1,341 blocks, and a rank summed up to that many rows and counted up to 1,024 entries.)
 *
 * Every method here keeps the counts in step with `board_entries`, which the caller must already
 * have changed (splits look up the median key in it).
 *
 * The blocks of recently used boards are also held in memory ({@link BlockIndex}): a rank then
 * sums no rows, and a write finds its block without a query. The copy is only trusted while
 * nothing else could have changed the rows: {@link BoardBlocks.sync} drops it when another
 * connection has committed (`PRAGMA data_version`), and the driver calls
 * {@link BoardBlocks.forget} whenever a transaction of its own rolls back.
 *
 * A count that only moves by one is written once per commit, by {@link BoardBlocks.flush}, instead
 * of once per op: loading 10,000 members in one commit then updates each block's row once. Splits
 * and merges write their rows at once, with the counts held in memory.
 */
import type Database from 'better-sqlite3';
import { BlockIndex } from './block-index.js';

/** The target block size B. */
export const BLOCK_SIZE = 64;
/** A block splits when it grows past this. */
export const MAX_BLOCK_SIZE = 2 * BLOCK_SIZE;
/** A block below this size tries to merge with a neighbour. */
const MERGE_BELOW = BLOCK_SIZE / 2;
/** Boards whose blocks stay in memory at once; the least recently loaded goes first. */
const CACHED_BOARDS = 256;

const EMPTY_KEY = Buffer.alloc(0);

interface Block {
  readonly lo: Buffer;
  readonly count: number;
}

export class BoardBlocks {
  readonly #insert: Database.Statement<[number, Buffer, number]>;
  readonly #setCount: Database.Statement<[number, number, Buffer]>;
  readonly #remove: Database.Statement<[number, Buffer]>;
  readonly #removeAll: Database.Statement<[number]>;
  readonly #keyAt: Database.Statement<[number, Buffer, number], Buffer>;
  readonly #countWithin: Database.Statement<[number, Buffer, Buffer], number>;
  readonly #load: Database.Statement<[number], Block>;
  readonly #dataVersion: Database.Statement<[], number>;
  readonly #indexes = new Map<number, BlockIndex>();
  /** Per board, the blocks whose row count lags the one in memory until {@link flush}. */
  readonly #dirty = new Map<number, Set<Buffer>>();
  #seenVersion: number | undefined;
  /** Set once the current write transaction has checked `data_version`. */
  #synced = false;

  constructor(db: Database.Database) {
    this.#insert = db.prepare('INSERT INTO board_blocks (board_id, lo, count) VALUES (?, ?, ?)');
    this.#setCount = db.prepare('UPDATE board_blocks SET count = ? WHERE board_id = ? AND lo = ?');
    this.#remove = db.prepare('DELETE FROM board_blocks WHERE board_id = ? AND lo = ?');
    this.#removeAll = db.prepare('DELETE FROM board_blocks WHERE board_id = ?');
    this.#keyAt = db
      .prepare<[number, Buffer, number], Buffer>(
        'SELECT sort_key FROM board_entries WHERE board_id = ? AND sort_key >= ? ORDER BY sort_key LIMIT 1 OFFSET ?',
      )
      .pluck();
    this.#countWithin = db
      .prepare<[number, Buffer, Buffer], number>(
        'SELECT COUNT(*) FROM board_entries WHERE board_id = ? AND sort_key >= ? AND sort_key < ?',
      )
      .pluck();
    this.#load = db.prepare('SELECT lo, count FROM board_blocks WHERE board_id = ? ORDER BY lo');
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /**
   * Drops the blocks held in memory when another connection (another process, an import) has
   * committed since the last look. Call inside the transaction, after its first read.
   */
  sync(): void {
    const version = this.#dataVersion.get() as number;
    if (version === this.#seenVersion) return;
    this.#indexes.clear();
    this.#seenVersion = version;
  }

  /** {@link sync} once per commit: nobody else can commit while this connection holds the write lock. */
  syncForWrite(): void {
    if (this.#synced) return;
    this.sync();
    this.#synced = true;
  }

  /** Writes the counts still held in memory only; call at the end of each commit, inside it. */
  flush(): void {
    this.#synced = false;
    for (const boardId of this.#dirty.keys()) this.#flushBoard(boardId);
  }

  /** Drops the blocks held in memory and their unwritten counts: a transaction that changed them has rolled back. */
  forget(): void {
    this.#indexes.clear();
    this.#dirty.clear();
    this.#synced = false;
  }

  /** Starts a new board's index: one empty block covering every key. */
  create(boardId: number): void {
    this.#insert.run(boardId, EMPTY_KEY, 0);
    this.#indexes.delete(boardId);
  }

  drop(boardId: number): void {
    this.#removeAll.run(boardId);
    this.#indexes.delete(boardId);
    this.#dirty.delete(boardId);
  }

  /** Counts a key just inserted into `board_entries`. */
  added(boardId: number, key: Buffer): void {
    const index = this.#index(boardId);
    const at = index.find(key);
    const lo = index.lo(at);
    const count = index.count(at) + 1;
    if (count <= MAX_BLOCK_SIZE) {
      index.adjust(at, 1);
      this.#lag(boardId, lo);
      return;
    }
    const half = count >>> 1;
    const median = this.#keyAt.get(boardId, lo, half) as Buffer;
    this.#setCount.run(half, boardId, lo);
    this.#insert.run(boardId, median, count - half);
    index.split(at, half, median, count - half);
  }

  /** Uncounts a key just deleted from `board_entries`. */
  removed(boardId: number, key: Buffer): void {
    const index = this.#index(boardId);
    const at = index.find(key);
    const lo = index.lo(at);
    const count = index.count(at) - 1;
    index.adjust(at, -1);
    if (count >= MERGE_BELOW) {
      this.#lag(boardId, lo);
      return;
    }
    if (at > 0) {
      const previous = at - 1;
      if (count === 0 || index.count(previous) + count <= BLOCK_SIZE) {
        this.#remove.run(boardId, lo);
        index.merge(at, previous);
        this.#setCount.run(index.count(previous), boardId, index.lo(previous));
        return;
      }
    } else if (at + 1 < index.size && index.count(at + 1) + count <= BLOCK_SIZE) {
      // The first block never goes away; it absorbs its successor instead.
      this.#remove.run(boardId, index.lo(at + 1));
      index.merge(at + 1, at);
      this.#setCount.run(index.count(at), boardId, lo);
      return;
    }
    this.#lag(boardId, lo);
  }

  /** Moves one entry's count from its old key to its new one (the entry's row already holds the new key). */
  moved(boardId: number, oldKey: Buffer, newKey: Buffer): void {
    const index = this.#index(boardId);
    if (index.find(oldKey) === index.find(newKey)) return;
    this.removed(boardId, oldKey);
    this.added(boardId, newKey);
  }

  /** The 1-based rank of a key present in `board_entries`. */
  rankOf(boardId: number, key: Buffer): number {
    const index = this.#index(boardId);
    const at = index.find(key);
    return index.before(at) + (this.#countWithin.get(boardId, index.lo(at), key) as number) + 1;
  }

  /**
   * The sort key of the entry at 0-based `offset` of a board of `total` entries (or a key just
   * below it, which ranges the same), or `undefined` past the end. Finds the block in memory, then
   * steps through the index within that block: index entries only, since skipping rows of the
   * table costs a lookup each (0.75 us).
   */
  keyAtOffset(boardId: number, offset: number, total: number): Buffer | undefined {
    if (offset >= total) return undefined;
    if (offset === 0) return EMPTY_KEY;
    const index = this.#index(boardId);
    const block = index.locate(offset);
    if (block === undefined) return undefined;
    const lo = index.lo(block.index);
    const skip = offset - block.first;
    return skip === 0 ? lo : this.#keyAt.get(boardId, lo, skip);
  }

  /** Marks a block whose row count is behind the count in memory. */
  #lag(boardId: number, lo: Buffer): void {
    let blocks = this.#dirty.get(boardId);
    if (blocks === undefined) {
      blocks = new Set();
      this.#dirty.set(boardId, blocks);
    }
    blocks.add(lo);
  }

  #flushBoard(boardId: number): void {
    const blocks = this.#dirty.get(boardId);
    const index = this.#indexes.get(boardId);
    this.#dirty.delete(boardId);
    if (blocks === undefined || index === undefined) return;
    for (const lo of blocks) {
      const at = index.find(lo);
      // A block merged away since has no row left to write.
      if (index.lo(at) === lo) this.#setCount.run(index.count(at), boardId, lo);
    }
  }

  #index(boardId: number): BlockIndex {
    let index = this.#indexes.get(boardId);
    if (index === undefined) {
      const rows = this.#load.all(boardId);
      index = new BlockIndex(
        rows.map((row) => row.lo),
        rows.map((row) => row.count),
      );
      if (this.#indexes.size >= CACHED_BOARDS) {
        const oldest = this.#indexes.keys().next().value as number;
        this.#flushBoard(oldest);
        this.#indexes.delete(oldest);
      }
      this.#indexes.set(boardId, index);
    }
    return index;
  }
}
