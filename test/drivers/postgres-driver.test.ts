/**
 * What the conformance suite cannot see on PostgreSQL: migrations, connection failures, schema
 * isolation, the NOTIFY-based external change feed, concurrency across instances, and the board
 * block counts behind ranks.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BLOCK, MIN_BLOCK } from '../../src/drivers/postgres/board-blocks.js';
import { encodeChanges, MAX_PAYLOADS_PER_BATCH } from '../../src/drivers/postgres/change-notifier.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate } from '../../src/drivers/postgres/migrations.js';
import { createClient } from '../../src/drivers/postgres/postgres-client.js';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import { prefixUpperBound } from '../../src/drivers/postgres/prefix-range.js';
import { compareBoardEntries } from '../../src/engine/board-sort-key.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Change, Driver } from '../../src/engine/driver.js';
import { type ChangeBatch, Store } from '../../src/engine/store.js';
import type { BoardOrder } from '../../src/engine/types.js';
import { SavepointError } from '../../src/errors.js';
import { postgresAvailable, postgresUrl, uniqueName } from '../support/services.js';

const available = await postgresAvailable();

async function expectCode(promise: Promise<unknown>, code: string): Promise<SavepointError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SavepointError);
  expect((error as SavepointError).code).toBe(code);
  return error as SavepointError;
}

/** Retries `check` until it passes or `timeoutMs` runs out (for asynchronous deliveries). */
async function eventually(check: () => void | Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

describe('prefixUpperBound', () => {
  it('bounds exactly the strings that start with the prefix, in code-point order', () => {
    expect(prefixUpperBound('user:')).toBe('user;');
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('\u{10ffff}')).toBeNull();
    expect(prefixUpperBound('x\ud7ff')).toBe('x\ue000');
    expect(prefixUpperBound('🎮')).toBe('🎯');
  });
});

describe('encodeChanges', () => {
  it('keeps payloads under the NOTIFY limit and falls back to unknown when a batch is huge', () => {
    const refs = Array.from({ length: 50 }, (_, i) => ({
      kind: 'document' as const,
      collection: 'c',
      key: `k${i}`,
    }));
    const small = encodeChanges('me', 1, refs);
    expect(small).toHaveLength(1);
    expect(JSON.parse(small[0] as string).c).toHaveLength(50);
    const big = Array.from({ length: 5000 }, (_, i) => ({
      kind: 'document' as const,
      collection: 'collection',
      key: `key-${'x'.repeat(100)}-${i}`,
    }));
    const payloads = encodeChanges('me', 1, big);
    expect(payloads).toHaveLength(1);
    expect(JSON.parse(payloads[0] as string)).toMatchObject({ u: 1 });
    const medium = big.slice(0, 150);
    const split = encodeChanges('me', 1, medium);
    expect(split.length).toBeGreaterThan(1);
    expect(split.length).toBeLessThanOrEqual(MAX_PAYLOADS_PER_BATCH);
    for (const payload of split) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
  });

  it('joins adjacent seq ranges of a stream', () => {
    const [payload] = encodeChanges('me', 1, [
      { kind: 'stream', stream: 's', firstSeq: 1, lastSeq: 2 },
      { kind: 'stream', stream: 's', firstSeq: 3, lastSeq: 5 },
      { kind: 'streamDeleted', stream: 's' },
      { kind: 'stream', stream: 's', firstSeq: 1, lastSeq: 1 },
    ]);
    expect(JSON.parse(payload as string).c).toEqual([
      ['s', 's', 1, 5],
      ['x', 's'],
      ['s', 's', 1, 1],
    ]);
  });
});

describe.skipIf(!available)('postgres driver', () => {
  const schemas: string[] = [];
  const drivers: Driver[] = [];
  let admin: postgres.Sql;

  const freshSchema = (): string => {
    const schema = uniqueName('sp_pgdriver');
    schemas.push(schema);
    return schema;
  };
  const open = async (schema: string | undefined, url = postgresUrl): Promise<Driver> => {
    const driver = await openPostgresDriver(schema === undefined ? { url } : { url, schema });
    drivers.push(driver);
    return driver;
  };

  beforeAll(() => {
    admin = postgres(postgresUrl, { max: 2, onnotice: () => {} });
  });

  afterAll(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
    for (const schema of schemas) await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
    await admin.end();
  });

  describe('opening and migrations', () => {
    it('applies each migration once, however often and however concurrently it opens', async () => {
      const schema = freshSchema();
      await Promise.all([open(schema), open(schema), open(schema)]);
      await open(schema);
      const rows = await admin`SELECT version FROM ${admin(schema)}.schema_migrations ORDER BY version`;
      expect(rows.map((row) => row.version)).toEqual(
        Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
      );
    });

    it('applies only the migrations a schema lacks, in order', async () => {
      const schema = freshSchema();
      await (await open(schema)).close();
      const sql = createClient(postgresUrl, 1);
      try {
        const next = LATEST_SCHEMA_VERSION + 1;
        const later = [...MIGRATIONS, { version: next, name: 'later', sql: 'CREATE TABLE later (id int)' }];
        expect(await migrate(sql, schema, later)).toBe(next);
        expect(await migrate(sql, schema, later)).toBe(next);
        const rows =
          await admin`SELECT version, name FROM ${admin(schema)}.schema_migrations ORDER BY version`;
        expect(rows.at(-1)).toMatchObject({ version: next, name: 'later' });
        expect(rows).toHaveLength(next);
        // This build (without "later") now refuses the schema.
        await expectCode(migrate(sql, schema), 'STORAGE_UNAVAILABLE');
      } finally {
        await sql.end();
      }
    });

    it('refuses a schema that a newer Savepoint migrated', async () => {
      const schema = freshSchema();
      await (await open(schema)).close();
      await admin`INSERT INTO ${admin(schema)}.schema_migrations (version, name) VALUES (${LATEST_SCHEMA_VERSION + 1}, 'from the future')`;
      const error = await expectCode(openPostgresDriver({ url: postgresUrl, schema }), 'STORAGE_UNAVAILABLE');
      expect(error.message).toMatch(/Upgrade Savepoint/);
      expect(error.details).toMatchObject({ schemaVersion: LATEST_SCHEMA_VERSION + 1 });
    });

    it('takes the schema from ?schema= and strips it before connecting', async () => {
      const schema = freshSchema();
      const separator = postgresUrl.includes('?') ? '&' : '?';
      const driver = await open(undefined, `${postgresUrl}${separator}schema=${schema}`);
      const store = new Store(driver);
      await store.commit([{ op: 'put', collection: 'c', key: 'k', value: 1 }]);
      const [row] = await admin`SELECT count(*)::int AS n FROM ${admin(schema)}.documents`;
      expect(row?.n).toBe(1);
    });

    it('fails with STORAGE_UNAVAILABLE when nothing listens on the port', async () => {
      const error = await expectCode(
        openPostgresDriver({ url: 'postgres://postgres@127.0.0.1:1/test', schema: 'sp_unreachable' }),
        'STORAGE_UNAVAILABLE',
      );
      expect(error.cause).toBeDefined();
    });

    it('rejects bad options with INVALID_INPUT', async () => {
      await expectCode(openPostgresDriver({ url: postgresUrl, schema: 'bad-name' }), 'INVALID_INPUT');
      await expectCode(openPostgresDriver({ url: postgresUrl, schema: 'pg_toast' }), 'INVALID_INPUT');
      await expectCode(openPostgresDriver({ url: 'mysql://x' }), 'INVALID_INPUT');
      await expectCode(openPostgresDriver({ url: postgresUrl, poolSize: 0 }), 'INVALID_INPUT');
    });
  });

  it('keeps schemas apart', async () => {
    const first = new Store(await open(freshSchema()));
    const second = new Store(await open(freshSchema()));
    await first.commit([{ op: 'put', collection: 'c', key: 'k', value: 'first' }]);
    await second.commit([{ op: 'put', collection: 'c', key: 'k', value: 'second' }]);
    expect((await first.get('c', 'k'))?.value).toBe('first');
    expect((await second.get('c', 'k'))?.value).toBe('second');
    expect((await second.get('c', 'k'))?.version).toBe(1);
  });

  it('closes once, after which reads fail with STORAGE_UNAVAILABLE', async () => {
    const driver = await openPostgresDriver({ url: postgresUrl, schema: freshSchema() });
    await Promise.all([driver.close(), driver.close()]);
    await driver.close();
    await expectCode(driver.getDocument('c', 'k', Date.now()), 'STORAGE_UNAVAILABLE');
    const [outcome] = await driver.applyBatch([
      {
        ops: [{ op: 'delete', collection: 'c', key: 'k' }],
        at: Date.now(),
        maxValueBytes: 1024,
      },
    ]);
    expect(outcome).toBeInstanceOf(SavepointError);
    expect((outcome as SavepointError).code).toBe('STORAGE_UNAVAILABLE');
  });

  describe('external changes', () => {
    it('an instance hears what another committed on the same schema, and not its own commits', async () => {
      const schema = freshSchema();
      const writer = new Store(await open(schema));
      const reader = new Store(await open(schema));
      const heardByReader: Change[] = [];
      const heardByWriter: ChangeBatch[] = [];
      reader.subscribe((batch) => {
        if (batch.origin !== 'external') return;
        // Pings (below) only wait for LISTEN to start.
        heardByReader.push(
          ...batch.changes.filter((c) => !(c.kind === 'document' && c.collection === 'ping')),
        );
      });
      writer.subscribe((batch) => {
        if (batch.origin === 'external') heardByWriter.push(batch);
      });
      // LISTEN starts in the background: wait until a first change gets through.
      let pinged = false;
      reader.subscribe((batch) => {
        pinged ||= batch.origin === 'external';
      });
      await eventually(async () => {
        await writer.commit([{ op: 'put', collection: 'ping', key: 'p', value: 1 }]);
        expect(pinged).toBe(true);
      });

      await writer.commit([
        { op: 'put', collection: 'c', key: 'k', value: { n: 1 } },
        { op: 'append', stream: 'game', events: [{ type: 'deal', data: { cards: 2 } }, { type: 'bet' }] },
        { op: 'score', board: 'lb', member: 'ada', score: 10, mode: 'set' },
      ]);
      await writer.commit([{ op: 'append', stream: 'game', events: [{ type: 'fold' }] }]);
      await writer.commit([{ op: 'delete', collection: 'c', key: 'k' }]);
      await eventually(() => expect(heardByReader).toHaveLength(5));
      expect(heardByReader[0]).toMatchObject({
        kind: 'document',
        collection: 'c',
        key: 'k',
        // Read back at notification time: the document may already show a later state.
      });
      expect(heardByReader[1]).toMatchObject({
        kind: 'stream',
        stream: 'game',
        events: [
          { seq: 1, type: 'deal', data: { cards: 2 } },
          { seq: 2, type: 'bet', data: null },
        ],
      });
      expect(heardByReader[2]).toEqual({ kind: 'board', board: 'lb' });
      expect(heardByReader[3]).toMatchObject({ kind: 'stream', stream: 'game', events: [{ seq: 3 }] });
      expect(heardByReader[4]).toEqual({ kind: 'document', collection: 'c', key: 'k', document: null });
      expect(heardByWriter).toEqual([]);
    });

    it('tells listeners to drop everything after the listening connection was lost', async () => {
      const schema = freshSchema();
      const writer = new Store(await open(schema));
      const reader = new Store(await open(schema));
      const heard: Change[] = [];
      reader.subscribe((batch) => {
        if (batch.origin === 'external') heard.push(...batch.changes);
      });
      await eventually(async () => {
        await writer.commit([{ op: 'put', collection: 'ping', key: 'p', value: 1 }]);
        expect(heard.length).toBeGreaterThan(0);
      });
      heard.length = 0;
      await admin`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE query ILIKE ${`listen%${schema}%`} AND pid <> pg_backend_pid()`;
      await eventually(() => expect(heard).toContainEqual({ kind: 'unknown' }));
      heard.length = 0;
      await writer.commit([{ op: 'put', collection: 'after', key: 'k', value: 2 }]);
      await eventually(() =>
        expect(heard).toContainEqual(expect.objectContaining({ kind: 'document', collection: 'after' })),
      );
    });
  });

  describe('concurrency across instances', () => {
    it('200 concurrent $inc commits through two stores give the exact total', async () => {
      const schema = freshSchema();
      const stores = [new Store(await open(schema)), new Store(await open(schema))];
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (stores[i % 2] as Store).commit([
            {
              op: 'patch',
              collection: 'c',
              key: 'counter',
              patch: { $inc: { n: 1, total: i } },
              upsert: true,
            },
          ]),
        ),
      );
      const document = await (stores[0] as Store).get('c', 'counter');
      expect(document?.value).toEqual({ n: 200, total: (199 * 200) / 2 });
      expect(document?.version).toBe(200);
    });

    it('commits touching the same keys in opposite orders all apply, without deadlock errors', async () => {
      const schema = freshSchema();
      const stores = [new Store(await open(schema)), new Store(await open(schema))];
      const keys = ['a', 'b', 'c', 'd'];
      await Promise.all(
        Array.from({ length: 120 }, (_, i) => {
          const order = i % 2 === 0 ? keys : [...keys].reverse();
          return (stores[i % 2] as Store).commit([
            ...order.map((key) => ({
              op: 'patch' as const,
              collection: 'c',
              key,
              patch: { $inc: { n: 1 } },
              upsert: true,
            })),
            { op: 'append' as const, stream: i % 3 === 0 ? 's1' : 's2', events: [{ type: 'e', data: i }] },
            {
              op: 'score' as const,
              board: i % 2 === 0 ? 'b1' : 'b2',
              member: `m${i % 7}`,
              score: 1,
              mode: 'incr' as const,
            },
          ]);
        }),
      );
      for (const key of keys) expect((await (stores[0] as Store).get('c', key))?.value).toEqual({ n: 120 });
      expect(
        (await (stores[0] as Store).streamHead('s1')) + (await (stores[0] as Store).streamHead('s2')),
      ).toBe(120);
    });

    it('a first-insert race across two stores has exactly one winner', async () => {
      const schema = freshSchema();
      const stores = [new Store(await open(schema)), new Store(await open(schema))];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          (stores[i % 2] as Store).commit([
            { op: 'put', collection: 'seats', key: 'seat-1', value: { holder: i }, mustNotExist: true },
            { op: 'append', stream: `seat-log-${i % 3}`, events: [{ type: 'claimed', data: i }] },
          ]),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'VERSION_CONFLICT' });
      }
    });
  });

  it('a value PostgreSQL refuses fails only its own commit in a group', async () => {
    const store = new Store(await open(freshSchema()));
    // Random CJK does not compress, so this primary-key entry exceeds btree's 2704-byte limit.
    const random = (length: number) =>
      Array.from({ length }, () => String.fromCharCode(0x4e00 + Math.floor(Math.random() * 20000))).join('');
    const outcomes = await Promise.allSettled([
      store.commit([{ op: 'put', collection: 'c', key: 'before', value: 1 }]),
      store.commit([{ op: 'put', collection: random(500), key: random(500), value: 2 }]),
      store.commit([{ op: 'put', collection: 'c', key: 'after', value: 3 }]),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'INVALID_INPUT' });
    expect((await store.getMany('c', ['before', 'after'])).map((d) => d.value)).toEqual([1, 3]);
  });

  describe('batches of unconditional puts (one round trip)', () => {
    it('bump live versions, restart expired ones and keep createdAt as the other paths do', async () => {
      const clock = new ManualClock(Date.UTC(2026, 0, 1));
      const store = new Store(await open(freshSchema()), { clock: clock.now });
      const created = clock.now();
      await store.commit([
        { op: 'put', collection: 'c', key: 'live', value: 1 },
        { op: 'put', collection: 'c', key: 'short', value: 1, ttlMs: 5 },
      ]);
      clock.advance(10);
      const [first, second] = await Promise.all([
        store.commit([{ op: 'put', collection: 'c', key: 'live', value: 2 }]),
        store.commit([
          { op: 'put', collection: 'c', key: 'short', value: 2 },
          { op: 'put', collection: 'c', key: 'new', value: 2, ttlMs: 100 },
        ]),
      ]);
      expect(first.results[0]).toMatchObject({
        created: false,
        document: { version: 2, createdAt: created, updatedAt: clock.now(), expiresAt: null, value: 2 },
      });
      expect(second.results.map((r) => (r.op === 'put' ? [r.created, r.document.version] : r))).toEqual([
        [true, 1],
        [true, 1],
      ]);
      expect(await store.get('c', 'short')).toMatchObject({
        version: 1,
        createdAt: clock.now(),
        expiresAt: null,
      });
      expect((await store.get('c', 'new'))?.expiresAt).toBe(clock.now() + 100);
    });

    it('race planned commits on the same new keys without losing a write', async () => {
      const schema = freshSchema();
      const stores = [new Store(await open(schema)), new Store(await open(schema))];
      await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          (stores[i % 2] as Store).commit(
            i % 4 < 2
              ? [{ op: 'put', collection: 'c', key: `k${i % 5}`, value: { n: i } }]
              : [{ op: 'patch', collection: 'c', key: `k${i % 5}`, patch: { $inc: { n: 1 } }, upsert: true }],
          ),
        ),
      );
      const versions = (await (stores[0] as Store).getMany('c', ['k0', 'k1', 'k2', 'k3', 'k4'])).map(
        (d) => d.version,
      );
      expect(versions.reduce((a, b) => a + b, 0)).toBe(80);
    });
  });

  describe('several commits on the same records in one batch', () => {
    it('a board deleted and written again in one batch starts afresh; a failed commit leaves no trace', async () => {
      const schema = freshSchema();
      const store = new Store(await open(schema));
      await store.commit(
        ['a', 'b', 'c'].map((member, i) => ({
          op: 'score' as const,
          board: 'b',
          member,
          score: i,
          mode: 'set' as const,
        })),
      );
      // Issued in one tick, so the store hands them to the driver as one batch.
      const outcomes = await Promise.allSettled([
        store.commit([{ op: 'deleteBoard', board: 'b' }]),
        store.commit([
          { op: 'score', board: 'b', member: 'z', score: 5, mode: 'set', order: 'asc' },
          { op: 'put', collection: 'c', key: 'k', value: 1, expectedVersion: 9 },
        ]),
        store.commit([{ op: 'score', board: 'b', member: 'y', score: 7, mode: 'set', order: 'asc' }]),
        store.commit([{ op: 'score', board: 'b', member: 'x', score: 3, mode: 'best' }]),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect(await store.boardInfo('b')).toEqual({ board: 'b', order: 'asc', count: 2 });
      expect((await store.boardRange('b')).map((e) => [e.rank, e.member])).toEqual([
        [1, 'x'],
        [2, 'y'],
      ]);
      const [row] = await admin`
        SELECT count(*)::int AS entries, (SELECT sum(member_count)::int FROM ${admin(schema)}.board_blocks) AS counted
        FROM ${admin(schema)}.board_entries`;
      expect(row).toEqual({ entries: 2, counted: 2 });
    });

    it('a stream deleted and appended to again in one batch restarts at seq 1', async () => {
      const store = new Store(await open(freshSchema()));
      await store.commit([{ op: 'append', stream: 's', events: [{ type: 'old' }, { type: 'old' }] }]);
      const outcomes = await Promise.allSettled([
        store.commit([{ op: 'append', stream: 's', events: [{ type: 'more' }], expectedHead: 2 }]),
        store.commit([{ op: 'deleteStream', stream: 's' }]),
        store.commit([{ op: 'append', stream: 's', events: [{ type: 'lost' }], expectedHead: 3 }]),
        store.commit([{ op: 'append', stream: 's', events: [{ type: 'new' }, { type: 'new' }] }]),
        store.commit([{ op: 'append', stream: 't', events: [{ type: 'other' }], expiresAt: 1 }]),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect((await store.readStream('s')).map((e) => [e.seq, e.type])).toEqual([
        [1, 'new'],
        [2, 'new'],
      ]);
      expect(await store.streamHead('t')).toBe(0);
    });
  });

  it('an append to an expired stream deletes the old events from the table', async () => {
    const schema = freshSchema();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = new Store(await open(schema), { clock: clock.now });
    await store.commit([
      { op: 'append', stream: 's', events: [{ type: 'a' }, { type: 'b' }], expiresAt: clock.now() + 10 },
    ]);
    clock.advance(10);
    await store.commit([{ op: 'append', stream: 's', events: [{ type: 'fresh' }] }]);
    const rows = await admin`SELECT seq, type FROM ${admin(schema)}.stream_events ORDER BY seq`;
    expect(rows.map((row) => [row.seq, row.type])).toEqual([['1', 'fresh']]);
  });

  describe('board ranks', () => {
    /** Every block's count matches its range; non-first blocks stay within [MIN_BLOCK, MAX_BLOCK]. */
    async function expectConsistentBlocks(schema: string, board: string): Promise<number> {
      const blocks = await admin`
        WITH b AS (
          SELECT k.board_id, k.lo, k.member_count, lead(k.lo) OVER (ORDER BY k.lo) AS hi
          FROM ${admin(schema)}.board_blocks k
          JOIN ${admin(schema)}.boards o ON o.id = k.board_id
          WHERE o.name = ${board}
        )
        SELECT length(b.lo) AS lo_length, b.member_count AS counted,
          (SELECT count(*)::int FROM ${admin(schema)}.board_entries e
            WHERE e.board_id = b.board_id AND e.sort_key >= b.lo AND (b.hi IS NULL OR e.sort_key < b.hi)) AS actual
        FROM b ORDER BY b.lo`;
      expect(blocks.length).toBeGreaterThan(0);
      expect(blocks[0]?.lo_length).toBe(0);
      for (const [index, block] of blocks.entries()) {
        expect(block.counted).toBe(block.actual);
        expect(block.counted).toBeLessThanOrEqual(MAX_BLOCK);
        if (index > 0) expect(block.counted).toBeGreaterThanOrEqual(MIN_BLOCK);
      }
      return blocks.length;
    }

    it.each<BoardOrder>(['desc', 'asc'])(
      'agree with a sort for thousands of members with ties, through block splits and merges (%s)',
      async (order) => {
        const schema = freshSchema();
        const clock = new ManualClock(Date.UTC(2026, 0, 1));
        const store = new Store(await open(schema), { clock: clock.now });
        const board = 'bulk';
        const model = new Map<string, { member: string; score: number; reachedAt: number }>();
        let seed = 42;
        const random = (): number => {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          return seed / 2147483648;
        };
        const check = async (): Promise<void> => {
          const expected = [...model.values()]
            .sort((a, b) => compareBoardEntries(order, a, b))
            .map((entry) => entry.member);
          expect((await store.boardInfo(board))?.count).toBe(expected.length);
          const ranked: string[] = [];
          for (let offset = 0; offset < expected.length; offset += 1000) {
            ranked.push(...(await store.boardRange(board, { offset, limit: 1000 })).map((e) => e.member));
          }
          expect(ranked).toEqual(expected);
          for (let i = 0; i < expected.length; i += 61) {
            expect((await store.boardMember(board, expected[i] as string))?.rank).toBe(i + 1);
          }
          const offset = Math.floor(expected.length / 2);
          expect((await store.boardRange(board, { offset, limit: 3 })).map((e) => e.rank)).toEqual(
            expected.slice(offset, offset + 3).map((_, i) => offset + i + 1),
          );
        };
        // Grow to about 6,000 members with heavy ties, in commits of many sizes.
        for (let round = 0; round < 12; round++) {
          clock.advance(1);
          const size = round % 3 === 0 ? 1500 : 300;
          const ops = Array.from({ length: size }, () => ({
            op: 'score' as const,
            board,
            member: `p${Math.floor(random() * 8000)}`,
            score: Math.floor(random() * 30),
            mode: 'set' as const,
            order,
          }));
          await store.commit(ops);
          for (const op of ops) {
            const previous = model.get(op.member);
            const changed = previous === undefined || previous.score !== op.score;
            model.set(op.member, {
              member: op.member,
              score: op.score,
              reachedAt: changed ? clock.now() : previous.reachedAt,
            });
          }
        }
        await check();
        const grown = await expectConsistentBlocks(schema, board);
        expect(grown).toBeGreaterThan(4);
        // Remove most members: blocks shrink and merge.
        const removed = [...model.keys()].filter(() => random() < 0.9);
        for (let i = 0; i < removed.length; i += 700) {
          await store.commit(
            removed.slice(i, i + 700).map((member) => ({ op: 'removeMember' as const, board, member })),
          );
        }
        for (const member of removed) model.delete(member);
        await check();
        const shrunk = await expectConsistentBlocks(schema, board);
        expect(shrunk).toBeLessThan(grown);
      },
    );
  });
});
