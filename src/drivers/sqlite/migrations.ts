/**
 * The SQLite schema as numbered, forward-only migrations. Each runs once, in order,
 * inside the same write transaction that records it in `savepoint_migrations`, so a crash midway
 * leaves the database at the previous version. Released migrations are never edited: a schema
 * change is a new entry at the end of {@link migrations}.
 */
import type Database from 'better-sqlite3';
import { SavepointError } from '../../errors.js';

export interface Migration {
  /** 1, 2, 3, ... without gaps. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every schema version this code knows, oldest first. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'documents and streams',
    sql: `
      -- A rowid table, not WITHOUT ROWID: values run to kilobytes, and a table B-tree keeps up to
      -- ~4 KB of a row on its page while the (collection, key) index stays small. For 600-byte
      -- values this measured 14-15 us per upsert against 17-18 us WITHOUT ROWID.
      CREATE TABLE documents (
        collection TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (collection, key)
      );
      CREATE INDEX documents_by_expiry ON documents (expires_at) WHERE expires_at IS NOT NULL;

      -- Events are keyed by a small integer id, not by the stream's name, to keep keys short.
      CREATE TABLE streams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        head INTEGER NOT NULL,
        expires_at INTEGER
      );
      CREATE INDEX streams_by_expiry ON streams (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE events (
        stream_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (stream_id, seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'boards with block counts',
    sql: `
      CREATE TABLE boards (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        sort_order TEXT NOT NULL CHECK (sort_order IN ('asc', 'desc')),
        member_count INTEGER NOT NULL
      );
      -- sort_key is boardSortKey(): its byte order is the rank order, ties included.
      CREATE TABLE board_entries (
        board_id INTEGER NOT NULL,
        member TEXT NOT NULL,
        score REAL NOT NULL,
        reached_at INTEGER NOT NULL,
        metadata TEXT,
        sort_key BLOB NOT NULL,
        PRIMARY KEY (board_id, member)
      ) WITHOUT ROWID;
      CREATE INDEX board_entries_by_rank ON board_entries (board_id, sort_key);
      -- A rank is a count of the keys below one key. Counting index entries costs O(rank), so the
      -- key space is cut into blocks [lo, next lo) that keep their own count (see board-blocks.ts).
      CREATE TABLE board_blocks (
        board_id INTEGER NOT NULL,
        lo BLOB NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (board_id, lo)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'stream append buffer',
    sql: `
      -- New events land here in arrival order, and settle into events in bulk (stream-table.ts).
      -- A group commit that appends to a hundred streams then dirties a few pages here plus a small
      -- index, instead of the tail page of each stream in events: measured 27 WAL frames per
      -- 100-event batch instead of 150, and each frame is a write() of a full page.
      CREATE TABLE recent_events (
        stream_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX recent_events_by_stream ON recent_events (stream_id, seq);
    `,
  },
  {
    version: 4,
    name: 'stream append buffer chained by stream',
    sql: `
      -- The buffer's index took its entries in random order: a 100-event group commit dirtied up to
      -- ~90 of its pages, against 10-12 for everything else it writes. Each buffered event now links
      -- to its stream's previous one and the stream's row to its newest (stream-table.ts). What the
      -- old buffer holds is settled first, so the new one starts empty and every link is exact.
      INSERT INTO events SELECT stream_id, seq, type, data, at FROM recent_events ORDER BY stream_id, seq;
      DROP TABLE recent_events;
      CREATE TABLE recent_events (
        id INTEGER PRIMARY KEY,
        stream_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        prev INTEGER,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      ALTER TABLE streams ADD COLUMN recent_last INTEGER;
      ALTER TABLE streams ADD COLUMN recent_from INTEGER;
    `,
  },
];

/** The newest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = migrations.length;

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS savepoint_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`;

/** The database's schema version, 0 for a fresh file. Reads the schema catalogue and one index entry. */
export function schemaVersion(db: Database.Database): number {
  const tracked = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'savepoint_migrations'")
    .get();
  if (tracked === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS version FROM savepoint_migrations').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

function refuseNewer(db: Database.Database, version: number): void {
  if (version > LATEST_SCHEMA_VERSION) {
    throw new SavepointError(
      'STORAGE_UNAVAILABLE',
      `The SQLite database ${db.name} has schema version ${version}, but this version of Savepoint only ` +
        `knows versions up to ${LATEST_SCHEMA_VERSION}. Upgrade Savepoint, or restore a backup made by ` +
        'this version.',
      { details: { schemaVersion: version, knownVersion: LATEST_SCHEMA_VERSION } },
    );
  }
}

export interface MigrateOptions {
  /** Stop after this version (default: the latest); tests use it to build an older database. */
  readonly upTo?: number;
  /** Time recorded as `applied_at`; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Brings `db` to schema version `upTo` (default latest) and returns the version it ends at. A
 * database already there is only read, so opening takes no write lock. A database newer than this
 * code is refused with `STORAGE_UNAVAILABLE`, before anything is written.
 */
export function migrate(db: Database.Database, options: MigrateOptions = {}): number {
  const target = options.upTo ?? LATEST_SCHEMA_VERSION;
  if (!Number.isSafeInteger(target) || target < 0 || target > LATEST_SCHEMA_VERSION) {
    throw new RangeError(`upTo must be an integer from 0 to ${LATEST_SCHEMA_VERSION}`);
  }
  const before = schemaVersion(db);
  refuseNewer(db, before);
  if (before >= target) return before;
  const now = options.now ?? Date.now;
  const upgrade = db.transaction((): number => {
    db.exec(CREATE_MIGRATIONS_TABLE);
    // Read again under the write lock: another process may have migrated since the first look.
    const current = schemaVersion(db);
    refuseNewer(db, current);
    const record = db.prepare(
      'INSERT INTO savepoint_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const migration of migrations) {
      if (migration.version <= current || migration.version > target) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, now());
    }
    return Math.max(current, target);
  });
  return upgrade.immediate();
}
