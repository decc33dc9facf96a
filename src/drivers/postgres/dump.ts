/**
 * Dump and load for PostgreSQL (`exportRecords`, `importRecords`, `countRecords`).
 *
 * - Export reads inside one `REPEATABLE READ READ ONLY` transaction on a reserved connection,
 *   through three cursors (documents; streams joined to their events; boards joined to their
 *   entries), each ordered by the indexes the canonical order follows, so a dump of any size
 *   streams in constant memory from one snapshot.
 * - Import is `importDump` (engine/dump-import.ts: the checks, the same for every driver) around
 *   this module's SQL. It runs in one transaction that first locks the six tables against writers
 *   (readers go on reading the old contents until COMMIT), then writes with set-based `unnest`
 *   statements, pipelined per flush. Stream and board ids come from their sequences: events and
 *   entries find them by joining on the name, written earlier in the same pipeline, so no flush
 *   waits for ids. Board rank blocks are built as entries arrive in rank order: a new block every
 *   {@link BLOCK_SIZE} entries, a short last block folded into the one before it, which is exactly
 *   the shape `board-blocks.ts` maintains.
 */

import type { ImportCounts, ImportOptions, RecordDump } from '../../engine/driver.js';
import {
  type ImportTarget,
  importDump,
  type KeptStream,
  RankBlockBuilder,
} from '../../engine/dump-import.js';
import type { BoardOrder } from '../../engine/types.js';
import { SavepointError } from '../../errors.js';
import { BLOCK_SIZE, MIN_BLOCK } from './board-blocks.js';
import type { Sql, Tables } from './postgres-client.js';
import { isConnectionLost, isRetryable, translatePostgresError } from './postgres-errors.js';

const BYTEA_OID = 17;
/** Rows per cursor fetch, and so records per exported page (about). */
const EXPORT_PAGE_ROWS = 1000;
/** An import flushes when it buffered this many records, or this many bytes of JSON. */
const FLUSH_RECORDS = 5000;
const FLUSH_BYTES = 16 * 1024 * 1024;
/** Attempts at taking the import's table locks (a deadlock with a running batch aborts one of us). */
const LOCK_ATTEMPTS = 5;

/** A document as its export query returns it: the record's fields, read under their own names. */
type DocumentRow = Omit<Extract<RecordDump, { kind: 'document' }>, 'kind'>;

interface StreamEventRow {
  readonly name: string;
  readonly head: number;
  readonly expiresAt: number | null;
  readonly seq: number | null;
  readonly type: string | null;
  readonly json: string | null;
  readonly at: number | null;
}

interface BoardEntryRow {
  readonly name: string;
  readonly order: BoardOrder;
  readonly member: string | null;
  readonly score: number | null;
  readonly reachedAt: number | null;
  readonly metadataJson: string | null;
}

interface CountsRow {
  readonly documents: number;
  readonly streams: number;
  readonly events: number;
  readonly boards: number;
  readonly members: number;
}

/** One query, so the five counts come from one snapshot. */
function countQuery(sql: Sql, tables: Tables, now: number) {
  return sql<CountsRow[]>`
    SELECT
      (SELECT count(*) FROM ${tables.documents} WHERE expires_at IS NULL OR expires_at > ${now})::int8 AS documents,
      (SELECT count(*) FROM ${tables.streams} WHERE expires_at IS NULL OR expires_at > ${now})::int8 AS streams,
      (SELECT count(*) FROM ${tables.events} e JOIN ${tables.streams} s ON s.id = e.stream_id
        WHERE s.expires_at IS NULL OR s.expires_at > ${now})::int8 AS events,
      (SELECT count(*) FROM ${tables.boards})::int8 AS boards,
      (SELECT count(*) FROM ${tables.entries})::int8 AS members`;
}

export async function countRecords(sql: Sql, tables: Tables, now: number): Promise<ImportCounts> {
  const [row] = await countQuery(sql, tables, now);
  if (row === undefined) throw new SavepointError('INTERNAL', 'PostgreSQL returned no counts');
  return { ...row };
}

/** See the module comment. The connection is reserved when iteration starts and released when it ends. */
export async function* exportRecords(sql: Sql, tables: Tables, now: number): AsyncGenerator<RecordDump[]> {
  let tx: Sql;
  try {
    tx = (await sql.reserve()) as unknown as Sql;
  } catch (error) {
    throw translatePostgresError(error, 'starting an export');
  }
  let open = false;
  let reusable = true;
  try {
    await tx`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`;
    open = true;
    // A consumer may pause between pages (a slow pipe); a read-only snapshot blocks no writer.
    await tx`SET LOCAL idle_in_transaction_session_timeout = 0`;
    for await (const rows of tx<DocumentRow[]>`
      SELECT collection, key, value::text AS json, version, created_at AS "createdAt",
             updated_at AS "updatedAt", expires_at AS "expiresAt"
      FROM ${tables.documents}
      WHERE expires_at IS NULL OR expires_at > ${now}
      ORDER BY collection, key`.cursor(EXPORT_PAGE_ROWS)) {
      yield rows.map((row) => ({ kind: 'document', ...row }));
    }
    let stream: string | undefined;
    for await (const rows of tx<StreamEventRow[]>`
      SELECT s.name, s.head, s.expires_at AS "expiresAt", e.seq, e.type, e.data::text AS json, e.at
      FROM ${tables.streams} s
      LEFT JOIN ${tables.events} e ON e.stream_id = s.id
      WHERE s.expires_at IS NULL OR s.expires_at > ${now}
      ORDER BY s.name, e.seq`.cursor(EXPORT_PAGE_ROWS)) {
      const page: RecordDump[] = [];
      for (const row of rows) {
        if (row.name !== stream) {
          stream = row.name;
          page.push({ kind: 'stream', stream: row.name, head: row.head, expiresAt: row.expiresAt });
        }
        if (row.seq !== null) {
          page.push({
            kind: 'event',
            stream: row.name,
            seq: row.seq,
            type: row.type as string,
            json: row.json as string,
            at: row.at as number,
          });
        }
      }
      yield page;
    }
    let board: string | undefined;
    for await (const rows of tx<BoardEntryRow[]>`
      SELECT b.name, b.sort_order AS "order", e.member, e.score, e.reached_at AS "reachedAt",
             e.metadata::text AS "metadataJson"
      FROM ${tables.boards} b
      LEFT JOIN ${tables.entries} e ON e.board_id = b.id
      ORDER BY b.name, e.sort_key`.cursor(EXPORT_PAGE_ROWS)) {
      const page: RecordDump[] = [];
      for (const row of rows) {
        if (row.name !== board) {
          board = row.name;
          page.push({ kind: 'board', board: row.name, order: row.order });
        }
        if (row.member !== null) {
          page.push({
            kind: 'member',
            board: row.name,
            member: row.member,
            score: row.score as number,
            reachedAt: row.reachedAt as number,
            metadataJson: row.metadataJson,
          });
        }
      }
      yield page;
    }
    await tx`COMMIT`;
    open = false;
  } catch (error) {
    if (isConnectionLost(error)) reusable = false;
    throw translatePostgresError(error, 'exporting records');
  } finally {
    // Also reached when the consumer stops early: end the snapshot before the connection goes back.
    if (open && reusable) {
      await tx`ROLLBACK`.catch(() => {
        reusable = false;
      });
    }
    if (reusable) (tx as unknown as { release(): void }).release();
  }
}

/** Rank blocks of the PostgreSQL shape (see `board-blocks.ts`), boards named by their name. */
const BLOCK_SIZES = { blockSize: BLOCK_SIZE, mergeBelow: MIN_BLOCK };

type BlockBuilder = RankBlockBuilder<string>;

/** Records buffered for the next flush, as the columns of its `unnest` statements. */
class ImportBuffer {
  documents: Array<Extract<RecordDump, { kind: 'document' }>> = [];
  streams: Array<Extract<RecordDump, { kind: 'stream' }>> = [];
  events: Array<Extract<RecordDump, { kind: 'event' }>> = [];
  boards: Array<Extract<RecordDump, { kind: 'board' }>> = [];
  members: Array<{ readonly record: Extract<RecordDump, { kind: 'member' }>; readonly sortKey: Buffer }> = [];
  finishedBoards: BlockBuilder[] = [];
  records = 0;
  bytes = 0;

  get full(): boolean {
    return this.records >= FLUSH_RECORDS || this.bytes >= FLUSH_BYTES;
  }

  statements(tx: Sql, tables: Tables): Array<PromiseLike<unknown> & { execute(): unknown }> {
    const statements: Array<PromiseLike<unknown> & { execute(): unknown }> = [];
    const { documents, streams, events, boards, members, finishedBoards } = this;
    if (documents.length > 0) {
      statements.push(tx`
        INSERT INTO ${tables.documents} (collection, key, value, version, created_at, updated_at, expires_at)
        SELECT u.collection, u.key, u.value::json, u.version, u.created_at, u.updated_at, u.expires_at
        FROM unnest(
          ${documents.map((r) => r.collection)}::text[],
          ${documents.map((r) => r.key)}::text[],
          ${documents.map((r) => r.json)}::text[],
          ${documents.map((r) => r.version)}::int8[],
          ${documents.map((r) => r.createdAt)}::float8[],
          ${documents.map((r) => r.updatedAt)}::float8[],
          ${documents.map((r) => r.expiresAt)}::float8[]
        ) AS u(collection, key, value, version, created_at, updated_at, expires_at)`);
    }
    if (streams.length > 0) {
      statements.push(tx`
        INSERT INTO ${tables.streams} (name, head, expires_at)
        SELECT * FROM unnest(
          ${streams.map((s) => s.stream)}::text[],
          ${streams.map((s) => s.head)}::int8[],
          ${streams.map((s) => s.expiresAt)}::float8[]
        )`);
    }
    if (events.length > 0) {
      statements.push(tx`
        INSERT INTO ${tables.events} (stream_id, seq, type, data, at)
        SELECT s.id, u.seq, u.type, u.data::json, u.at
        FROM unnest(
          ${events.map((e) => e.stream)}::text[],
          ${events.map((e) => e.seq)}::int8[],
          ${events.map((e) => e.type)}::text[],
          ${events.map((e) => e.json)}::text[],
          ${events.map((e) => e.at)}::float8[]
        ) AS u(stream, seq, type, data, at)
        JOIN ${tables.streams} s ON s.name = u.stream`);
    }
    if (boards.length > 0) {
      statements.push(tx`
        INSERT INTO ${tables.boards} (name, sort_order, member_count)
        SELECT name, sort_order, 0 FROM unnest(
          ${boards.map((b) => b.board)}::text[],
          ${boards.map((b) => b.order)}::text[]
        ) AS u(name, sort_order)`);
    }
    if (members.length > 0) {
      statements.push(tx`
        INSERT INTO ${tables.entries} (board_id, member, score, reached_at, metadata, sort_key)
        SELECT b.id, u.member, u.score, u.reached_at, u.metadata::json, u.sort_key
        FROM unnest(
          ${members.map((m) => m.record.board)}::text[],
          ${members.map((m) => m.record.member)}::text[],
          ${members.map((m) => m.record.score)}::float8[],
          ${members.map((m) => m.record.reachedAt)}::float8[],
          ${members.map((m) => m.record.metadataJson)}::text[],
          ${tx.array(
            members.map((m) => m.sortKey),
            BYTEA_OID,
          )}::bytea[]
        ) AS u(board, member, score, reached_at, metadata, sort_key)
        JOIN ${tables.boards} b ON b.name = u.board`);
    }
    if (finishedBoards.length > 0) {
      statements.push(tx`
        UPDATE ${tables.boards} b SET member_count = u.member_count
        FROM unnest(
          ${finishedBoards.map((f) => f.board)}::text[],
          ${finishedBoards.map((f) => f.count)}::int8[]
        ) AS u(name, member_count)
        WHERE b.name = u.name`);
      const blocks = finishedBoards.flatMap((f) => f.blocks().map((block) => ({ board: f.board, ...block })));
      statements.push(tx`
        INSERT INTO ${tables.blocks} (board_id, lo, member_count)
        SELECT b.id, u.lo, u.member_count
        FROM unnest(
          ${blocks.map((block) => block.board)}::text[],
          ${tx.array(
            blocks.map((block) => block.lo),
            BYTEA_OID,
          )}::bytea[],
          ${blocks.map((block) => block.count)}::int4[]
        ) AS u(name, lo, member_count)
        JOIN ${tables.boards} b ON b.name = u.name`);
    }
    return statements;
  }
}

export interface ImportContext {
  readonly sql: Sql;
  readonly tables: Tables;
  /** A NOTIFY that tells other instances to drop everything (sent in the import's transaction), if any. */
  readonly notification: { readonly channel: string; readonly payload: string } | undefined;
}

/** BEGIN and lock the tables; retried when a running batch and the lock deadlock (nothing read yet). */
async function beginLocked(tx: Sql, tables: Tables): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await tx`BEGIN`;
      // The pages may come from a slow source; a frozen importer still cannot hold the locks forever.
      await tx`SET LOCAL idle_in_transaction_session_timeout = '10min'`;
      // EXCLUSIVE: writers (batches, sweeps) wait until COMMIT; readers see the old contents until then.
      await tx`
        LOCK TABLE ${tables.documents}, ${tables.streams}, ${tables.events},
                   ${tables.boards}, ${tables.entries}, ${tables.blocks}
        IN EXCLUSIVE MODE`;
      return;
    } catch (error) {
      if (isConnectionLost(error)) throw error;
      await tx`ROLLBACK`.catch(() => undefined);
      if (!isRetryable(error) || attempt >= LOCK_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

/** One import's writes on its reserved connection `tx`, for `importDump` (see the module comment). */
class PostgresImport implements ImportTarget {
  readonly #tx: Sql;
  readonly #context: ImportContext;
  readonly #now: number;
  #buffer = new ImportBuffer();
  #board: BlockBuilder | undefined;
  /** One flush runs on the server while the next is gathered: parsing and writing overlap. */
  #inFlight: Promise<void> | undefined;
  /** True between BEGIN and COMMIT: the connection must be rolled back before it goes back. */
  open = false;
  /** False once the connection is lost: it must not be used, or released, again. */
  reusable = true;

  constructor(tx: Sql, context: ImportContext, now: number) {
    this.#tx = tx;
    this.#context = context;
    this.#now = now;
  }

  async begin(): Promise<void> {
    await beginLocked(this.#tx, this.#context.tables);
    this.open = true;
  }

  async count(): Promise<ImportCounts> {
    const [live] = await countQuery(this.#tx, this.#context.tables, this.#now);
    if (live === undefined) throw new SavepointError('INTERNAL', 'PostgreSQL returned no counts');
    return { ...live };
  }

  async readStream(name: string): Promise<KeptStream | undefined> {
    const { streams, events } = this.#context.tables;
    const rows = await this.#tx<Array<Omit<StreamEventRow, 'name' | 'head'>>>`
      SELECT s.expires_at AS "expiresAt", e.seq, e.type, e.data::text AS json, e.at
      FROM ${streams} s
      LEFT JOIN ${events} e ON e.stream_id = s.id
      WHERE s.name = ${name} AND (s.expires_at IS NULL OR s.expires_at > ${this.#now})
      ORDER BY e.seq`;
    const first = rows[0];
    if (first === undefined) return undefined;
    return {
      stream: name,
      expiresAt: first.expiresAt,
      // A stream without events is one row with a NULL seq (the LEFT JOIN).
      events: rows.flatMap((row) =>
        row.seq === null
          ? []
          : [{ seq: row.seq, type: row.type as string, json: row.json as string, at: row.at as number }],
      ),
    };
  }

  async clear(): Promise<void> {
    const tx = this.#tx;
    const { tables } = this.#context;
    await tx`DELETE FROM ${tables.blocks}`;
    await tx`DELETE FROM ${tables.entries}`;
    await tx`DELETE FROM ${tables.boards}`;
    await tx`DELETE FROM ${tables.events}`;
    await tx`DELETE FROM ${tables.streams}`;
    await tx`DELETE FROM ${tables.documents}`;
  }

  write(record: RecordDump): Promise<void> | undefined {
    const buffer = this.#buffer;
    buffer.records++;
    switch (record.kind) {
      case 'document':
        buffer.documents.push(record);
        buffer.bytes += record.json.length + record.key.length;
        break;
      case 'stream':
        buffer.streams.push(record);
        break;
      case 'event':
        buffer.events.push(record);
        buffer.bytes += record.json.length + record.type.length;
        break;
      case 'board':
        if (this.#board !== undefined) buffer.finishedBoards.push(this.#board);
        this.#board = new RankBlockBuilder(record.board, record.order, BLOCK_SIZES);
        buffer.boards.push(record);
        break;
      case 'member': {
        const sortKey = (this.#board as BlockBuilder).add(record.member, record.score, record.reachedAt);
        buffer.members.push({ record, sortKey });
        buffer.bytes += (record.metadataJson?.length ?? 0) + sortKey.length;
        break;
      }
    }
    return buffer.full ? this.#send() : undefined;
  }

  async commit(): Promise<void> {
    if (this.#board !== undefined) this.#buffer.finishedBoards.push(this.#board);
    this.#board = undefined;
    await this.#send();
    await this.#inFlight;
    const { notification } = this.#context;
    if (notification !== undefined) {
      await this.#tx`SELECT pg_notify(${notification.channel}, ${notification.payload})`;
    }
    await this.#tx`COMMIT`;
    this.open = false;
  }

  isDuplicate(error: unknown): boolean {
    return (error as { code?: unknown }).code === '23505';
  }

  translate(error: unknown): SavepointError {
    if (isConnectionLost(error)) this.reusable = false;
    return translatePostgresError(error, 'importing records');
  }

  /** Waits for the flush on the server, if any, so that ROLLBACK follows it rather than races it. */
  async settle(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
  }

  async #send(): Promise<void> {
    const buffer = this.#buffer;
    this.#buffer = new ImportBuffer();
    if (this.#inFlight !== undefined) await this.#inFlight;
    const flushing = flush(this.#tx, this.#context.tables, buffer);
    this.#inFlight = flushing;
    // Awaited by the next send or at the end; this only keeps a failure from going unhandled meanwhile.
    flushing.catch(() => undefined);
  }
}

async function flush(tx: Sql, tables: Tables, buffer: ImportBuffer): Promise<void> {
  const statements = buffer.statements(tx, tables);
  for (const statement of statements) statement.execute();
  await Promise.all(statements);
}

/** See the module comment. */
export async function importRecords(
  context: ImportContext,
  pages: AsyncIterable<readonly RecordDump[]>,
  now: number,
  options: ImportOptions,
): Promise<ImportCounts> {
  let tx: Sql;
  try {
    tx = (await context.sql.reserve()) as unknown as Sql;
  } catch (error) {
    throw translatePostgresError(error, 'starting an import');
  }
  const target = new PostgresImport(tx, context, now);
  try {
    return await importDump(target, pages, options);
  } finally {
    await target.settle();
    if (target.open && target.reusable) {
      await tx`ROLLBACK`.catch(() => {
        target.reusable = false;
      });
    }
    // A lost connection is already back in the pool's closed list; releasing it would reopen it.
    if (target.reusable) (tx as unknown as { release(): void }).release();
  }
}
