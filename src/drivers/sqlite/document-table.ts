/**
 * Documents in SQLite: one row per `(collection, key)`. Expired rows stay until swept and are
 * filtered out by every read and condition.
 */
import type Database from 'better-sqlite3';
import { compareCodePoints } from '../../engine/board-sort-key.js';
import { checkDocumentCondition } from '../../engine/conditions.js';
import type {
  PreparedCommit,
  PreparedDelete,
  PreparedOp,
  PreparedPatch,
  PreparedPut,
} from '../../engine/driver.js';
import { parseStoredJson, serializeJson } from '../../engine/json.js';
import { applyPatch } from '../../engine/patch.js';
import type {
  DeleteResult,
  DocumentPage,
  DocumentWriteResult,
  JsonValue,
  StoredDocument,
} from '../../engine/types.js';
import { notFound } from '../../errors.js';
import { prefixUpperBound } from './key-range.js';

interface DocumentRow {
  readonly value: string;
  readonly version: number;
  readonly created_at: number;
  readonly updated_at: number;
  readonly expires_at: number | null;
}

interface KeyedDocumentRow extends DocumentRow {
  readonly key: string;
}

interface WrittenRow {
  readonly version: number;
  readonly created_at: number;
}

const COLUMNS = 'value, version, created_at, updated_at, expires_at';
const LIVE = '(expires_at IS NULL OR expires_at > ?)';

function listSql(lowerBound: '>=' | '>', bounded: boolean): string {
  return `SELECT key, ${COLUMNS} FROM documents
    WHERE collection = ? AND key ${lowerBound} ? ${bounded ? 'AND key < ?' : ''} AND ${LIVE}
    ORDER BY key LIMIT ?`;
}

function toDocument(collection: string, key: string, row: DocumentRow): StoredDocument {
  return {
    collection,
    key,
    value: parseStoredJson(row.value, `${collection}/${key}`),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Whether the op is applied by a single SQL statement (a put or delete without conditions), which
 * SQLite makes atomic on its own, so a commit of only this op needs no explicit transaction.
 */
export function isOneStatement(op: PreparedOp): boolean {
  return (
    (op.op === 'put' && op.expectedVersion === undefined && op.mustNotExist !== true) ||
    (op.op === 'delete' && op.expectedVersion === undefined)
  );
}

export class DocumentTable {
  readonly #selectLive: Database.Statement<[string, string, number], DocumentRow>;
  readonly #selectLiveVersion: Database.Statement<[string, string, number], number>;
  /** Creates, replaces a live row (version + 1, createdAt kept) or replaces an expired one (version 1). */
  readonly #upsert: Database.Statement<[string, string, string, number, number, number | null], WrittenRow>;
  readonly #deleteLive: Database.Statement<[string, string, number]>;
  readonly #deleteLiveVersion: Database.Statement<[string, string, number, number]>;
  /** Indexed by `(lower bound is exclusive ? 1 : 0) + (has upper bound ? 2 : 0)`. */
  readonly #list: ReadonlyArray<Database.Statement<unknown[], KeyedDocumentRow>>;
  readonly #selectExpired: Database.Statement<[number, number], { collection: string; key: string }>;
  readonly #deleteExpired: Database.Statement<[string, string, number]>;
  readonly #anyExpired: Database.Statement<[number], number>;

  constructor(db: Database.Database) {
    this.#selectLive = db.prepare(
      `SELECT ${COLUMNS} FROM documents WHERE collection = ? AND key = ? AND ${LIVE}`,
    );
    this.#selectLiveVersion = db
      .prepare<[string, string, number], number>(
        `SELECT version FROM documents WHERE collection = ? AND key = ? AND ${LIVE}`,
      )
      .pluck();
    this.#upsert = db.prepare(`
      INSERT INTO documents (collection, key, value, version, created_at, updated_at, expires_at)
      VALUES (?, ?, ?, 1, ?, ?, ?)
      ON CONFLICT (collection, key) DO UPDATE SET
        version = CASE WHEN expires_at <= excluded.updated_at THEN 1 ELSE version + 1 END,
        created_at = CASE WHEN expires_at <= excluded.updated_at THEN excluded.created_at ELSE created_at END,
        value = excluded.value,
        updated_at = excluded.updated_at,
        expires_at = excluded.expires_at
      RETURNING version, created_at`);
    this.#deleteLive = db.prepare(`DELETE FROM documents WHERE collection = ? AND key = ? AND ${LIVE}`);
    this.#deleteLiveVersion = db.prepare(
      `DELETE FROM documents WHERE collection = ? AND key = ? AND ${LIVE} AND version = ?`,
    );
    this.#list = [
      db.prepare(listSql('>=', false)),
      db.prepare(listSql('>', false)),
      db.prepare(listSql('>=', true)),
      db.prepare(listSql('>', true)),
    ];
    this.#selectExpired = db.prepare(
      'SELECT collection, key FROM documents WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
    );
    this.#deleteExpired = db.prepare(
      'DELETE FROM documents WHERE collection = ? AND key = ? AND expires_at <= ?',
    );
    this.#anyExpired = db
      .prepare<[number], number>('SELECT 1 FROM documents WHERE expires_at <= ? LIMIT 1')
      .pluck();
  }

  get(collection: string, key: string, now: number): StoredDocument | undefined {
    const row = this.#selectLive.get(collection, key, now);
    return row === undefined ? undefined : toDocument(collection, key, row);
  }

  list(
    collection: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
    now: number,
  ): DocumentPage {
    const { prefix, after, limit } = options;
    const upper = prefixUpperBound(prefix);
    const exclusive = after !== null && compareCodePoints(after, prefix) >= 0;
    const statement = this.#list[(exclusive ? 1 : 0) + (upper === null ? 0 : 2)] as Database.Statement<
      unknown[],
      KeyedDocumentRow
    >;
    const lower = exclusive ? after : prefix;
    // One row more than asked tells whether another page follows.
    const rows =
      upper === null
        ? statement.all(collection, lower, now, limit + 1)
        : statement.all(collection, lower, upper, now, limit + 1);
    const more = rows.length > limit;
    if (more) rows.length = limit;
    return {
      items: rows.map((row) => toDocument(collection, row.key, row)),
      nextCursor: more ? (rows.at(-1)?.key ?? null) : null,
    };
  }

  put(op: PreparedPut, commit: PreparedCommit, opIndex: number): DocumentWriteResult {
    if (!isOneStatement(op)) {
      checkDocumentCondition(op, this.#selectLiveVersion.get(op.collection, op.key, commit.at), opIndex);
    }
    const written = this.#upsert.get(
      op.collection,
      op.key,
      op.json,
      commit.at,
      commit.at,
      op.expiresAt,
    ) as WrittenRow;
    const json = op.json;
    let value: JsonValue | undefined;
    return {
      op: 'put',
      document: {
        collection: op.collection,
        key: op.key,
        // A fresh copy, as a read would return (and as the other drivers do): the caller may go on
        // mutating the value it passed, and the change feed hands this document to subscribers.
        // Parsed when first asked for: most writers want only the version, and a game's history
        // page is many times the size of the rest of its commit.
        get value(): JsonValue {
          value ??= parseStoredJson(json, `${op.collection}/${op.key}`);
          return value;
        },
        version: written.version,
        createdAt: written.created_at,
        updatedAt: commit.at,
        expiresAt: op.expiresAt,
      },
      created: written.version === 1,
    };
  }

  /** Reads, patches and writes back; everything that can fail happens before the write. */
  patch(op: PreparedPatch, commit: PreparedCommit, opIndex: number): DocumentWriteResult {
    const where = `${op.collection}/${op.key}`;
    const current = this.#selectLive.get(op.collection, op.key, commit.at);
    checkDocumentCondition(op, current?.version, opIndex);
    if (current === undefined && !op.upsert) {
      throw notFound(`Cannot patch ${where}: it does not exist (pass upsert to create it)`, { opIndex });
    }
    const base: JsonValue | undefined =
      current === undefined ? undefined : parseStoredJson(current.value, where);
    const value = applyPatch(base, op.patch);
    const json = serializeJson(value, commit.maxValueBytes, `value of ${where}`);
    const expiresAt = op.expiresAt === undefined ? (current?.expires_at ?? null) : op.expiresAt;
    const written = this.#upsert.get(
      op.collection,
      op.key,
      json,
      commit.at,
      commit.at,
      expiresAt,
    ) as WrittenRow;
    return {
      op: 'patch',
      document: {
        collection: op.collection,
        key: op.key,
        value,
        version: written.version,
        createdAt: written.created_at,
        updatedAt: commit.at,
        expiresAt,
      },
      created: current === undefined,
    };
  }

  delete(op: PreparedDelete, commit: PreparedCommit, opIndex: number): DeleteResult {
    if (op.expectedVersion === undefined) {
      return { op: 'delete', deleted: this.#deleteLive.run(op.collection, op.key, commit.at).changes > 0 };
    }
    if (this.#deleteLiveVersion.run(op.collection, op.key, commit.at, op.expectedVersion).changes === 0) {
      // Nothing matched, so the document is missing or at another version: this throws.
      checkDocumentCondition(op, this.#selectLiveVersion.get(op.collection, op.key, commit.at), opIndex);
    }
    return { op: 'delete', deleted: true };
  }

  /** Deletes up to `limit` expired documents, adding the counts per collection to `removed`. */
  sweep(now: number, limit: number, removed: Record<string, number>): number {
    const expired = this.#selectExpired.all(now, limit);
    for (const { collection, key } of expired) {
      this.#deleteExpired.run(collection, key, now);
      removed[collection] = (removed[collection] ?? 0) + 1;
    }
    return expired.length;
  }

  hasExpired(now: number): boolean {
    return this.#anyExpired.get(now) !== undefined;
  }
}
