/**
 * Boards in SQLite. Entries are keyed by `(board_id, member)` and indexed by `(board_id, sort_key)`,
 * where the sort key's byte order is the rank order; {@link BoardBlocks} turns that index into ranks.
 *
 * Score rules (the memory driver's, held by the conformance suite):
 * - `set` replaces the score, `incr` adds to it, `best` replaces it only when strictly better in the
 *   board's order, and otherwise changes nothing at all (`changed: false`).
 * - `reachedAt` is the commit time whenever the score changes (or the member is new), and is kept
 *   otherwise, so re-submitting the same score never loses a tie.
 * - Metadata: `undefined` keeps, `null` clears, an object replaces. It follows the entry: a `best`
 *   that does not win leaves the metadata of the run that set the standing score.
 */
import type Database from 'better-sqlite3';
import { boardSortKey } from '../../engine/board-sort-key.js';
import type {
  PreparedCommit,
  PreparedDeleteBoard,
  PreparedRemoveMember,
  PreparedScore,
} from '../../engine/driver.js';
import { parseStoredJson } from '../../engine/json.js';
import { decideScore } from '../../engine/scoring.js';
import type {
  BoardEntry,
  BoardInfo,
  BoardOrder,
  DeleteResult,
  JsonObject,
  ScoreResult,
} from '../../engine/types.js';
import { versionConflict } from '../../errors.js';
import { BoardBlocks } from './board-blocks.js';
import { prefixUpperBound } from './key-range.js';

interface BoardRow {
  readonly id: number;
  readonly sort_order: BoardOrder;
  readonly member_count: number;
}

interface NamedBoardRow extends BoardRow {
  readonly name: string;
}

interface EntryRow {
  readonly score: number;
  readonly reached_at: number;
  readonly metadata: string | null;
  readonly sort_key: Buffer;
}

interface MemberRow extends EntryRow {
  readonly board_id: number;
}

interface RankedRow {
  readonly member: string;
  readonly score: number;
  readonly reached_at: number;
  readonly metadata: string | null;
}

function toEntry(board: string, row: RankedRow, rank: number): BoardEntry {
  return {
    member: row.member,
    score: row.score,
    reachedAt: row.reached_at,
    metadata:
      row.metadata === null
        ? null
        : (parseStoredJson(row.metadata, `metadata of ${row.member} on board ${board}`) as JsonObject),
    rank,
  };
}

function toInfo(row: NamedBoardRow): BoardInfo {
  return { board: row.name, order: row.sort_order, count: row.member_count };
}

export class BoardTable {
  readonly #blocks: BoardBlocks;
  /** Member count changes of the commit being applied, by board id. */
  readonly #pendingCounts = new Map<number, number>();
  readonly #selectBoard: Database.Statement<[string], BoardRow>;
  readonly #insertBoard: Database.Statement<[string, BoardOrder], number>;
  readonly #countMembers: Database.Statement<[number, number]>;
  readonly #deleteBoard: Database.Statement<[number]>;
  readonly #selectEntry: Database.Statement<[number, string], EntryRow>;
  readonly #selectMember: Database.Statement<[string, string], MemberRow>;
  readonly #insertEntry: Database.Statement<[number, string, number, number, string | null, Buffer]>;
  readonly #updateEntry: Database.Statement<[number, number, string | null, Buffer, number, string]>;
  readonly #deleteEntry: Database.Statement<[number, string]>;
  readonly #deleteEntries: Database.Statement<[number]>;
  readonly #rangeFrom: Database.Statement<[number, Buffer, number], RankedRow>;
  readonly #listBoards: Database.Statement<[string], NamedBoardRow>;
  readonly #listBoardsBelow: Database.Statement<[string, string], NamedBoardRow>;

  constructor(db: Database.Database) {
    this.#blocks = new BoardBlocks(db);
    this.#selectBoard = db.prepare('SELECT id, sort_order, member_count FROM boards WHERE name = ?');
    this.#insertBoard = db
      .prepare<[string, BoardOrder], number>(
        'INSERT INTO boards (name, sort_order, member_count) VALUES (?, ?, 0) RETURNING id',
      )
      .pluck();
    this.#countMembers = db.prepare('UPDATE boards SET member_count = member_count + ? WHERE id = ?');
    this.#deleteBoard = db.prepare('DELETE FROM boards WHERE id = ?');
    this.#selectEntry = db.prepare(
      'SELECT score, reached_at, metadata, sort_key FROM board_entries WHERE board_id = ? AND member = ?',
    );
    this.#selectMember = db.prepare(`
      SELECT e.board_id, e.score, e.reached_at, e.metadata, e.sort_key
      FROM boards b JOIN board_entries e ON e.board_id = b.id AND e.member = ? WHERE b.name = ?`);
    this.#insertEntry = db.prepare(
      'INSERT INTO board_entries (board_id, member, score, reached_at, metadata, sort_key) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#updateEntry = db.prepare(
      'UPDATE board_entries SET score = ?, reached_at = ?, metadata = ?, sort_key = ? WHERE board_id = ? AND member = ?',
    );
    this.#deleteEntry = db.prepare('DELETE FROM board_entries WHERE board_id = ? AND member = ?');
    this.#deleteEntries = db.prepare('DELETE FROM board_entries WHERE board_id = ?');
    this.#rangeFrom = db.prepare(`
      SELECT member, score, reached_at, metadata FROM board_entries
      WHERE board_id = ? AND sort_key >= ? ORDER BY sort_key LIMIT ?`);
    const listSql = (bounded: boolean) =>
      `SELECT id, name, sort_order, member_count FROM boards WHERE name >= ? ${bounded ? 'AND name < ?' : ''} ORDER BY name`;
    this.#listBoards = db.prepare(listSql(false));
    this.#listBoardsBelow = db.prepare(listSql(true));
  }

  info(board: string): BoardInfo | undefined {
    const row = this.#selectBoard.get(board);
    return row === undefined ? undefined : { board, order: row.sort_order, count: row.member_count };
  }

  list(prefix: string): BoardInfo[] {
    const upper = prefixUpperBound(prefix);
    const rows = upper === null ? this.#listBoards.all(prefix) : this.#listBoardsBelow.all(prefix, upper);
    return rows.map(toInfo);
  }

  /** Entries ranked `offset + 1` onwards. Call inside a read transaction, for one consistent snapshot. */
  range(board: string, offset: number, limit: number): BoardEntry[] {
    const row = this.#selectBoard.get(board);
    if (row === undefined) return [];
    this.#blocks.sync();
    const start = this.#blocks.keyAtOffset(row.id, offset, row.member_count);
    if (start === undefined) return [];
    return this.#rangeFrom
      .all(row.id, start, limit)
      .map((entry, index) => toEntry(board, entry, offset + index + 1));
  }

  /** The member's entry with its rank. Call inside a read transaction, for one consistent snapshot. */
  member(board: string, member: string): BoardEntry | undefined {
    // One statement finds the board and the entry; the rank then counts within one block only.
    const entry = this.#selectMember.get(member, board);
    if (entry === undefined) return undefined;
    this.#blocks.sync();
    return toEntry(
      board,
      { member, score: entry.score, reached_at: entry.reached_at, metadata: entry.metadata },
      this.#blocks.rankOf(entry.board_id, entry.sort_key),
    );
  }

  /** Applies a score op; every check that can fail runs before the first write. */
  score(op: PreparedScore, commit: PreparedCommit, opIndex: number): ScoreResult {
    const board = this.#selectBoard.get(op.board);
    if (board !== undefined && op.order !== undefined && op.order !== board.sort_order) {
      throw versionConflict(`Board ${op.board} is ordered ${board.sort_order}, not ${op.order}`, {
        opIndex,
        board: op.board,
        expected: op.order,
        actual: board.sort_order,
      });
    }
    const order = board?.sort_order ?? op.order ?? 'desc';
    const current = board === undefined ? undefined : this.#selectEntry.get(board.id, op.member);
    const decision = decideScore(
      op,
      order,
      current === undefined
        ? undefined
        : { score: current.score, reachedAt: current.reached_at, metadataJson: current.metadata },
      commit.at,
      opIndex,
    );
    if (!decision.changed) {
      const { score, reachedAt } = decision;
      return { op: 'score', board: op.board, member: op.member, score, reachedAt, changed: false };
    }
    const { score, reachedAt, metadataJson: metadata } = decision;
    const key = boardSortKey(order, score, reachedAt, op.member);
    this.#blocks.syncForWrite();
    const boardId = board?.id ?? this.#createBoard(op.board, order);
    if (current === undefined) {
      this.#insertEntry.run(boardId, op.member, score, reachedAt, metadata, key);
      this.#blocks.added(boardId, key);
      this.#memberCountChanged(boardId, 1);
    } else {
      this.#updateEntry.run(score, reachedAt, metadata, key, boardId, op.member);
      if (!key.equals(current.sort_key)) this.#blocks.moved(boardId, current.sort_key, key);
    }
    return { op: 'score', board: op.board, member: op.member, score, reachedAt, changed: true };
  }

  removeMember(op: PreparedRemoveMember): DeleteResult {
    const board = this.#selectBoard.get(op.board);
    const entry = board === undefined ? undefined : this.#selectEntry.get(board.id, op.member);
    if (board === undefined || entry === undefined) return { op: 'removeMember', deleted: false };
    this.#blocks.syncForWrite();
    this.#deleteEntry.run(board.id, op.member);
    this.#blocks.removed(board.id, entry.sort_key);
    this.#memberCountChanged(board.id, -1);
    return { op: 'removeMember', deleted: true };
  }

  deleteBoard(op: PreparedDeleteBoard): DeleteResult {
    const board = this.#selectBoard.get(op.board);
    if (board === undefined) return { op: 'deleteBoard', deleted: false };
    this.#blocks.syncForWrite();
    this.#pendingCounts.delete(board.id);
    this.#deleteEntries.run(board.id);
    this.#blocks.drop(board.id);
    this.#deleteBoard.run(board.id);
    return { op: 'deleteBoard', deleted: true };
  }

  /**
   * Writes what the commit's score ops left in memory: member counts and block counts. The driver
   * calls it at the end of every commit, inside its transaction.
   */
  finishCommit(): void {
    for (const [boardId, delta] of this.#pendingCounts) {
      if (delta !== 0) this.#countMembers.run(delta, boardId);
    }
    this.#pendingCounts.clear();
    this.#blocks.flush();
  }

  /** Drops the rank blocks held in memory and unwritten counts; the driver calls it when a transaction rolls back. */
  forgetRanks(): void {
    this.#pendingCounts.clear();
    this.#blocks.forget();
  }

  /** Member counts change once per commit, in {@link finishCommit}, however many members it adds. */
  #memberCountChanged(boardId: number, delta: number): void {
    this.#pendingCounts.set(boardId, (this.#pendingCounts.get(boardId) ?? 0) + delta);
  }

  #createBoard(name: string, order: BoardOrder): number {
    const id = this.#insertBoard.get(name, order) as number;
    this.#blocks.create(id);
    return id;
  }
}
