/**
 * The PostgreSQL driver (postgres.js): the source of truth when several Savepoint instances share
 * one database. Only `src/open.ts` imports it, lazily, so a SQLite-only user never loads the client.
 *
 * - A pool; one transaction per batch (group commit). The batch locks the rows it touches, plans
 *   every commit in memory (a failing commit leaves no trace, its neighbours apply), then writes
 *   with set-based statements: see `batch-plan.ts` for why this replaces a SAVEPOINT per commit.
 *   Two round trips per batch; one for a batch of unconditional puts (`blind-puts.ts`), and one for
 *   a batch whose rows this instance has seen last (`guessed-batch.ts`, `row-images.ts`): a game
 *   action on a game this instance serves.
 * - Deadlocks, serialization failures and first-insert races retry the whole batch, with jitter.
 * - Every batch NOTIFYs its changes, so other instances' `onExternalChange` listeners hear them.
 * - Migrations run at open under an advisory lock (`migrations.ts`).
 * - From open to close the driver holds the schema's store lock (`store-lock.ts`), so that a
 *   replacing import elsewhere refuses while this instance is connected.
 */
import { randomUUID } from 'node:crypto';
import type {
  Driver,
  DriverCapabilities,
  ExternalChangeListener,
  ImportCounts,
  ImportOptions,
  PreparedCommit,
  RecordDump,
} from '../../engine/driver.js';
import { parseStoredJson } from '../../engine/json.js';
import type {
  BoardEntry,
  BoardInfo,
  BoardOrder,
  CommitResult,
  DocumentPage,
  StoredDocument,
  StreamEvent,
  SweepResult,
} from '../../engine/types.js';
import { SavepointError } from '../../errors.js';
import { loadBatchState, targetsOf } from './batch-load.js';
import { planBatch } from './batch-plan.js';
import type { BatchImages, BatchTargets, ChangeRef } from './batch-types.js';
import { writeAndCommit } from './batch-write.js';
import { applyBlindPuts, blindChanges, blindPutsOf } from './blind-puts.js';
import { readBoardMember, readBoardRange } from './board-reads.js';
import { channelFor, ExternalChangeFeed, encodeChanges } from './change-notifier.js';
import * as dump from './dump.js';
import { checkStatements, guessBatch, singleStatement } from './guessed-batch.js';
import { migrate, ROWS_CHANGED_STATE } from './migrations.js';
import { createClient, type Sql, type Tables, tablesOf } from './postgres-client.js';
import {
  isConnectionLost,
  isDataError,
  isRetryable,
  sqlStateOf,
  translatePostgresError,
} from './postgres-errors.js';
import { type PostgresDriverOptions, resolvePostgresOptions } from './postgres-options.js';
import { prefixUpperBound } from './prefix-range.js';
import { RowImages } from './row-images.js';
import { PostgresStoreLock } from './store-lock.js';

export type { PostgresDriverOptions } from './postgres-options.js';

/** How long opening waits for a replacing import on the schema to finish. */
const LOCK_WAIT_MS = 5000;

/** Most attempts at one batch when PostgreSQL aborts it for a deadlock, serialization failure or insert race. */
const MAX_BATCH_ATTEMPTS = 6;

interface DocumentRow {
  readonly key: string;
  readonly json: string;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
}

interface EventRow {
  readonly seq: number;
  readonly type: string;
  readonly json: string;
  readonly at: number;
}

interface BoardRow {
  readonly board: string;
  readonly order: BoardOrder;
  readonly count: number;
}

interface CountRow {
  readonly count: number;
}

interface CollectionCountRow {
  readonly collection: string;
  readonly count: number;
}

/** A read row as a hint for the next batch on it (`row-images.ts`). */
function imageOf(collection: string, row: DocumentRow) {
  return {
    collection,
    key: row.key,
    json: row.json,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    expiresAt: row.expiresAt,
  };
}

function toDocument(collection: string, row: DocumentRow): StoredDocument {
  return {
    collection,
    key: row.key,
    value: parseStoredJson(row.json, `${collection}/${row.key}`),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    expiresAt: row.expiresAt,
  };
}

/** Full jitter on an exponentially growing bound (2, 4, 8 ... at most 100 ms). */
function backoff(attempt: number): Promise<void> {
  const bound = Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * bound));
}

class PostgresDriver implements Driver {
  readonly name = 'postgres';
  readonly capabilities: DriverCapabilities = {
    persistent: true,
    sharedAcrossProcesses: true,
    // Batches on different rows run in parallel; batches on the same rows queue on row locks.
    maxConcurrentBatches: 4,
  };
  readonly #sql: Sql;
  readonly #tables: Tables;
  readonly #channel: string;
  readonly #notify: boolean;
  readonly #instanceId = randomUUID();
  readonly #feed: ExternalChangeFeed;
  readonly #lock: PostgresStoreLock;
  /** The rows this instance saw last, so that a batch on them can go in one round trip. */
  readonly #images = new RowImages();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(sql: Sql, tables: Tables, schema: string, notify: boolean, lock: PostgresStoreLock) {
    this.#sql = sql;
    this.#lock = lock;
    this.#tables = tables;
    this.#channel = channelFor(schema);
    this.#notify = notify;
    this.#feed = new ExternalChangeFeed(sql, this.#channel, this.#instanceId, this, (changes) => {
      if (changes === undefined) this.#images.clear();
      else this.#images.forgetChanged(changes);
    });
  }

  /** Runs a read, translating client errors; refuses once closed. */
  async #read<T>(action: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new SavepointError('STORAGE_UNAVAILABLE', 'The PostgreSQL driver is closed');
    try {
      return await run();
    } catch (error) {
      throw translatePostgresError(error, action);
    }
  }

  // ---- documents ----

  getDocument(collection: string, key: string, now: number): Promise<StoredDocument | undefined> {
    return this.#read(`reading ${collection}/${key}`, async () => {
      const [row] = await this.#sql<DocumentRow[]>`
        SELECT key, value::text AS json, version, created_at AS "createdAt",
               updated_at AS "updatedAt", expires_at AS "expiresAt"
        FROM ${this.#tables.documents}
        WHERE collection = ${collection} AND key = ${key} AND (expires_at IS NULL OR expires_at > ${now})`;
      if (row === undefined) return undefined;
      this.#images.rememberDocument(collection, key, imageOf(collection, row));
      return toDocument(collection, row);
    });
  }

  getDocuments(collection: string, keys: readonly string[], now: number): Promise<StoredDocument[]> {
    return this.#read(`reading ${keys.length} documents of ${collection}`, async () => {
      const unique = [...new Set(keys)];
      if (unique.length === 0) return [];
      const rows = await this.#sql<DocumentRow[]>`
        SELECT key, value::text AS json, version, created_at AS "createdAt",
               updated_at AS "updatedAt", expires_at AS "expiresAt"
        FROM ${this.#tables.documents}
        WHERE collection = ${collection} AND key = ANY(${unique}::text[])
          AND (expires_at IS NULL OR expires_at > ${now})`;
      const byKey = new Map(rows.map((row) => [row.key, row]));
      const found: StoredDocument[] = [];
      for (const key of unique) {
        const row = byKey.get(key);
        if (row === undefined) continue;
        this.#images.rememberDocument(collection, key, imageOf(collection, row));
        found.push(toDocument(collection, row));
      }
      return found;
    });
  }

  listDocuments(
    collection: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
    now: number,
  ): Promise<DocumentPage> {
    return this.#read(`listing ${collection}`, async () => {
      const sql = this.#sql;
      const upper = options.prefix === '' ? null : prefixUpperBound(options.prefix);
      // Each combination of bounds is its own prepared statement, so each keeps an index range plan.
      const rows = await sql<DocumentRow[]>`
        SELECT key, value::text AS json, version, created_at AS "createdAt",
               updated_at AS "updatedAt", expires_at AS "expiresAt"
        FROM ${this.#tables.documents}
        WHERE collection = ${collection}
          ${options.prefix === '' ? sql`` : sql`AND key >= ${options.prefix}`}
          ${upper === null ? sql`` : sql`AND key < ${upper}`}
          ${options.after === null ? sql`` : sql`AND key > ${options.after}`}
          AND (expires_at IS NULL OR expires_at > ${now})
        ORDER BY key
        LIMIT ${options.limit + 1}`;
      const page = rows.slice(0, options.limit).map((row) => toDocument(collection, row));
      return {
        items: page,
        nextCursor: rows.length > options.limit ? (page.at(-1)?.key ?? null) : null,
      };
    });
  }

  // ---- streams ----

  readStream(stream: string, after: number, limit: number, now: number): Promise<StreamEvent[]> {
    return this.#read(`reading stream ${stream}`, async () => {
      const rows = await this.#sql<EventRow[]>`
        SELECT e.seq, e.type, e.data::text AS json, e.at
        FROM ${this.#tables.streams} s
        JOIN ${this.#tables.events} e ON e.stream_id = s.id
        WHERE s.name = ${stream} AND (s.expires_at IS NULL OR s.expires_at > ${now}) AND e.seq > ${after}
        ORDER BY e.seq
        LIMIT ${limit}`;
      return rows.map((row) => ({
        seq: row.seq,
        type: row.type,
        data: parseStoredJson(row.json, `event ${row.seq} of ${stream}`),
        at: row.at,
      }));
    });
  }

  streamHead(stream: string, now: number): Promise<number> {
    return this.#read(`reading stream ${stream}`, async () => {
      const [row] = await this.#sql<Array<{ readonly head: number }>>`
        SELECT head FROM ${this.#tables.streams}
        WHERE name = ${stream} AND (expires_at IS NULL OR expires_at > ${now})`;
      return row?.head ?? 0;
    });
  }

  // ---- boards ----

  boardInfo(board: string): Promise<BoardInfo | undefined> {
    return this.#read(`reading board ${board}`, async () => {
      const [row] = await this.#sql<BoardRow[]>`
        SELECT name AS board, sort_order AS "order", member_count AS count
        FROM ${this.#tables.boards} WHERE name = ${board}`;
      return row === undefined ? undefined : { board: row.board, order: row.order, count: row.count };
    });
  }

  boardRange(board: string, offset: number, limit: number): Promise<BoardEntry[]> {
    return this.#read(`reading board ${board}`, () =>
      readBoardRange(this.#sql, this.#tables, board, offset, limit),
    );
  }

  boardMember(board: string, member: string): Promise<BoardEntry | undefined> {
    return this.#read(`reading ${member} on board ${board}`, () =>
      readBoardMember(this.#sql, this.#tables, board, member),
    );
  }

  listBoards(prefix: string): Promise<BoardInfo[]> {
    return this.#read('listing boards', async () => {
      const sql = this.#sql;
      const upper = prefix === '' ? null : prefixUpperBound(prefix);
      const rows = await sql<BoardRow[]>`
        SELECT name AS board, sort_order AS "order", member_count AS count
        FROM ${this.#tables.boards}
        WHERE true
          ${prefix === '' ? sql`` : sql`AND name >= ${prefix}`}
          ${upper === null ? sql`` : sql`AND name < ${upper}`}
        ORDER BY name`;
      return rows.map((row) => ({ board: row.board, order: row.order, count: row.count }));
    });
  }

  // ---- writes ----

  async applyBatch(batch: readonly PreparedCommit[]): Promise<Array<CommitResult | SavepointError>> {
    if (this.#closed) {
      const closed = new SavepointError('STORAGE_UNAVAILABLE', 'The PostgreSQL driver is closed');
      return batch.map(() => closed);
    }
    // Batches of unconditional puts need nothing loaded (see blind-puts.ts); the rest are planned.
    const blindPuts = blindPutsOf(batch);
    const targets = blindPuts === undefined ? targetsOf(batch) : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        if (blindPuts !== undefined) {
          const notification = this.#notification(batch, blindChanges(blindPuts));
          const outcomes = await applyBlindPuts(this.#sql, this.#tables, batch, notification);
          this.#rememberPuts(batch, outcomes);
          return outcomes;
        }
        return await this.#commitBatch(batch, targets as BatchTargets);
      } catch (error) {
        // Whatever happened, what this instance knew of these rows may be wrong now.
        this.#forget(batch);
        if (isRetryable(error) && attempt < MAX_BATCH_ATTEMPTS && !this.#closed) {
          await backoff(attempt);
          continue;
        }
        // PostgreSQL refused some value: apply the commits one by one so only the culprit fails.
        if (isDataError(error) && batch.length > 1) return this.#applyEach(batch);
        const failure = translatePostgresError(error, `committing a batch of ${batch.length}`);
        return batch.map(() => failure);
      }
    }
  }

  /**
   * Runs `work` on a reserved connection; `work` sends BEGIN and COMMIT itself, pipelined with its
   * statements, so a batch costs two round trips (`sql.begin` would add one for each).
   */
  async #inTransaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const tx = await this.#sql.reserve();
    let reusable = true;
    try {
      return await work(tx);
    } catch (error) {
      if (isConnectionLost(error)) reusable = false;
      else {
        // Harmless when a pipelined COMMIT already ended the failed transaction (a WARNING only).
        await tx`ROLLBACK`.catch(() => {
          reusable = false;
        });
      }
      throw error;
    } finally {
      // A lost connection is already back in the pool's closed list; releasing it would reopen it.
      if (reusable) tx.release();
    }
  }

  /**
   * One round trip when every row has an image and none changed since (one statement, or one
   * pipelined transaction when the batch empties streams); else the usual two.
   */
  async #commitBatch(
    batch: readonly PreparedCommit[],
    targets: BatchTargets,
  ): Promise<Array<CommitResult | SavepointError>> {
    const guess = guessBatch(targets, this.#images);
    if (guess !== undefined) {
      const plan = planBatch(batch, targets, guess.state);
      const notification = this.#notification(batch, plan.changes);
      const single = singleStatement(this.#sql, this.#tables, guess, plan, notification);
      if (single !== undefined) {
        if (await this.#unlessRowsChanged(batch, single)) {
          this.#remember(plan.images);
          return plan.outcomes;
        }
      } else {
        return this.#inTransaction(async (tx) => {
          const leading = [tx`BEGIN`, ...checkStatements(tx, this.#tables, guess)];
          // A pipelined COMMIT ends the transaction, rolled back when a check raised; what runs
          // next on `tx` (the usual path) queues behind it.
          if (
            await this.#unlessRowsChanged(
              batch,
              writeAndCommit(tx, this.#tables, plan, notification, leading),
            )
          ) {
            this.#remember(plan.images);
            return plan.outcomes;
          }
          return this.#planAndWrite(tx, batch, targets);
        });
      }
    }
    return this.#inTransaction((tx) => this.#planAndWrite(tx, batch, targets));
  }

  /** Awaits a guessed batch: false, with the images forgotten, when its check found the rows changed. */
  async #unlessRowsChanged(
    batch: readonly PreparedCommit[],
    written: PromiseLike<unknown>,
  ): Promise<boolean> {
    try {
      await written;
      return true;
    } catch (error) {
      if (sqlStateOf(error) !== ROWS_CHANGED_STATE) throw error;
      this.#forget(batch);
      return false;
    }
  }

  /** Round trip 1: BEGIN and the locking loads. Round trip 2: the writes, NOTIFY and COMMIT. */
  async #planAndWrite(
    tx: Sql,
    batch: readonly PreparedCommit[],
    targets: BatchTargets,
  ): Promise<Array<CommitResult | SavepointError>> {
    const begin = tx`BEGIN`.execute();
    const [, loaded] = await Promise.all([begin, loadBatchState(tx, this.#tables, targets)]);
    const plan = planBatch(batch, targets, loaded);
    await writeAndCommit(tx, this.#tables, plan, this.#notification(batch, plan.changes));
    this.#remember(plan.images);
    return plan.outcomes;
  }

  #remember(images: BatchImages): void {
    for (const { collection, key, image } of images.documents)
      this.#images.rememberDocument(collection, key, image);
    for (const { name, image } of images.streams) this.#images.rememberStream(name, image);
  }

  /** Unconditional puts: each key's image is the value put, at the version the upsert returned. */
  #rememberPuts(batch: readonly PreparedCommit[], outcomes: readonly CommitResult[]): void {
    batch.forEach((commit, i) => {
      commit.ops.forEach((op, j) => {
        const result = outcomes[i]?.results[j];
        if (op.op !== 'put' || result?.op !== 'put') return;
        const { version, createdAt, updatedAt, expiresAt } = result.document;
        this.#images.rememberDocument(op.collection, op.key, {
          collection: op.collection,
          key: op.key,
          json: op.json,
          version,
          createdAt,
          updatedAt,
          expiresAt,
        });
      });
    });
  }

  /** Forgets the images of every row the batch names. */
  #forget(batch: readonly PreparedCommit[]): void {
    for (const commit of batch) {
      for (const op of commit.ops) {
        if (op.op === 'put' || op.op === 'patch' || op.op === 'delete')
          this.#images.forgetDocument(op.collection, op.key);
        else if (op.op === 'append' || op.op === 'expireStream' || op.op === 'deleteStream')
          this.#images.forgetStream(op.stream);
      }
    }
  }

  /** The NOTIFY payloads for a batch's changes (none when notifying is off). */
  #notification(
    batch: readonly PreparedCommit[],
    changes: readonly ChangeRef[],
  ): { readonly channel: string; readonly payloads: readonly string[] } {
    const at = batch.reduce((latest, commit) => Math.max(latest, commit.at), 0);
    return {
      channel: this.#channel,
      payloads: this.#notify ? encodeChanges(this.#instanceId, at, changes) : [],
    };
  }

  async #applyEach(batch: readonly PreparedCommit[]): Promise<Array<CommitResult | SavepointError>> {
    const outcomes: Array<CommitResult | SavepointError> = [];
    for (const commit of batch) outcomes.push(...(await this.applyBatch([commit])));
    return outcomes;
  }

  sweepExpired(now: number, limit: number): Promise<SweepResult> {
    return this.#read('sweeping expired records', async () => {
      const { documents: documentTable, streams: streamTable, events } = this.#tables;
      // SKIP LOCKED: a record a batch holds is about to be rewritten (or revived); skip it, never wait.
      const removedDocuments = await this.#sql<CollectionCountRow[]>`
        WITH victims AS (
          SELECT collection, key FROM ${documentTable}
          WHERE expires_at <= ${now}
          ORDER BY expires_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ),
        gone AS (
          DELETE FROM ${documentTable} d USING victims v
          WHERE d.collection = v.collection AND d.key = v.key
          RETURNING d.collection
        )
        SELECT collection, count(*)::int AS count FROM gone GROUP BY collection`;
      const documents: Record<string, number> = {};
      let removed = 0;
      for (const row of removedDocuments) {
        documents[row.collection] = row.count;
        removed += row.count;
      }
      let streams = 0;
      if (removed < limit) {
        const [row] = await this.#sql<CountRow[]>`
          WITH victims AS (
            SELECT id FROM ${streamTable}
            WHERE expires_at <= ${now}
            ORDER BY expires_at
            LIMIT ${limit - removed}
            FOR UPDATE SKIP LOCKED
          ),
          dropped_events AS (
            DELETE FROM ${events} e USING victims v WHERE e.stream_id = v.id
          ),
          gone AS (
            DELETE FROM ${streamTable} s USING victims v WHERE s.id = v.id RETURNING 1
          )
          SELECT count(*)::int AS count FROM gone`;
        streams = row?.count ?? 0;
        removed += streams;
      }
      let more = false;
      if (removed >= limit) {
        const [row] = await this.#sql<Array<{ readonly more: boolean }>>`
          SELECT EXISTS (SELECT 1 FROM ${documentTable} WHERE expires_at <= ${now})
              OR EXISTS (SELECT 1 FROM ${streamTable} WHERE expires_at <= ${now}) AS more`;
        more = row?.more ?? false;
      }
      return { documents, streams, more };
    });
  }

  // ---- dump and load (see dump.ts) ----

  exportRecords(now: number): AsyncIterable<readonly RecordDump[]> {
    if (this.#closed) throw new SavepointError('STORAGE_UNAVAILABLE', 'The PostgreSQL driver is closed');
    return dump.exportRecords(this.#sql, this.#tables, now);
  }

  importRecords(
    pages: AsyncIterable<readonly RecordDump[]>,
    now: number,
    options: ImportOptions = {},
  ): Promise<ImportCounts> {
    if (this.#closed)
      return Promise.reject(new SavepointError('STORAGE_UNAVAILABLE', 'The PostgreSQL driver is closed'));
    // dump.importRecords translates its own errors and passes the source's through unchanged.
    const load = () =>
      dump.importRecords(
        {
          sql: this.#sql,
          tables: this.#tables,
          // Other instances cannot be told what changed: everything did.
          notification: this.#notify
            ? { channel: this.#channel, payload: JSON.stringify({ i: this.#instanceId, at: now, u: 1 }) }
            : undefined,
        },
        pages,
        now,
        options,
      );
    // Replacing the contents under another connected instance would pull its data from under it.
    const imported =
      options.replace === true ? this.#lock.exclusively("replace the store's contents", load) : load();
    // Whatever the import did, every row may differ from what this instance saw.
    this.#images.clear();
    return imported.finally(() => this.#images.clear());
  }

  countRecords(now: number): Promise<ImportCounts> {
    return this.#read('counting records', () => dump.countRecords(this.#sql, this.#tables, now));
  }

  // ---- external changes and lifecycle ----

  onExternalChange(listener: ExternalChangeListener): () => void {
    return this.#feed.subscribe(listener);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#feed.close();
      this.#images.clear();
      await this.#sql.end({ timeout: 5 });
      await this.#lock.release();
    })();
    return this.#closing;
  }
}

interface SchemaFactsRow {
  readonly encoding: string;
  readonly streams: string | null;
  readonly boards: string | null;
}

/**
 * Checks the database and returns the id sequences behind the identity columns, as `nextval`
 * takes them. Keys sort by UTF-8 bytes only in a UTF8 database, so any other encoding is refused.
 */
async function inspectSchema(sql: Sql, schema: string): Promise<Tables['sequences']> {
  const quoted = `"${schema}"`;
  const [row] = await sql<SchemaFactsRow[]>`
    SELECT current_setting('server_encoding') AS encoding,
           pg_get_serial_sequence(${`${quoted}.streams`}, 'id') AS streams,
           pg_get_serial_sequence(${`${quoted}.boards`}, 'id') AS boards`;
  if (row?.encoding !== 'UTF8') {
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `The PostgreSQL database uses encoding ${row?.encoding}; Savepoint needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8')`,
    );
  }
  if (row.streams === null || row.boards === null) {
    throw new SavepointError(
      'CORRUPT_DATA',
      `Schema "${schema}" lacks the id sequences of streams and boards`,
    );
  }
  return { streams: row.streams, boards: row.boards };
}

/**
 * Connects, creates the schema if needed and migrates it, then returns the driver. Fails with
 * `STORAGE_UNAVAILABLE` when PostgreSQL cannot be reached or the schema is newer than this build,
 * and with `INVALID_INPUT` for bad options.
 */
export async function openPostgresDriver(options: PostgresDriverOptions): Promise<Driver> {
  const resolved = resolvePostgresOptions(options);
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  let lock: PostgresStoreLock;
  try {
    lock = await PostgresStoreLock.share(resolved.connectionUrl, resolved.schema, LOCK_WAIT_MS, log);
  } catch (error) {
    throw translatePostgresError(error, `locking schema "${resolved.schema}"`);
  }
  const sql = createClient(resolved.connectionUrl, resolved.poolSize);
  try {
    await migrate(sql, resolved.schema);
    const tables = tablesOf(sql, resolved.schema, await inspectSchema(sql, resolved.schema));
    return new PostgresDriver(sql, tables, resolved.schema, resolved.notify, lock);
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => undefined);
    await lock.release().catch(() => undefined);
    throw translatePostgresError(error, `opening schema "${resolved.schema}"`);
  }
}
