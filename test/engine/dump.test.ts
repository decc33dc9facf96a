/**
 * Dump and load beyond the driver contract: the reference dump itself, the line format, the
 * kept-stream splice, properties over any history, the Redis layer, and the rank blocks each SQL
 * driver rebuilds. The contract every driver keeps (exact round trips, snapshots, all-or-nothing
 * imports, refusals, a kept stream, commits continuing after an import) is the conformance suite's
 * dump group, in src/testing/dump.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openRedisLayer } from '../../src/cache/redis/redis-layer.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import { BLOCK_SIZE as SQLITE_BLOCK_SIZE } from '../../src/drivers/sqlite/board-blocks.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { RecordDump } from '../../src/engine/driver.js';
import { decodeRecord, encodeRecord } from '../../src/engine/dump-format.js';
import { KeptStreamSplice, withoutKeptEvents } from '../../src/engine/dump-import.js';
import { type ChangeBatch, Store } from '../../src/engine/store.js';
import type { CommitOp, JsonValue } from '../../src/engine/types.js';
import { SavepointError } from '../../src/errors.js';
import { collect, pagesOf, populate, START } from '../../src/testing/dump-fixture.js';
import { deletePrefix, shared } from '../cache/redis-test-support.js';
import { postgresAvailable, postgresUrl, redisAvailable, redisUrl, uniqueName } from '../support/services.js';

const pgAvailable = await postgresAvailable();
const schemas: string[] = [];
const directory = mkdtempSync(join(tmpdir(), 'savepoint-dump-'));

afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  if (schemas.length === 0) return;
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  await sql.end();
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<SavepointError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SavepointError);
  expect((error as SavepointError).code).toBe(code);
  return error as SavepointError;
}

const documents = (records: readonly RecordDump[]) => records.filter((r) => r.kind === 'document');

/** The fixture's dump as the memory driver writes it: the reference every driver must match. */
async function referenceDump(): Promise<RecordDump[]> {
  const clock = new ManualClock(START);
  const store = new Store(await openMemoryDriver(), { clock: clock.now });
  await populate(store, clock);
  const records = await collect(store.exportRecords());
  await store.close();
  return records;
}

const reference = await referenceDump();

describe('the reference dump (memory)', () => {
  it('holds every live record in canonical order, and no expired one', () => {
    const kinds = reference.map((record) => record.kind);
    expect(kinds.indexOf('stream')).toBeGreaterThan(kinds.lastIndexOf('document'));
    expect(kinds.indexOf('board')).toBeGreaterThan(kinds.lastIndexOf('event'));
    const keys = documents(reference).map((r) => `${r.collection}/${r.key}`);
    expect(keys).not.toContain('ttl/dies');
    expect(keys).toContain('ttl/lives');
    // Code-point order: U+FFFF before the emoji (a surrogate pair), 'Z' before 'a'.
    const docKeys = documents(reference)
      .filter((r) => r.collection === 'docs')
      .map((r) => r.key);
    expect(docKeys.indexOf('Z')).toBeLessThan(docKeys.indexOf('a'));
    expect(docKeys.indexOf('\uffff')).toBeLessThan(docKeys.indexOf('🎮'));
    const streams = reference.filter((r) => r.kind === 'stream').map((r) => r.stream);
    expect(streams).toEqual(['audit', 'game:g1']);
    const boards = reference.filter((r) => r.kind === 'board').map((r) => r.board);
    expect(boards).toEqual(['emptied', 'global', 'large:desc', 'large:merge', 'speedrun']);
  });

  it('keeps versions, times and expiry', () => {
    const counter = documents(reference).find((r) => r.collection === 'counter');
    expect(counter).toEqual({
      kind: 'document',
      collection: 'counter',
      key: 'c1',
      json: '{"n":4}',
      version: 5,
      createdAt: START + 10,
      updatedAt: START + 38,
      expiresAt: null,
    });
    const lives = documents(reference).find((r) => r.key === 'lives');
    expect(lives?.expiresAt).toBe(START + 41 + 3_600_000);
  });

  it('encodes every record as one line that decodes back to it', () => {
    for (const record of reference) {
      const line = encodeRecord(record);
      expect(line).not.toMatch(/[\n\r]/);
      expect(decodeRecord(line, 'test')).toEqual(record);
    }
  });
});

describe('the kept-stream splice', () => {
  const kept = {
    stream: 'k',
    expiresAt: 99,
    events: [{ seq: 1, type: 't', json: '"x"', at: 5 }],
  };
  const doc: RecordDump = {
    kind: 'document',
    collection: 'c',
    key: 'k',
    json: '1',
    version: 1,
    createdAt: 1,
    updatedAt: 1,
    expiresAt: null,
  };
  const board: RecordDump = { kind: 'board', board: 'b', order: 'desc' };
  const stream = (name: string, head = 0, expiresAt: number | null = null): RecordDump => ({
    kind: 'stream',
    stream: name,
    head,
    expiresAt,
  });
  const keptEvent = (seq: number): RecordDump => ({
    kind: 'event',
    stream: 'k',
    seq,
    type: 't',
    json: '{"originalSeq":1,"data":"x"}',
    at: 5,
  });
  /** The kept event as the dump would carry it had the target been loaded from it (seq 1 only). */
  const same = (seq: number): RecordDump => ({
    kind: 'event',
    stream: 'k',
    seq,
    type: 't',
    json: '"x"',
    at: 5,
  });
  const other = (seq: number): RecordDump => ({
    kind: 'event',
    stream: 'k',
    seq,
    type: 'u',
    json: '"x"',
    at: 5,
  });
  const cases: Array<[string, RecordDump[], RecordDump[]]> = [
    ['nothing', [], [stream('k', 1, 99), keptEvent(1)]],
    ['documents only', [doc], [doc, stream('k', 1, 99), keptEvent(1)]],
    ['boards, no streams', [doc, board], [doc, stream('k', 1, 99), keptEvent(1), board]],
    [
      'a later stream',
      [stream('a'), stream('z')],
      [stream('a'), stream('k', 1, 99), keptEvent(1), stream('z')],
    ],
    ['the stream without events', [stream('k'), board], [stream('k', 1), keptEvent(1), board]],
    [
      'the stream with events',
      [stream('k', 1), { kind: 'event', stream: 'k', seq: 1, type: 'own', json: '0', at: 1 }, stream('l')],
      [
        stream('k', 2),
        { kind: 'event', stream: 'k', seq: 1, type: 'own', json: '0', at: 1 },
        keptEvent(2),
        stream('l'),
      ],
    ],
    // The target was loaded from this dump before: what the dump holds already is not written twice.
    ['the kept event itself', [stream('k', 1), same(1)], [stream('k', 1), same(1)]],
    ['the kept event and more', [stream('k', 2), same(1), other(2)], [stream('k', 2), same(1), other(2)]],
    [
      'the kept event at another seq',
      [stream('k', 2), other(1), same(2)],
      [stream('k', 3), other(1), same(2), keptEvent(3)],
    ],
  ];

  it.each(cases)(
    'puts it in place in a dump with %s, and takes it out again',
    async (_name, dump, expected) => {
      const splice = new KeptStreamSplice(kept);
      const written = [...dump.flatMap((record) => splice.through(record)), ...splice.end()];
      expect(written).toEqual(expected);
      const ownHead = dump.find((r) => r.kind === 'stream' && r.stream === 'k');
      const back = await collect(
        withoutKeptEvents(pagesOf(written, 2), 'k', ownHead?.kind === 'stream' ? ownHead.head : undefined),
      );
      expect(back).toEqual(dump);
    },
  );
});

describe('property: any history round-trips exactly (memory)', () => {
  const json = fc.jsonValue() as fc.Arbitrary<JsonValue>;
  const name = fc.constantFrom('a', 'b', 'Z', '🎮', '\uffff', 'k:1');
  const op: fc.Arbitrary<CommitOp> = fc.oneof(
    fc.record({ op: fc.constant('put' as const), collection: name, key: name, value: json }),
    fc.record({
      op: fc.constant('patch' as const),
      collection: name,
      key: name,
      patch: fc.record({ $inc: fc.dictionary(name, fc.integer({ min: -5, max: 5 })) }),
      upsert: fc.constant(true),
    }),
    fc.record({ op: fc.constant('delete' as const), collection: name, key: name }),
    fc.record({
      op: fc.constant('append' as const),
      stream: name,
      events: fc.array(fc.record({ type: name, data: json }), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ op: fc.constant('deleteStream' as const), stream: name }),
    fc.record({
      op: fc.constant('score' as const),
      board: name,
      member: name,
      score: fc.integer({ min: -3, max: 3 }),
      mode: fc.constantFrom('set' as const, 'best' as const, 'incr' as const),
    }),
    fc.record({ op: fc.constant('removeMember' as const), board: name, member: name }),
  );

  it('export → encode → decode → import → export is the identity', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { maxLength: 25 }),
        async (commits) => {
          const clock = new ManualClock(START);
          const source = new Store(await openMemoryDriver(), { clock: clock.now });
          for (const ops of commits) {
            clock.advance(1);
            // A patch over a non-object value fails its commit; that is part of any history.
            await source.commit(ops).catch(() => undefined);
          }
          const records = await collect(source.exportRecords());
          const decoded = records.map((record, index) =>
            decodeRecord(encodeRecord(record), `record ${index}`),
          );
          const target = new Store(await openMemoryDriver(), { clock: clock.now });
          await target.importRecords(pagesOf(decoded, 3));
          expect(await collect(target.exportRecords())).toEqual(records);
          expect(await target.countRecords()).toEqual(await source.countRecords());
          await Promise.all([source.close(), target.close()]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("property: keepStream keeps the target's events after the dump's own (memory)", () => {
  const json = fc.jsonValue() as fc.Arbitrary<JsonValue>;
  const name = fc.constantFrom('a', 'k', 'z', 'Z', '🎮');
  const append = fc.record({
    op: fc.constant('append' as const),
    stream: name,
    events: fc.array(fc.record({ type: name, data: json }), { minLength: 1, maxLength: 3 }),
  });
  const op: fc.Arbitrary<CommitOp> = fc.oneof(
    fc.record({ op: fc.constant('put' as const), collection: name, key: name, value: json }),
    append,
    fc.record({ op: fc.constant('deleteStream' as const), stream: name }),
    fc.record({
      op: fc.constant('score' as const),
      board: name,
      member: name,
      score: fc.integer({ min: -3, max: 3 }),
      mode: fc.constant('set' as const),
    }),
  );

  it('the dump comes back whole once the kept events are taken out, and they follow it in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 20 }),
        fc.array(fc.record({ type: name, data: json }), { maxLength: 4 }),
        async (ops, keptInput) => {
          const clock = new ManualClock(START);
          const source = new Store(await openMemoryDriver(), { clock: clock.now });
          for (const one of ops) await source.commit([one]);
          const records = await collect(source.exportRecords());
          const target = new Store(await openMemoryDriver(), { clock: clock.now });
          if (keptInput.length > 0) await target.commit([{ op: 'append', stream: 'k', events: keptInput }]);
          const before = await target.readStream('k');
          await target.importRecords(pagesOf(records, 2), { keepStream: 'k' });
          const ownHead = await source.streamHead('k');
          const own = records.some((r) => r.kind === 'stream' && r.stream === 'k') ? ownHead : undefined;
          expect(await collect(withoutKeptEvents(target.exportRecords(), 'k', own))).toEqual(records);
          // Kept events equal to the dump's at the same seqs, from seq 1 on, are the dump's already.
          const dumped = await source.readStream('k', { limit: 1000 });
          let shared = 0;
          while (shared < before.length && JSON.stringify(before[shared]) === JSON.stringify(dumped[shared]))
            shared++;
          const carried = before.slice(shared);
          const after = await target.readStream('k', { after: ownHead, limit: 1000 });
          expect(after.map((e) => [e.seq, e.type, e.at])).toEqual(
            carried.map((e, index) => [ownHead + index + 1, e.type, e.at]),
          );
          expect(after.map((e) => (e.data as { originalSeq: number }).originalSeq)).toEqual(
            carried.map((e) => e.seq),
          );
          await Promise.all([source.close(), target.close()]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

const redisUp = await redisAvailable();

describe.skipIf(!redisUp)('dump and load through the Redis layer', () => {
  const prefix = uniqueName('sp_test_dump');

  afterAll(async () => {
    await deletePrefix(prefix);
  });

  it('delegates, and after an import no instance serves a cached document', async () => {
    const clock = new ManualClock(START);
    const inner = await openMemoryDriver();
    const a = new Store(await openRedisLayer(shared(inner), { url: redisUrl, prefix }), { clock: clock.now });
    const b = new Store(await openRedisLayer(shared(inner), { url: redisUrl, prefix }), { clock: clock.now });
    const heardByB: ChangeBatch[] = [];
    b.subscribe((batch) => heardByB.push(batch));
    await populate(a, clock, 50);
    // Both instances cache counter/c1 (L1 and Redis).
    expect((await a.get('counter', 'c1'))?.version).toBe(5);
    expect((await b.get('counter', 'c1'))?.version).toBe(5);
    expect(await collect(a.exportRecords())).toEqual(
      await collect(inner.exportRecords?.(clock.now()) ?? pagesOf([])),
    );
    expect(await a.countRecords()).toEqual(await inner.countRecords?.(clock.now()));

    await expectCode(a.importRecords(pagesOf(reference)), 'VERSION_CONFLICT');
    const replacement: RecordDump[] = [
      {
        kind: 'document',
        collection: 'counter',
        key: 'c1',
        json: '{"n":100}',
        version: 42,
        createdAt: 1,
        updatedAt: 2,
        expiresAt: null,
      },
    ];
    await a.importRecords(pagesOf(replacement), { replace: true });
    expect(await a.get('counter', 'c1')).toMatchObject({ value: { n: 100 }, version: 42 });
    expect(await b.get('counter', 'c1')).toMatchObject({ value: { n: 100 }, version: 42 });
    expect(heardByB.some((batch) => batch.changes.some((change) => change.kind === 'unknown'))).toBe(true);
    await Promise.all([a.close(), b.close()]);
    await inner.close();
  });
});

describe('derived structures after an import', () => {
  const expectedBlocks = {
    emptied: [0],
    global: [5],
    'large:desc': [512, 512, 276],
    'large:merge': [512, 588],
    speedrun: [2],
  };

  /** Blocks of `size` entries in rank order, a last one under half a block folded into the one before. */
  const blocksOf = (members: number, size: number): number[] => {
    const blocks = Array.from({ length: Math.floor(members / size) }, () => size);
    const rest = members % size;
    if (rest >= size / 2 || blocks.length === 0) blocks.push(rest);
    else blocks[blocks.length - 1] = size + rest;
    return blocks;
  };
  // SQLite keeps smaller blocks than PostgreSQL (board-blocks.ts holds their counts in memory).
  const expectedSqliteBlocks = {
    ...expectedBlocks,
    'large:desc': blocksOf(1300, SQLITE_BLOCK_SIZE),
    'large:merge': blocksOf(1100, SQLITE_BLOCK_SIZE),
  };

  it('blocksOf gives the PostgreSQL shapes at its block size', () => {
    expect(blocksOf(1300, 512)).toEqual(expectedBlocks['large:desc']);
    expect(blocksOf(1100, 512)).toEqual(expectedBlocks['large:merge']);
  });

  it('sqlite: rank blocks and member counts are rebuilt in shape', async () => {
    const file = join(directory, 'blocks.db');
    const clock = new ManualClock(START);
    const store = new Store(await openSqliteDriver({ path: file }), { clock: clock.now });
    await store.importRecords(pagesOf(reference));
    await store.close();
    const db = new Database(file, { readonly: true });
    const rows = db
      .prepare(
        `SELECT b.name, b.member_count AS members, group_concat(k.count) AS blocks
         FROM boards b JOIN (SELECT * FROM board_blocks ORDER BY board_id, lo) k ON k.board_id = b.id
         GROUP BY b.id ORDER BY b.name`,
      )
      .all() as Array<{ name: string; members: number; blocks: string }>;
    db.close();
    expect(Object.fromEntries(rows.map((row) => [row.name, row.blocks.split(',').map(Number)]))).toEqual(
      expectedSqliteBlocks,
    );
    for (const row of rows)
      expect(row.members).toBe(
        expectedSqliteBlocks[row.name as keyof typeof expectedSqliteBlocks].reduce((a, b) => a + b),
      );
  });

  it.skipIf(!pgAvailable)('postgres: rank blocks and member counts are rebuilt in shape', async () => {
    const schema = uniqueName('sp_dump_blocks');
    schemas.push(schema);
    const clock = new ManualClock(START);
    const store = new Store(await openPostgresDriver({ url: postgresUrl, schema }), { clock: clock.now });
    await store.importRecords(pagesOf(reference));
    await store.close();
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    const rows = await sql<Array<{ name: string; members: string; blocks: number[] }>>`
      SELECT b.name, b.member_count AS members, array_agg(k.member_count ORDER BY k.lo) AS blocks
      FROM ${sql(`${schema}.boards`)} b JOIN ${sql(`${schema}.board_blocks`)} k ON k.board_id = b.id
      GROUP BY b.id, b.name ORDER BY b.name`;
    await sql.end();
    expect(Object.fromEntries(rows.map((row) => [row.name, row.blocks]))).toEqual(expectedBlocks);
    for (const row of rows)
      expect(Number(row.members)).toBe(
        expectedBlocks[row.name as keyof typeof expectedBlocks].reduce((a, b) => a + b),
      );
  });

  it('sqlite: commits wait for an import, and readers see the old contents until it commits', async () => {
    const clock = new ManualClock(START);
    const store = new Store(await openSqliteDriver({ path: join(directory, 'concurrent.db') }), {
      clock: clock.now,
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncGenerator<RecordDump[]> {
      yield reference.slice(0, 5);
      await gate;
      yield reference.slice(5);
    }
    const importing = store.importRecords(slow());
    await new Promise((resolve) => setTimeout(resolve, 20));
    const order: string[] = [];
    const committing = store
      .commit([{ op: 'put', collection: 'counter', key: 'c1', value: 'after', expectedVersion: 5 }])
      .then((result) => {
        order.push('commit');
        return result;
      });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The import's first page is written but not committed: this connection does not see it.
    expect(await store.get('docs', 'a')).toBeUndefined();
    expect(order).toEqual([]);
    release();
    await importing.then(() => order.push('import'));
    const committed = await committing;
    expect(order).toEqual(['import', 'commit']);
    expect(committed.results[0]).toMatchObject({ document: { version: 6 } });
    await store.close();
  });
});
