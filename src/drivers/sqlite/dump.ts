/**
 * Dump and load for SQLite (`exportRecords`, `importRecords`, `countRecords`).
 *
 * better-sqlite3 is synchronous and the driver has one connection, while a dump streams across
 * awaits. So, for a database file:
 * - Export reads on a second, read-only connection inside one read transaction: in WAL mode it
 *   sees one snapshot while the driver's connection keeps committing. Every page is a keyset query
 *   (documents by `(collection, key)`, streams by name, events by seq, entries by sort key) with no
 *   cursor left open, so memory stays flat and any page can be the last one read.
 * - Import writes on a second connection inside one `BEGIN IMMEDIATE` transaction: readers on the
 *   driver's connection see the old contents until COMMIT. The driver holds its own commits and
 *   sweeps until the import ends (see `SqliteDriver`), because the write lock is taken here: a
 *   commit waiting on it in better-sqlite3's busy loop would block the event loop, and the import.
 *
 * A `:memory:` database has no second connection: export reads everything in one synchronous
 * pass (a snapshot by construction); import runs on the driver's connection, whose readers then
 * see the import in progress.
 *
 * Import is `importDump` (engine/dump-import.ts: the checks, the same for every driver) around
 * this module's SQL. Imported events go straight to `events` (not the `recent_events` buffer).
 * Rank blocks are built as entries arrive in rank order: {@link BLOCK_SIZE} entries each, a short
 * last block folded into its predecessor, within the bounds `board-blocks.ts` keeps.
 */
import Database from 'better-sqlite3';
import type { ImportCounts, ImportOptions, RecordDump } from '../../engine/driver.js';
import {
  type ImportTarget,
  importDump,
  type KeptStream,
  RankBlockBuilder,
} from '../../engine/dump-import.js';
import type { BoardOrder } from '../../engine/types.js';
import { SavepointError } from '../../errors.js';
import { BLOCK_SIZE } from './board-blocks.js';
import { translateSqliteError } from './sqlite-errors.js';
import { eventsAfterSql } from './stream-table.js';

/** Records per exported page (about; a page ends at the first record past it). */
const PAGE_RECORDS = 1000;
const EMPTY_KEY = Buffer.alloc(0);

const COUNT_SQL = `
  SELECT
    (SELECT count(*) FROM documents WHERE expires_at IS NULL OR expires_at > @now) AS documents,
    (SELECT count(*) FROM streams WHERE expires_at IS NULL OR expires_at > @now) AS streams,
    (SELECT count(*) FROM events e JOIN streams s ON s.id = e.stream_id
      WHERE s.expires_at IS NULL OR s.expires_at > @now)
    + (SELECT count(*) FROM recent_events e JOIN streams s ON s.id = e.stream_id
      WHERE s.expires_at IS NULL OR s.expires_at > @now) AS events,
    (SELECT count(*) FROM boards) AS boards,
    (SELECT count(*) FROM board_entries) AS members`;

/** A document as its export query returns it: the record's fields, read under their own names. */
type DocumentRow = Omit<Extract<RecordDump, { kind: 'document' }>, 'kind'>;

interface StreamRow {
  readonly id: number;
  readonly name: string;
  readonly head: number;
  readonly expiresAt: number | null;
}

interface EventRow {
  readonly seq: number;
  readonly type: string;
  readonly json: string;
  readonly at: number;
}

interface BoardRow {
  readonly id: number;
  readonly name: string;
  readonly order: BoardOrder;
}

interface EntryRow {
  readonly member: string;
  readonly score: number;
  readonly reachedAt: number;
  readonly metadataJson: string | null;
  readonly sortKey: Buffer;
}

/** One statement (so one snapshot) counting the live records of each kind. */
export function countRecords(db: Database.Database, now: number): ImportCounts {
  const row = db.prepare<[{ now: number }], ImportCounts>(COUNT_SQL).get({ now });
  if (row === undefined) throw new SavepointError('INTERNAL', 'SQLite returned no counts');
  return { ...row };
}

/** Every live record in canonical order, in pages, by keyset queries on `db`. */
function* recordPages(db: Database.Database, now: number): Generator<RecordDump[]> {
  const documents = db.prepare<[string, string, number, number], DocumentRow>(`
    SELECT collection, key, value AS json, version, created_at AS createdAt,
           updated_at AS updatedAt, expires_at AS expiresAt
    FROM documents
    WHERE (collection, key) > (?, ?) AND (expires_at IS NULL OR expires_at > ?)
    ORDER BY collection, key LIMIT ?`);
  const streams = db.prepare<[string, number, number], StreamRow>(`
    SELECT id, name, head, expires_at AS expiresAt FROM streams
    WHERE name > ? AND (expires_at IS NULL OR expires_at > ?)
    ORDER BY name LIMIT ?`);
  const events = db.prepare<[{ id: number; after: number; limit: number }], EventRow>(
    eventsAfterSql('id = @id'),
  );
  const boards = db.prepare<[string, number], BoardRow>(
    'SELECT id, name, sort_order AS "order" FROM boards WHERE name > ? ORDER BY name LIMIT ?',
  );
  const entries = db.prepare<[number, Buffer, number], EntryRow>(`
    SELECT member, score, reached_at AS reachedAt, metadata AS metadataJson, sort_key AS sortKey
    FROM board_entries WHERE board_id = ? AND sort_key > ? ORDER BY sort_key LIMIT ?`);

  let page: RecordDump[] = [];
  const full = (): boolean => page.length >= PAGE_RECORDS;
  const take = (): RecordDump[] => {
    const taken = page;
    page = [];
    return taken;
  };

  for (let after: [string, string] = ['', '']; ; ) {
    const rows = documents.all(after[0], after[1], now, PAGE_RECORDS);
    for (const row of rows) page.push({ kind: 'document', ...row });
    if (full()) yield take();
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE_RECORDS) break;
    after = [last.collection, last.key];
  }
  for (let afterName = ''; ; ) {
    const rows = streams.all(afterName, now, PAGE_RECORDS);
    for (const stream of rows) {
      page.push({ kind: 'stream', stream: stream.name, head: stream.head, expiresAt: stream.expiresAt });
      for (let afterSeq = 0; ; ) {
        const batch = events.all({ id: stream.id, after: afterSeq, limit: PAGE_RECORDS });
        for (const event of batch) page.push({ kind: 'event', stream: stream.name, ...event });
        if (full()) yield take();
        const lastEvent = batch.at(-1);
        if (lastEvent === undefined || batch.length < PAGE_RECORDS) break;
        afterSeq = lastEvent.seq;
      }
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE_RECORDS) break;
    afterName = last.name;
  }
  for (let afterName = ''; ; ) {
    const rows = boards.all(afterName, PAGE_RECORDS);
    for (const board of rows) {
      page.push({ kind: 'board', board: board.name, order: board.order });
      for (let afterKey: Buffer = EMPTY_KEY; ; ) {
        const batch = entries.all(board.id, afterKey, PAGE_RECORDS);
        for (const entry of batch) {
          page.push({
            kind: 'member',
            board: board.name,
            member: entry.member,
            score: entry.score,
            reachedAt: entry.reachedAt,
            metadataJson: entry.metadataJson,
          });
        }
        if (full()) yield take();
        const lastEntry = batch.at(-1);
        if (lastEntry === undefined || batch.length < PAGE_RECORDS) break;
        afterKey = lastEntry.sortKey;
      }
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < PAGE_RECORDS) break;
    afterName = last.name;
  }
  if (page.length > 0) yield take();
}

/** See the module comment. */
export async function* exportRecords(
  db: Database.Database,
  now: number,
  busyTimeoutMs: number,
): AsyncGenerator<RecordDump[]> {
  if (db.memory) {
    // No second connection can see it: read it all now, with no await in between.
    let pages: RecordDump[][];
    try {
      pages = [...recordPages(db, now)];
    } catch (error) {
      throw translateSqliteError(error, 'SQLite export');
    }
    yield* pages;
    return;
  }
  let reader: Database.Database;
  try {
    reader = new Database(db.name, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  } catch (error) {
    throw translateSqliteError(error, `SQLite export of ${db.name}`);
  }
  try {
    reader.exec('BEGIN');
    for (const page of recordPages(reader, now)) yield page;
    reader.exec('COMMIT');
  } catch (error) {
    throw translateSqliteError(error, 'SQLite export');
  } finally {
    // Also reached when the consumer stops early: the snapshot ends with the connection.
    reader.close();
  }
}

/** Rank blocks of the SQLite shape (`board-blocks.ts` merges below B/2 too), boards named by row id. */
const BLOCK_SIZES = { blockSize: BLOCK_SIZE, mergeBelow: BLOCK_SIZE / 2 };

type BlockBuilder = RankBlockBuilder<number>;

/** One import's writes on the connection `db`, for `importDump` (see the module comment). */
class SqliteImport implements ImportTarget {
  readonly #db: Database.Database;
  readonly #now: number;
  #statements: Statements | undefined;
  #streamId = 0;
  #board: BlockBuilder | undefined;

  constructor(db: Database.Database, now: number) {
    this.#db = db;
    this.#now = now;
  }

  async begin(): Promise<void> {
    this.#db.exec('BEGIN IMMEDIATE');
    this.#statements = prepareStatements(this.#db);
  }

  async count(): Promise<ImportCounts> {
    return countRecords(this.#db, this.#now);
  }

  async readStream(name: string): Promise<KeptStream | undefined> {
    const stream = this.#db
      .prepare<[string, number], Omit<StreamRow, 'name' | 'head'>>(
        'SELECT id, expires_at AS expiresAt FROM streams WHERE name = ? AND (expires_at IS NULL OR expires_at > ?)',
      )
      .get(name, this.#now);
    if (stream === undefined) return undefined;
    // Appends wait in `recent_events` until they are settled into `events`: a stream may be in both.
    const events = this.#db
      .prepare<[{ id: number; after: number; limit: number }], EventRow>(eventsAfterSql('id = @id'))
      .all({ id: stream.id, after: 0, limit: -1 });
    return { stream: name, expiresAt: stream.expiresAt, events };
  }

  async clear(): Promise<void> {
    this.#db.exec(`
      DELETE FROM board_blocks; DELETE FROM board_entries; DELETE FROM boards;
      DELETE FROM recent_events; DELETE FROM events; DELETE FROM streams; DELETE FROM documents;`);
  }

  write(record: RecordDump): undefined {
    const statements = this.#statements as Statements;
    switch (record.kind) {
      case 'document':
        statements.insertDocument.run(
          record.collection,
          record.key,
          record.json,
          record.version,
          record.createdAt,
          record.updatedAt,
          record.expiresAt,
        );
        return;
      case 'stream':
        this.#streamId = statements.insertStream.get(record.stream, record.head, record.expiresAt) as number;
        return;
      case 'event':
        statements.insertEvent.run(this.#streamId, record.seq, record.type, record.json, record.at);
        return;
      case 'board':
        this.#finishBoard();
        this.#board = new RankBlockBuilder(
          statements.insertBoard.get(record.board, record.order) as number,
          record.order,
          BLOCK_SIZES,
        );
        return;
      case 'member': {
        const board = this.#board as BlockBuilder;
        const sortKey = board.add(record.member, record.score, record.reachedAt);
        statements.insertEntry.run(
          board.board,
          record.member,
          record.score,
          record.reachedAt,
          record.metadataJson,
          sortKey,
        );
        return;
      }
    }
  }

  async commit(): Promise<void> {
    this.#finishBoard();
    this.#db.exec('COMMIT');
  }

  isDuplicate(error: unknown): boolean {
    return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT');
  }

  translate(error: unknown): SavepointError {
    return translateSqliteError(error, 'SQLite import');
  }

  /** Writes the last board's count and rank blocks. */
  #finishBoard(): void {
    const board = this.#board;
    if (board === undefined) return;
    const statements = this.#statements as Statements;
    for (const block of board.blocks()) statements.insertBlock.run(board.board, block.lo, block.count);
    statements.setMemberCount.run(board.count, board.board);
    this.#board = undefined;
  }
}

/** The statements of one import, prepared on the connection that writes it. */
interface Statements {
  readonly insertDocument: Database.Statement<unknown[]>;
  readonly insertStream: Database.Statement<unknown[], number>;
  readonly insertEvent: Database.Statement<unknown[]>;
  readonly insertBoard: Database.Statement<unknown[], number>;
  readonly insertEntry: Database.Statement<unknown[]>;
  readonly insertBlock: Database.Statement<unknown[]>;
  readonly setMemberCount: Database.Statement<unknown[]>;
}

function prepareStatements(db: Database.Database): Statements {
  return {
    insertDocument: db.prepare(
      'INSERT INTO documents (collection, key, value, version, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertStream: db
      .prepare<unknown[], number>(
        'INSERT INTO streams (name, head, expires_at) VALUES (?, ?, ?) RETURNING id',
      )
      .pluck(),
    insertEvent: db.prepare('INSERT INTO events (stream_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)'),
    insertBoard: db
      .prepare<unknown[], number>(
        'INSERT INTO boards (name, sort_order, member_count) VALUES (?, ?, 0) RETURNING id',
      )
      .pluck(),
    insertEntry: db.prepare(
      'INSERT INTO board_entries (board_id, member, score, reached_at, metadata, sort_key) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertBlock: db.prepare('INSERT INTO board_blocks (board_id, lo, count) VALUES (?, ?, ?)'),
    setMemberCount: db.prepare('UPDATE boards SET member_count = ? WHERE id = ?'),
  };
}

/** See the module comment. `db` is the driver's connection. */
export async function importRecords(
  db: Database.Database,
  pages: AsyncIterable<readonly RecordDump[]>,
  now: number,
  options: ImportOptions,
  busyTimeoutMs: number,
): Promise<ImportCounts> {
  let writer: Database.Database;
  try {
    writer = db.memory ? db : new Database(db.name, { fileMustExist: true, timeout: busyTimeoutMs });
    if (writer !== db) writer.pragma(`synchronous = ${db.pragma('synchronous', { simple: true }) as number}`);
  } catch (error) {
    throw translateSqliteError(error, `SQLite import into ${db.name}`);
  }
  try {
    return await importDump(new SqliteImport(writer, now), pages, options);
  } finally {
    if (writer.inTransaction) writer.exec('ROLLBACK');
    if (writer !== db) writer.close();
  }
}
