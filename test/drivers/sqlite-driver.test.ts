import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BLOCK_SIZE } from '../../src/drivers/sqlite/board-blocks.js';
import { prefixUpperBound } from '../../src/drivers/sqlite/key-range.js';
import { LATEST_SCHEMA_VERSION, migrate, migrations } from '../../src/drivers/sqlite/migrations.js';
import { openSqliteDriver, type SqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { MAX_BUFFERED_PER_STREAM, SETTLE_AT } from '../../src/drivers/sqlite/stream-table.js';
import { compareBoardEntries } from '../../src/engine/board-sort-key.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Change } from '../../src/engine/driver.js';
import { Store } from '../../src/engine/store.js';
import type { BoardOrder, CommitOp } from '../../src/engine/types.js';
import { SavepointError } from '../../src/errors.js';

let directory: string;
let file: string;
const opened: Array<{ close(): Promise<void> }> = [];

beforeEach(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-'));
  file = path.join(directory, 'nested', 'store.db');
});

afterEach(async () => {
  for (const handle of opened.splice(0)) await handle.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

async function openDriver(options: { durability?: 'normal' | 'full'; busyTimeoutMs?: number } = {}) {
  const driver = await openSqliteDriver({ path: file, ...options });
  opened.push(driver);
  return driver;
}

function openStore(driver: SqliteDriver, clock = new ManualClock(Date.UTC(2026, 0, 1))): Store {
  const store = new Store(driver, { clock: clock.now });
  opened.push(store);
  return store;
}

/** A second, raw connection to the same file, for looking under the driver. */
function openRaw(): Database.Database {
  const db = new Database(file);
  opened.push({ close: async () => void db.close() });
  return db;
}

async function rejection(promise: Promise<unknown>): Promise<SavepointError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SavepointError);
  return error as SavepointError;
}

describe('opening and migrations', () => {
  it('upgrades a database made at migration 1 to the latest schema, keeping its data', async () => {
    expect(LATEST_SCHEMA_VERSION).toBeGreaterThan(1);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    expect(migrate(old, { upTo: 1 })).toBe(1);
    old
      .prepare(
        'INSERT INTO documents (collection, key, value, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run('saves', 'ada', '{"level":3}', 4, 1000, 2000);
    expect(old.prepare("SELECT name FROM sqlite_master WHERE name = 'board_blocks'").get()).toBeUndefined();
    old.close();

    const driver = await openDriver();
    expect(driver.connectionSettings().schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    const store = openStore(driver);
    expect(await store.get('saves', 'ada')).toMatchObject({
      value: { level: 3 },
      version: 4,
      createdAt: 1000,
    });
    await store.commit([{ op: 'score', board: 'global', member: 'ada', score: 10, mode: 'best' }]);
    expect(await store.boardMember('global', 'ada')).toMatchObject({ rank: 1, score: 10 });
    const recorded = openRaw()
      .prepare('SELECT version, name FROM savepoint_migrations ORDER BY version')
      .all();
    expect(recorded).toEqual(migrations.map(({ version, name }) => ({ version, name })));
  });

  it('keeps the buffered events of a database made at migration 3, in order, and appends after them', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    expect(migrate(old, { upTo: 3 })).toBe(3);
    old.prepare("INSERT INTO streams (id, name, head, expires_at) VALUES (7, 'game', 3, NULL)").run();
    old
      .prepare("INSERT INTO events (stream_id, seq, type, data, at) VALUES (7, 1, 'settled', '1', 10)")
      .run();
    const buffered = old.prepare(
      'INSERT INTO recent_events (stream_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)',
    );
    buffered.run(7, 3, 'buffered', '3', 30);
    buffered.run(7, 2, 'buffered', '2', 20);
    old.close();

    const store = openStore(await openDriver());
    await store.commit([{ op: 'append', stream: 'game', events: [{ type: 'new', data: 4 }] }]);
    expect((await store.readStream('game')).map((event) => [event.seq, event.type, event.data])).toEqual([
      [1, 'settled', 1],
      [2, 'buffered', 2],
      [3, 'buffered', 3],
      [4, 'new', 4],
    ]);
  });

  it('opens an up-to-date database without writing to it', async () => {
    await (await openDriver()).close();
    const before = fs.statSync(file).mtimeMs;
    const raw = openRaw();
    const dataVersion = raw.pragma('data_version', { simple: true });
    const driver = await openDriver();
    expect(driver.connectionSettings().schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(raw.pragma('data_version', { simple: true })).toBe(dataVersion);
    expect(fs.statSync(file).mtimeMs).toBe(before);
  });

  it('refuses a database from a newer schema, naming both versions', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const newer = new Database(file);
    migrate(newer);
    newer
      .prepare('INSERT INTO savepoint_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(LATEST_SCHEMA_VERSION + 1, 'from the future', Date.now());
    newer.close();
    const error = await rejection(openSqliteDriver({ path: file }));
    expect(error.code).toBe('STORAGE_UNAVAILABLE');
    expect(error.message).toContain(`schema version ${LATEST_SCHEMA_VERSION + 1}`);
    expect(error.message).toContain(`up to ${LATEST_SCHEMA_VERSION}`);
  });

  it('refuses a file that is not a SQLite database with CORRUPT_DATA', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      'this is not a database, just text that is long enough to have a header'.repeat(10),
    );
    const error = await rejection(openSqliteDriver({ path: file }));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.message).toContain(file);
  });

  it('applies the durability mode, WAL and the busy timeout', async () => {
    const normal = await openDriver();
    expect(normal.connectionSettings()).toMatchObject({
      journalMode: 'wal',
      synchronous: 'normal',
      busyTimeoutMs: 5000,
    });
    expect(normal.capabilities).toEqual({
      persistent: true,
      sharedAcrossProcesses: true,
      maxConcurrentBatches: 1,
    });
    const full = await openDriver({ durability: 'full', busyTimeoutMs: 1234 });
    expect(full.connectionSettings()).toMatchObject({ synchronous: 'full', busyTimeoutMs: 1234 });
    const memory = await openSqliteDriver({ path: ':memory:' });
    opened.push(memory);
    expect(memory.capabilities.persistent).toBe(false);
    expect(memory.connectionSettings().journalMode).toBe('memory');
  });

  it('keeps everything across close and reopen', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const first = openStore(await openDriver(), clock);
    await first.commit([
      { op: 'put', collection: 'saves', key: 'slot-1', value: { hp: 7, items: ['sword'] } },
      { op: 'append', stream: 'game-1', events: [{ type: 'deal', data: { cards: 2 } }, { type: 'bet' }] },
      { op: 'score', board: 'speedrun', member: 'ada', score: 61.5, mode: 'best', order: 'asc' },
      { op: 'score', board: 'speedrun', member: 'bob', score: 59, mode: 'best', metadata: { car: 'red' } },
    ]);
    await first.close();

    const second = openStore(await openDriver(), clock);
    expect(await second.get('saves', 'slot-1')).toMatchObject({
      value: { hp: 7, items: ['sword'] },
      version: 1,
    });
    expect((await second.readStream('game-1')).map((event) => [event.seq, event.type])).toEqual([
      [1, 'deal'],
      [2, 'bet'],
    ]);
    expect(await second.boardInfo('speedrun')).toEqual({ board: 'speedrun', order: 'asc', count: 2 });
    expect(await second.boardRange('speedrun')).toMatchObject([
      { rank: 1, member: 'bob', metadata: { car: 'red' } },
      { rank: 2, member: 'ada', metadata: null },
    ]);
  });

  it('fails reads and writes after close with STORAGE_UNAVAILABLE, and closes twice quietly', async () => {
    const driver = await openDriver();
    await driver.close();
    await driver.close();
    expect((await rejection(driver.getDocument('c', 'k', 0))).code).toBe('STORAGE_UNAVAILABLE');
    expect((await rejection(driver.boardRange('b', 0, 10))).code).toBe('STORAGE_UNAVAILABLE');
    expect((await rejection(driver.applyBatch([]))).code).toBe('STORAGE_UNAVAILABLE');
  });
});

describe('documents', () => {
  it('lists by prefix in code-point order, with characters LIKE and GLOB would treat specially', async () => {
    const store = openStore(await openDriver());
    const keys = [
      'a%b',
      'a_b',
      'a*b',
      'a?b',
      'a[b]',
      'A_b',
      'a',
      'a\uffff',
      'a😀',
      'a\uffffz',
      'b',
      'a\u00e9',
    ];
    await store.commit(keys.map((key): CommitOp => ({ op: 'put', collection: 'odd', key, value: key })));
    const list = async (prefix: string) =>
      (await store.list('odd', { prefix, limit: 1000 })).items.map((item) => item.key);
    expect(await list('a_')).toEqual(['a_b']);
    expect(await list('a%')).toEqual(['a%b']);
    expect(await list('a*')).toEqual(['a*b']);
    expect(await list('a[')).toEqual(['a[b]']);
    expect(await list('a\uffff')).toEqual(['a\uffff', 'a\uffffz']);
    // Code-point order puts U+FFFF before U+1F600, which UTF-16 order would not.
    expect(await list('a')).toEqual([
      'a',
      'a%b',
      'a*b',
      'a?b',
      'a[b]',
      'a_b',
      'a\u00e9',
      'a\uffff',
      'a\uffffz',
      'a😀',
    ]);
  });

  it('answers a put with a copy of the value, not the object the caller may still change', async () => {
    const store = openStore(await openDriver());
    const value = { hp: 7, items: ['sword'] };
    const result = await store.commit([{ op: 'put', collection: 'saves', key: 'k', value }]);
    value.items.push('shield');
    expect(result.results[0]).toMatchObject({ document: { value: { hp: 7, items: ['sword'] } } });
  });

  it('bounds prefix ranges by the next code point', () => {
    expect(prefixUpperBound('ab')).toBe('ac');
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('\u{10ffff}')).toBeNull();
    expect(prefixUpperBound('')).toBeNull();
  });

  it('pages with a cursor, skipping expired documents', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = openStore(await openDriver(), clock);
    await store.commit(
      Array.from(
        { length: 10 },
        (_, i): CommitOp => ({
          op: 'put',
          collection: 'page',
          key: `k${i}`,
          value: i,
          ...(i % 3 === 0 ? { ttlMs: 5 } : {}),
        }),
      ),
    );
    clock.advance(5);
    const seen: string[] = [];
    let after: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await store.list('page', { limit: 2, ...(after === undefined ? {} : { after }) });
      seen.push(...page.items.map((item) => item.key));
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    expect(seen).toEqual(['k1', 'k2', 'k4', 'k5', 'k7', 'k8']);
  });

  it('reports a stored value that is not JSON as CORRUPT_DATA, and stays usable', async () => {
    const store = openStore(await openDriver());
    await store.commit([
      { op: 'put', collection: 'games', key: 'g1', value: { ok: true } },
      { op: 'put', collection: 'games', key: 'g2', value: { ok: true } },
      { op: 'append', stream: 'log', events: [{ type: 'a', data: 1 }] },
      { op: 'score', board: 'b', member: 'm', score: 1, mode: 'set', metadata: { x: 1 } },
    ]);
    const raw = openRaw();
    raw.prepare("UPDATE documents SET value = '{\"ok\": tru' WHERE key = 'g1'").run();
    raw.prepare("UPDATE recent_events SET data = '[1,' WHERE seq = 1").run();
    raw.prepare("UPDATE board_entries SET metadata = '{' WHERE member = 'm'").run();

    expect((await rejection(store.get('games', 'g1'))).code).toBe('CORRUPT_DATA');
    expect((await rejection(store.list('games'))).code).toBe('CORRUPT_DATA');
    expect((await rejection(store.readStream('log'))).code).toBe('CORRUPT_DATA');
    expect((await rejection(store.boardRange('b'))).code).toBe('CORRUPT_DATA');
    const [patchOutcome, neighbour] = await Promise.allSettled([
      store.commit([{ op: 'patch', collection: 'games', key: 'g1', patch: { $set: { x: 1 } } }]),
      store.commit([{ op: 'patch', collection: 'games', key: 'g2', patch: { $set: { x: 1 } } }]),
    ]);
    expect(patchOutcome).toMatchObject({ status: 'rejected', reason: { code: 'CORRUPT_DATA' } });
    expect(neighbour.status).toBe('fulfilled');
    // A put replaces the damaged value without reading it.
    await store.commit([{ op: 'put', collection: 'games', key: 'g1', value: { repaired: true } }]);
    expect(await store.get('games', 'g1')).toMatchObject({ value: { repaired: true }, version: 2 });
  });
});

describe('batches and native errors', () => {
  it('fails a whole batch with STORAGE_UNAVAILABLE while another connection holds the lock', async () => {
    const store = openStore(await openDriver({ busyTimeoutMs: 50 }));
    const raw = openRaw();
    raw.prepare('BEGIN IMMEDIATE').run();
    const outcomes = await Promise.allSettled(
      ['a', 'b', 'c'].map((key) => store.commit([{ op: 'put', collection: 'locked', key, value: 1 }])),
    );
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'STORAGE_UNAVAILABLE' } });
      expect((outcome as PromiseRejectedResult).reason.cause).toMatchObject({ code: 'SQLITE_BUSY' });
    }
    raw.prepare('ROLLBACK').run();
    await store.commit([{ op: 'put', collection: 'locked', key: 'a', value: 2 }]);
    expect(await store.get('locked', 'a')).toMatchObject({ value: 2, version: 1 });
  });

  it('sweeps expired streams together with their events', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = openStore(await openDriver(), clock);
    await store.commit([
      { op: 'append', stream: 'short', events: [{ type: 'a' }, { type: 'b' }], expiresAt: clock.now() + 10 },
      { op: 'append', stream: 'long', events: [{ type: 'a' }] },
    ]);
    clock.advance(10);
    expect(await store.sweepExpired()).toEqual({ documents: {}, streams: 1, more: false });
    const raw = openRaw();
    expect(
      raw.prepare('SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM recent_events) AS n').get(),
    ).toEqual({ n: 1 });
    expect(raw.prepare('SELECT name FROM streams').all()).toEqual([{ name: 'long' }]);
  });
});

describe('stream storage', () => {
  it('settles buffered events into the stream tables without changing what reads see', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = openStore(await openDriver(), clock);
    const raw = openRaw();
    const count = (table: string) =>
      (raw.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    // Enough streams that none reaches MAX_BUFFERED_PER_STREAM before the buffer holds SETTLE_AT.
    const streams = Array.from({ length: 1000 }, (_, i) => `game-${i}`);
    const appendRound = (round: number) =>
      store.commit(
        streams.map(
          (stream): CommitOp => ({
            op: 'append',
            stream,
            events: Array.from({ length: 20 }, (_, i) => ({ type: 'move', data: { round, i } })),
          }),
        ),
      );
    let rounds = 0;
    while (count('events') === 0) {
      await appendRound(rounds++);
      expect(rounds).toBeLessThan(1000);
    }
    expect(rounds * streams.length * 20).toBeGreaterThanOrEqual(SETTLE_AT);
    expect(count('recent_events')).toBe(0);
    await appendRound(rounds++);
    expect(count('recent_events')).toBe(streams.length * 20);

    // Reads merge the settled and the buffered events, in seq order, across the boundary.
    const head = rounds * 20;
    const all = await store.readStream('game-7', { limit: 10_000 });
    expect(all.map((event) => event.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(all.at(-1)).toMatchObject({ type: 'move', data: { round: rounds - 1, i: 19 } });
    const across = await store.readStream('game-7', { after: head - 15, limit: 10 });
    expect(across.map((event) => event.seq)).toEqual(Array.from({ length: 10 }, (_, i) => head - 14 + i));

    // Deleting or expiring a stream reaches both tables.
    await store.commit([
      { op: 'deleteStream', stream: 'game-1' },
      { op: 'expireStream', stream: 'game-2', expiresAt: clock.now() + 1 },
    ]);
    clock.advance(1);
    await store.commit([{ op: 'append', stream: 'game-2', events: [{ type: 'fresh' }] }]);
    expect((await store.readStream('game-2')).map((event) => [event.seq, event.type])).toEqual([
      [1, 'fresh'],
    ]);
    expect(await store.readStream('game-1')).toEqual([]);
    expect(count('events') + count('recent_events')).toBe((streams.length - 2) * head + 1);
  });

  it('settles once a stream has more than MAX_BUFFERED_PER_STREAM events buffered, so no read walks more', async () => {
    const store = openStore(await openDriver());
    const raw = openRaw();
    const count = (table: string) =>
      (raw.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const append = (stream: string, n: number) =>
      store.commit([
        { op: 'append', stream, events: Array.from({ length: n }, (_, i) => ({ type: 'e', data: i })) },
      ]);
    await append('other', 1);
    await append('long', MAX_BUFFERED_PER_STREAM - 1);
    await append('long', 1);
    expect(count('recent_events')).toBe(MAX_BUFFERED_PER_STREAM + 1);
    await append('long', 1);
    expect(count('recent_events')).toBe(0);
    expect(count('events')).toBe(MAX_BUFFERED_PER_STREAM + 2);
    // The count starts again after the settle, and one big append settles at the end of its own batch.
    await append('long', MAX_BUFFERED_PER_STREAM);
    expect(count('recent_events')).toBe(MAX_BUFFERED_PER_STREAM);
    await append('other', MAX_BUFFERED_PER_STREAM * 2);
    expect(count('recent_events')).toBe(0);
    const seqs = (await store.readStream('long', { limit: 10_000 })).map((event) => event.seq);
    expect(seqs).toEqual(Array.from({ length: MAX_BUFFERED_PER_STREAM * 2 + 1 }, (_, i) => i + 1));
    expect(await store.streamHead('other')).toBe(MAX_BUFFERED_PER_STREAM * 2 + 1);
  });

  it('reads exactly each stream after a settle has left links to rowids that are used again', async () => {
    const store = openStore(await openDriver());
    const raw = openRaw();
    const count = (table: string) =>
      (raw.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const events = (n: number, type: string) => Array.from({ length: n }, (_, i) => ({ type, data: i }));
    const seqs = async (stream: string, after = 0) =>
      (await store.readStream(stream, { after, limit: 10_000 })).map((event) => [event.seq, event.type]);

    // Before the settle: a, x and d hold rowids 1, 2 and 3; each stream's row links to its own.
    for (const stream of ['a', 'x', 'd'])
      await store.commit([{ op: 'append', stream, events: events(1, 'before') }]);
    const filler = Math.ceil(SETTLE_AT / 10_000) * 10_000;
    await store.commit(
      Array.from({ length: filler / 10_000 }, () => ({
        op: 'append' as const,
        stream: 'filler',
        events: events(10_000, 'fill'),
      })),
    );
    expect(count('recent_events')).toBe(0);
    expect(count('events')).toBe(filler + 3);

    // The buffer starts again at rowid 1. a's stale link names rowid 1, now b's seq 1 (the seq
    // before a's new one, in another stream); d's names rowid 3, its own new event (a loop);
    // filler's points past the buffer's end.
    for (const [stream, type] of [
      ['b', 'b'],
      ['a', 'after'],
      ['d', 'after'],
      ['filler', 'more'],
    ] as const)
      await store.commit([{ op: 'append', stream, events: events(1, type) }]);
    expect(raw.prepare('SELECT id, seq, prev FROM recent_events ORDER BY id').all()).toEqual([
      { id: 1, seq: 1, prev: null },
      { id: 2, seq: 2, prev: 1 },
      { id: 3, seq: 2, prev: 3 },
      { id: 4, seq: filler + 1, prev: filler + 3 },
    ]);
    await store.commit([{ op: 'append', stream: 'a', events: events(1, 'after') }]);

    expect(await seqs('a')).toEqual([
      [1, 'before'],
      [2, 'after'],
      [3, 'after'],
    ]);
    expect(await seqs('a', 2)).toEqual([[3, 'after']]);
    expect(await seqs('b')).toEqual([[1, 'b']]);
    expect(await seqs('d')).toEqual([
      [1, 'before'],
      [2, 'after'],
    ]);
    expect(await seqs('filler', filler - 2)).toEqual([
      [filler - 1, 'fill'],
      [filler, 'fill'],
      [filler + 1, 'more'],
    ]);

    // Deleting a stream removes its buffered events only.
    await store.commit([{ op: 'deleteStream', stream: 'a' }]);
    expect(count('recent_events')).toBe(3);
    expect(await seqs('b')).toEqual([[1, 'b']]);
    expect(await seqs('d', 1)).toEqual([[2, 'after']]);
    expect(await seqs('filler', filler)).toEqual([[filler + 1, 'more']]);
  });
});

describe('board ranks', () => {
  interface ModelEntry {
    member: string;
    score: number;
    reachedAt: number;
  }

  /** Checks the block counts against the entries themselves, through a second connection. */
  function checkBlocks(raw: Database.Database, board: string): number {
    const { id, member_count: memberCount } = raw
      .prepare('SELECT id, member_count FROM boards WHERE name = ?')
      .get(board) as { id: number; member_count: number };
    const blocks = raw
      .prepare('SELECT lo, count FROM board_blocks WHERE board_id = ? ORDER BY lo')
      .all(id) as Array<{
      lo: Buffer;
      count: number;
    }>;
    const keys = (
      raw
        .prepare('SELECT sort_key FROM board_entries WHERE board_id = ? ORDER BY sort_key')
        .all(id) as Array<{
        sort_key: Buffer;
      }>
    ).map((row) => row.sort_key);
    expect(keys).toHaveLength(memberCount);
    expect(blocks[0]?.lo.length).toBe(0);
    let position = 0;
    blocks.forEach((block, index) => {
      const next = blocks[index + 1]?.lo;
      let covered = 0;
      while (
        position < keys.length &&
        (next === undefined || Buffer.compare(keys[position] as Buffer, next) < 0)
      ) {
        covered++;
        position++;
      }
      expect(covered, `block ${index}`).toBe(block.count);
      expect(block.count).toBeLessThanOrEqual(MAX_BLOCK_SIZE);
      if (index > 0) expect(block.count).toBeGreaterThan(0);
    });
    expect(position).toBe(keys.length);
    return blocks.length;
  }

  it.each<BoardOrder>(['desc', 'asc'])(
    'agrees with a plain sort through splits and merges (%s), ties included',
    async (order) => {
      const clock = new ManualClock(Date.UTC(2026, 0, 1));
      const store = openStore(await openDriver(), clock);
      const raw = openRaw();
      const board = `ranks-${order}`;
      const model = new Map<string, ModelEntry>();
      let seed = 42;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      let maxBlocks = 0;
      // Grow to a few thousand members (splits), churn scores (moves), then shrink hard (merges).
      const phases = [
        { rounds: 6, members: 4000, removeShare: 0.02 },
        { rounds: 4, members: 4000, removeShare: 0.05 },
        { rounds: 3, members: 4000, removeShare: 0.5 },
      ];
      for (const phase of phases) {
        for (let round = 0; round < phase.rounds; round++) {
          clock.advance(1);
          const ops: CommitOp[] = [];
          for (let i = 0; i < 800; i++) {
            const member = `p${Math.floor(random() * phase.members)}`;
            // Few distinct scores, so ties on score (broken by time, then member) are everywhere.
            const score = Math.floor(random() * 30) - 10;
            const mode = random() < 0.2 ? 'incr' : random() < 0.5 ? 'best' : 'set';
            ops.push({ op: 'score', board, member, score, mode, order });
          }
          await store.commit(ops);
          for (const op of ops) {
            if (op.op !== 'score') continue;
            const previous = model.get(op.member);
            let score = op.score;
            if (previous !== undefined && op.mode === 'incr') score = previous.score + op.score;
            if (previous !== undefined && op.mode === 'best') {
              const better = order === 'desc' ? op.score > previous.score : op.score < previous.score;
              if (!better) continue;
            }
            const changed = previous === undefined || previous.score !== score;
            model.set(op.member, {
              member: op.member,
              score,
              reachedAt: changed ? clock.now() : previous.reachedAt,
            });
          }
          const removed = [...model.keys()].filter(() => random() < phase.removeShare);
          if (removed.length > 0) {
            await store.commit(removed.map((member): CommitOp => ({ op: 'removeMember', board, member })));
          }
          for (const member of removed) model.delete(member);
          maxBlocks = Math.max(maxBlocks, checkBlocks(raw, board));
        }
      }
      const finalBlocks = checkBlocks(raw, board);
      expect(maxBlocks).toBeGreaterThan(3);
      expect(finalBlocks).toBeLessThan(maxBlocks);

      const expected = [...model.values()]
        .sort((a, b) => compareBoardEntries(order, a, b))
        .map((e) => e.member);
      expect((await store.boardInfo(board))?.count).toBe(expected.length);
      for (const offset of [
        0,
        1,
        MAX_BLOCK_SIZE - 1,
        MAX_BLOCK_SIZE,
        MAX_BLOCK_SIZE + 7,
        expected.length - 3,
      ]) {
        const page = await store.boardRange(board, { offset, limit: 5 });
        expect(page.map((entry) => entry.member)).toEqual(expected.slice(offset, offset + 5));
        expect(page.map((entry) => entry.rank)).toEqual(page.map((_, i) => offset + i + 1));
      }
      expect(await store.boardRange(board, { offset: expected.length, limit: 5 })).toEqual([]);
      for (let i = 0; i < expected.length; i += 7) {
        expect((await store.boardMember(board, expected[i] as string))?.rank).toBe(i + 1);
      }
    },
  );
});

describe('board ranks held in memory', () => {
  const scores = (from: number, count: number): CommitOp[] =>
    Array.from({ length: count }, (_, i) => ({
      op: 'score',
      board: 'held',
      member: `m${from + i}`,
      score: from + i,
      mode: 'set',
    }));
  /** Ranks of a few members spread over the board, each checked against a plain count. */
  async function expectRanks(store: Store, highest: number, lowest = 0): Promise<void> {
    for (const at of [lowest, lowest + 1, Math.floor((lowest + highest) / 2), highest - 1, highest]) {
      expect((await store.boardMember('held', `m${at}`))?.rank, `m${at}`).toBe(highest - at + 1);
    }
    const page = await store.boardRange('held', { offset: highest - lowest - 2, limit: 5 });
    expect(page.map((entry) => entry.member)).toEqual([`m${lowest + 2}`, `m${lowest + 1}`, `m${lowest}`]);
  }

  it('forgets a commit that rolled back after its score ops moved the blocks', async () => {
    const store = openStore(await openDriver());
    await store.commit(scores(0, 3000));
    await store.commit([{ op: 'put', collection: 'c', key: 'taken', value: 1 }]);
    await expectRanks(store, 2999);
    // 1,500 new members split blocks before the put's condition fails and undoes the whole commit.
    const failure = await rejection(
      store.commit([
        ...scores(3000, 1500),
        { op: 'put', collection: 'c', key: 'taken', value: 2, mustNotExist: true },
      ]),
    );
    expect(failure.code).toBe('VERSION_CONFLICT');
    expect((await store.boardInfo('held'))?.count).toBe(3000);
    await expectRanks(store, 2999);
    await store.commit(scores(3000, 10));
    await expectRanks(store, 3009);
  });

  it('sees scores written through another connection to the same file', async () => {
    const reader = openStore(await openDriver());
    const writer = openStore(await openDriver());
    await reader.commit(scores(0, 3000));
    await expectRanks(reader, 2999);
    await writer.commit(scores(3000, 2000));
    await expectRanks(reader, 4999);
    await writer.commit(
      Array.from(
        { length: 2500 },
        (_, i): CommitOp => ({ op: 'removeMember', board: 'held', member: `m${i}` }),
      ),
    );
    await expectRanks(reader, 4999, 2500);
    // The reader's own writes then land on blocks it reloaded, not on its stale copy.
    await reader.commit(scores(5000, 1200));
    await expectRanks(writer, 6199, 2500);
    await expectRanks(reader, 6199, 2500);
  });
});

describe('external changes', () => {
  it('tells one driver about commits made through another connection, and not about its own', async () => {
    const watcher = openStore(await openDriver());
    const writer = openStore(await openDriver());
    const heard: Array<readonly Change[]> = [];
    watcher.subscribe((batch) => {
      if (batch.origin === 'external') heard.push(batch.changes);
    });
    await watcher.commit([{ op: 'put', collection: 'own', key: 'k', value: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(heard).toEqual([]);

    await writer.commit([{ op: 'put', collection: 'theirs', key: 'k', value: 1 }]);
    const deadline = Date.now() + 3000;
    while (heard.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(heard).toEqual([[{ kind: 'unknown' }]]);
    expect(await watcher.get('theirs', 'k')).toMatchObject({ value: 1 });
  });
});
