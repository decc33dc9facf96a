/**
 * Dump and load (`exportRecords`, `importRecords`, `countRecords`) on every driver: exact round
 * trips (versions, times, expiry, seqs, ranks, metadata), the canonical order shared by all
 * drivers, snapshots, all-or-nothing imports, refusals, and commits continuing after an import.
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
import { deletePrefix, shared } from '../cache/redis-test-support.js';
import { postgresAvailable, postgresUrl, redisAvailable, redisUrl, uniqueName } from '../support/services.js';
import { collect, pagesOf, populate, START } from './dump-fixture.js';

const pgAvailable = await postgresAvailable();
const schemas: string[] = [];
const directory = mkdtempSync(join(tmpdir(), 'savepoint-dump-'));
let files = 0;

interface Target {
  readonly name: string;
  readonly available: boolean;
  /** A store on a fresh, empty backing. */
  open(clock: ManualClock): Promise<Store>;
}

const targets: Target[] = [
  {
    name: 'memory',
    available: true,
    open: async (clock) => new Store(await openMemoryDriver(), { clock: clock.now }),
  },
  {
    name: 'sqlite',
    available: true,
    open: async (clock) =>
      new Store(await openSqliteDriver({ path: join(directory, `store-${++files}.db`) }), {
        clock: clock.now,
      }),
  },
  {
    name: 'sqlite :memory:',
    available: true,
    open: async (clock) => new Store(await openSqliteDriver({ path: ':memory:' }), { clock: clock.now }),
  },
  {
    name: 'postgres',
    available: pgAvailable,
    open: async (clock) => {
      const schema = uniqueName('sp_dump');
      schemas.push(schema);
      return new Store(await openPostgresDriver({ url: postgresUrl, schema }), { clock: clock.now });
    },
  },
];

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

/** Opens, uses and closes a store. */
async function using<T>(target: Target, clock: ManualClock, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await target.open(clock);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

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

describe.each(targets)('dump and load on $name', (target) => {
  it.skipIf(!target.available)('exports its own writes exactly as the memory driver does', async () => {
    const clock = new ManualClock(START);
    await using(target, clock, async (store) => {
      await populate(store, clock);
      const records = await collect(store.exportRecords());
      expect(records).toEqual(reference);
      const counts = await store.countRecords();
      expect(counts).toEqual({
        documents: documents(reference).length,
        streams: 2,
        events: 4,
        boards: 5,
        members: 5 + 2 + 1300 + 1100,
      });
    });
  });

  it.skipIf(!target.available)('imports a dump exactly, and commits continue from it', async () => {
    const clock = new ManualClock(START + 1_000_000);
    await using(target, clock, async (store) => {
      const counts = await store.importRecords(pagesOf(reference));
      expect(counts.documents).toBe(documents(reference).length);
      expect(await collect(store.exportRecords())).toEqual(reference);

      const counter = await store.get('counter', 'c1');
      expect(counter).toMatchObject({
        value: { n: 4 },
        version: 5,
        createdAt: START + 10,
        updatedAt: START + 38,
      });
      expect((await store.get('docs', 'a'))?.value).toEqual({
        nested: { list: [1, 2, { deep: true }], empty: {} },
      });
      expect((await store.get('docs', 'Z'))?.value).toBe('\u0000 nul and lone \ud800 surrogate');
      expect((await store.get('docs', '\uffff'))?.value).toBe(1e21);
      expect((await store.get('docs', '🎮'))?.value).toBe(-0.000001);
      expect((await store.get('docs', 'ключ'))?.value).toBe(12345.678);
      expect(await store.streamHead('game:g1')).toBe(3);
      const events = await store.readStream('game:g1');
      expect(events.map((e) => [e.seq, e.type, e.at])).toEqual([
        [1, 'start', START + 46],
        [2, 'move', START + 57],
        [3, 'move', START + 57],
      ]);
      expect(await store.boardRange('global')).toEqual([
        { member: 'ana', score: 10, reachedAt: START + 70, metadata: { name: 'Ana' }, rank: 1 },
        { member: 'bob', score: 10, reachedAt: START + 70, metadata: null, rank: 2 },
        { member: 'dee', score: 10, reachedAt: START + 87, metadata: null, rank: 3 },
        { member: 'cy', score: 7.5, reachedAt: START + 70, metadata: { level: 3 }, rank: 4 },
        { member: 'abe', score: 7.5, reachedAt: START + 87, metadata: null, rank: 5 },
      ]);
      expect(await store.boardInfo('emptied')).toEqual({ board: 'emptied', order: 'desc', count: 0 });
      expect(await store.boardInfo('large:merge')).toEqual({
        board: 'large:merge',
        order: 'desc',
        count: 1100,
      });

      // Commits continue: the next version, the next seq, ranks among the imported members.
      const patched = await store.commit([
        { op: 'patch', collection: 'counter', key: 'c1', patch: { $inc: { n: 1 } }, expectedVersion: 5 },
        { op: 'append', stream: 'game:g1', events: [{ type: 'end' }], expectedHead: 3 },
        { op: 'score', board: 'global', member: 'eve', score: 9, mode: 'best' },
        { op: 'score', board: 'speedrun', member: 'cy', score: 90, mode: 'best', order: 'asc' },
      ]);
      expect(patched.results[0]).toMatchObject({ document: { version: 6, createdAt: START + 10 } });
      expect(patched.results[1]).toMatchObject({ firstSeq: 4, lastSeq: 4 });
      expect((await store.boardMember('global', 'eve'))?.rank).toBe(4);
      expect((await store.boardMember('speedrun', 'cy'))?.rank).toBe(2);
      await expectCode(
        store.commit([{ op: 'put', collection: 'counter', key: 'c1', value: 0, expectedVersion: 5 }]),
        'VERSION_CONFLICT',
      );
      await expectCode(
        store.commit([{ op: 'put', collection: 'ttl', key: 'forever', value: 1, mustNotExist: true }]),
        'VERSION_CONFLICT',
      );
    });
  });

  it.skipIf(!target.available)('ranks large imported boards exactly (rank blocks rebuilt)', async () => {
    const clock = new ManualClock(START + 1_000_000);
    await using(target, clock, async (store) => {
      await store.importRecords(pagesOf(reference, 97));
      const expected = reference.filter(
        (r): r is Extract<RecordDump, { kind: 'member' }> => r.kind === 'member' && r.board === 'large:desc',
      );
      for (const rank of [1, 2, 128, 511, 512, 513, 514, 1024, 1025, 1100, 1299, 1300]) {
        const member = expected[rank - 1];
        expect((await store.boardMember('large:desc', member?.member as string))?.rank).toBe(rank);
        const [atRank] = await store.boardRange('large:desc', { offset: rank - 1, limit: 1 });
        expect(atRank?.member).toBe(member?.member);
      }
      // Writes after the import move members across blocks and keep ranks right.
      const ops: CommitOp[] = [];
      for (let i = 0; i < 700; i++)
        ops.push({ op: 'score', board: 'large:merge', member: `new${i}`, score: 1000 + i, mode: 'set' });
      await store.commit(ops);
      await store.commit([{ op: 'removeMember', board: 'large:merge', member: 'm00000' }]);
      expect((await store.boardMember('large:merge', 'new0'))?.rank).toBe(700);
      expect((await store.boardMember('large:merge', 'new699'))?.rank).toBe(1);
      const range = await store.boardRange('large:merge', { offset: 1000, limit: 5 });
      expect(range.map((entry) => entry.rank)).toEqual([1001, 1002, 1003, 1004, 1005]);
      expect((await store.boardInfo('large:merge'))?.count).toBe(1799);
    });
  });

  it.skipIf(!target.available)('exports one snapshot, whatever commits meanwhile', async () => {
    const clock = new ManualClock(START);
    await using(target, clock, async (store) => {
      const ops: CommitOp[] = [];
      for (let i = 0; i < 2500; i++)
        ops.push({ op: 'put', collection: 'bulk', key: `k${String(i).padStart(5, '0')}`, value: i });
      await store.commit(ops);
      await store.commit([{ op: 'score', board: 'b', member: 'm', score: 1, mode: 'set' }]);
      const iterator = store.exportRecords()[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      await store.commit([
        { op: 'put', collection: 'bulk', key: 'k99999', value: 'late' },
        { op: 'put', collection: 'bulk', key: 'k00000', value: 'changed' },
        { op: 'append', stream: 'late', events: [{ type: 'x' }] },
        { op: 'score', board: 'b', member: 'late', score: 2, mode: 'set' },
      ]);
      const records = [...(first.value as RecordDump[])];
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next())
        records.push(...next.value);
      expect(records).toHaveLength(2500 + 2);
      expect(records[0]).toMatchObject({ key: 'k00000', json: '0', version: 1 });
      expect(records.some((r) => r.kind === 'stream')).toBe(false);
      expect(records.filter((r) => r.kind === 'member')).toHaveLength(1);
      // Stopping early releases the snapshot (PostgreSQL: the reserved connection goes back).
      for (let i = 0; i < 3; i++) {
        for await (const page of store.exportRecords()) {
          expect(page.length).toBeGreaterThan(0);
          break;
        }
      }
      expect(await store.countRecords()).toMatchObject({
        documents: 2501,
        streams: 1,
        events: 1,
        members: 2,
      });
    });
  });

  it.skipIf(!target.available)('refuses a store with live records and changes nothing', async () => {
    const clock = new ManualClock(START);
    await using(target, clock, async (store) => {
      await store.commit([{ op: 'put', collection: 'existing', key: 'k', value: 1 }]);
      const error = await expectCode(store.importRecords(pagesOf(reference)), 'VERSION_CONFLICT');
      expect(error.message).toMatch(/not empty \(1 document, 0 streams/);
      expect(await collect(store.exportRecords())).toEqual([
        expect.objectContaining({ collection: 'existing', key: 'k', version: 1 }),
      ]);
    });
  });

  it.skipIf(!target.available)('imports over expired, unswept records, which go', async () => {
    const clock = new ManualClock(START);
    await using(target, clock, async (store) => {
      await store.commit([
        { op: 'put', collection: 'counter', key: 'c1', value: 'old', ttlMs: 10 },
        { op: 'append', stream: 'game:g1', events: [{ type: 'old' }], expiresAt: START + 10 },
      ]);
      clock.advance(20);
      await store.importRecords(pagesOf(reference));
      expect(await collect(store.exportRecords())).toEqual(reference);
      expect(await store.sweepExpired()).toMatchObject({ documents: {}, streams: 0 });
    });
  });

  it.skipIf(!target.available)('replaces the whole contents in one step with replace', async () => {
    const clock = new ManualClock(START);
    await using(target, clock, async (store) => {
      await populate(store, clock);
      const heard: ChangeBatch[] = [];
      store.subscribe((batch) => heard.push(batch));
      const replacement: RecordDump[] = [
        {
          kind: 'document',
          collection: 'only',
          key: 'one',
          json: '{"x":1}',
          version: 7,
          createdAt: 1,
          updatedAt: 2,
          expiresAt: null,
        },
        { kind: 'board', board: 'global', order: 'asc' },
        { kind: 'member', board: 'global', member: 'z', score: 1, reachedAt: 5, metadataJson: null },
      ];
      await store.importRecords(pagesOf(replacement), { replace: true });
      expect(await collect(store.exportRecords())).toEqual(replacement);
      expect(await store.get('counter', 'c1')).toBeUndefined();
      expect(await store.streamHead('game:g1')).toBe(0);
      expect(heard).toEqual([{ changes: [{ kind: 'unknown' }], origin: 'local' }]);
    });
  });

  it.skipIf(!target.available)(
    'rolls back when the pages fail midway, leaving the old contents',
    async () => {
      const clock = new ManualClock(START);
      await using(target, clock, async (store) => {
        const failure = new Error('the source went away');
        async function* failing(): AsyncGenerator<RecordDump[]> {
          yield reference.slice(0, 500);
          yield reference.slice(500, 1000);
          throw failure;
        }
        // The source's own error comes back unchanged.
        await expect(store.importRecords(failing())).rejects.toBe(failure);
        expect(await store.countRecords()).toEqual({
          documents: 0,
          streams: 0,
          events: 0,
          boards: 0,
          members: 0,
        });
        await store.commit([{ op: 'put', collection: 'kept', key: 'k', value: 1 }]);
        await expect(store.importRecords(failing(), { replace: true })).rejects.toBe(failure);
        expect(await collect(store.exportRecords())).toEqual([
          expect.objectContaining({ collection: 'kept' }),
        ]);
        // The store still works, and a good import still goes through.
        await store.importRecords(pagesOf(reference), { replace: true });
        expect(await collect(store.exportRecords())).toEqual(reference);
      });
    },
  );

  it.skipIf(!target.available)('refuses dumps out of order, with seq gaps or duplicates', async () => {
    const clock = new ManualClock(START);
    const document = (key: string): RecordDump => ({
      kind: 'document',
      collection: 'c',
      key,
      json: '1',
      version: 1,
      createdAt: 1,
      updatedAt: 1,
      expiresAt: null,
    });
    const bad: Array<[string, RecordDump[], RegExp]> = [
      ['documents out of order', [document('b'), document('a')], /out of order or repeated/],
      ['a repeated document', [document('a'), document('a')], /out of order or repeated/],
      [
        'a stream before a document',
        [{ kind: 'stream', stream: 's', head: 0, expiresAt: null }, document('a')],
        /a document record after the streams/,
      ],
      [
        'a seq gap',
        [
          { kind: 'stream', stream: 's', head: 2, expiresAt: null },
          { kind: 'event', stream: 's', seq: 2, type: 't', json: 'null', at: 1 },
        ],
        /breaks its seqs/,
      ],
      [
        'a head beyond the events',
        [
          { kind: 'stream', stream: 's', head: 2, expiresAt: null },
          { kind: 'event', stream: 's', seq: 1, type: 't', json: 'null', at: 1 },
        ],
        /has head 2 but 1 events/,
      ],
      [
        'members out of rank order',
        [
          { kind: 'board', board: 'b', order: 'desc' },
          { kind: 'member', board: 'b', member: 'x', score: 1, reachedAt: 1, metadataJson: null },
          { kind: 'member', board: 'b', member: 'y', score: 2, reachedAt: 1, metadataJson: null },
        ],
        /out of rank order/,
      ],
      [
        'a member twice',
        [
          { kind: 'board', board: 'b', order: 'desc' },
          { kind: 'member', board: 'b', member: 'x', score: 2, reachedAt: 1, metadataJson: null },
          { kind: 'member', board: 'b', member: 'x', score: 1, reachedAt: 1, metadataJson: null },
        ],
        /twice/,
      ],
      ['a bad version', [{ ...document('a'), version: 0 } as RecordDump], /version must be an integer >= 1/],
    ];
    await using(target, clock, async (store) => {
      for (const [, records, message] of bad) {
        const error = await expectCode(
          store.importRecords(pagesOf([document('0'), ...records], 1)),
          'INVALID_INPUT',
        );
        expect(error.message).toMatch(message);
        expect(await store.countRecords()).toMatchObject({ documents: 0, boards: 0 });
      }
    });
  });
});

/** When the target's audit entries were written, in the keepStream tests. */
const KEPT_AT = START + 500;

/** Three audit entries a target holds before an import: object data, no data, array data. */
const keptOps: CommitOp[] = [
  {
    op: 'append',
    stream: 'audit',
    events: [
      { type: 'import-rejected', data: { code: 'CORRUPT_DATA', file: '/tmp/x.ndjson' } },
      { type: 'note' },
      { type: 'list', data: [1, 2] },
    ],
  },
];

/**
 * Those entries as an import writes them back after `base` events of the dump's own; `was` is the
 * seq the first had in the target (its `originalSeq`).
 */
function keptEvents(base: number, was = 1): RecordDump[] {
  const event = (index: number, type: string, json: string): RecordDump => ({
    kind: 'event',
    stream: 'audit',
    seq: base + index + 1,
    type,
    json,
    at: KEPT_AT,
  });
  return [
    event(0, 'import-rejected', `{"code":"CORRUPT_DATA","file":"/tmp/x.ndjson","originalSeq":${was}}`),
    event(1, 'note', `{"originalSeq":${was + 1},"data":null}`),
    event(2, 'list', `{"originalSeq":${was + 2},"data":[1,2]}`),
  ];
}

const isAudit = (record: RecordDump): boolean =>
  (record.kind === 'stream' || record.kind === 'event') && record.stream === 'audit';

/** The reference dump with the kept entries after its own audit event (seq 1), the head grown to 4. */
function referenceWithKept(was = 1): RecordDump[] {
  const last = reference.findIndex((r) => r.kind === 'event' && r.stream === 'audit');
  return [
    ...reference
      .slice(0, last + 1)
      .map((r) => (r.kind === 'stream' && r.stream === 'audit' ? { ...r, head: 4 } : r)),
    ...keptEvents(1, was),
    ...reference.slice(last + 1),
  ];
}

const REFERENCE_COUNTS = {
  documents: documents(reference).length,
  streams: 2,
  events: 4,
  boards: 5,
  members: 5 + 2 + 1300 + 1100,
};

describe.each(targets)('keepStream on $name', (target) => {
  /** Opens a store on `target` holding the three audit entries (written at KEPT_AT), and uses it. */
  const withEntries = (use: (store: Store) => Promise<void>): Promise<void> =>
    using(target, new ManualClock(KEPT_AT), async (store) => {
      await store.commit(keptOps);
      await use(store);
    });

  it.skipIf(!target.available)(
    "does not count the kept stream, and writes it back after the dump's own events",
    async () => {
      await withEntries(async (store) => {
        // Without the option the stream is data like any other, as before.
        const refused = await expectCode(store.importRecords(pagesOf(reference)), 'VERSION_CONFLICT');
        expect(refused.message).toMatch(/not empty \(0 documents, 1 stream, 3 events/);
        const counts = await store.importRecords(pagesOf(reference, 7), { keepStream: 'audit' });
        expect(counts).toEqual(REFERENCE_COUNTS);
        expect(await collect(store.exportRecords())).toEqual(referenceWithKept());
        expect((await store.readStream('audit')).map((e) => [e.seq, e.type, e.data])).toEqual([
          [1, 'seeded', null],
          [2, 'import-rejected', { code: 'CORRUPT_DATA', file: '/tmp/x.ndjson', originalSeq: 1 }],
          [3, 'note', { originalSeq: 2, data: null }],
          [4, 'list', { originalSeq: 3, data: [1, 2] }],
        ]);
        // Appends continue after the kept entries.
        const appended = await store.commit([
          { op: 'append', stream: 'audit', events: [{ type: 'import' }], expectedHead: 4 },
        ]);
        expect(appended.results[0]).toMatchObject({ firstSeq: 5, lastSeq: 5 });
      });
    },
  );

  it.skipIf(!target.available)('writes a kept stream the dump lacks at its place in name order', async () => {
    const withoutAudit = reference.filter((record) => !isAudit(record));
    await withEntries(async (store) => {
      const counts = await store.importRecords(pagesOf(withoutAudit, 5), { keepStream: 'audit' });
      expect(counts).toEqual({ ...REFERENCE_COUNTS, streams: 1, events: 3 });
      const firstStream = withoutAudit.findIndex((r) => r.kind === 'stream');
      expect(withoutAudit[firstStream]).toMatchObject({ stream: 'game:g1' });
      expect(await collect(store.exportRecords())).toEqual([
        ...withoutAudit.slice(0, firstStream),
        { kind: 'stream', stream: 'audit', head: 3, expiresAt: null },
        ...keptEvents(0),
        ...withoutAudit.slice(firstStream),
      ]);
    });
  });

  it.skipIf(!target.available)(
    'still refuses other live records, and keeps the stream when replacing',
    async () => {
      await withEntries(async (store) => {
        await store.commit([{ op: 'put', collection: 'mine', key: 'k', value: 1 }]);
        const error = await expectCode(
          store.importRecords(pagesOf(reference), { keepStream: 'audit' }),
          'VERSION_CONFLICT',
        );
        expect(error.message).toMatch(/not empty \(1 document, 0 streams, 0 events, 0 boards, 0 members\)/);
        expect(await store.get('mine', 'k')).toMatchObject({ value: 1 });
        await store.importRecords(pagesOf(reference), { keepStream: 'audit', replace: true });
        expect(await collect(store.exportRecords())).toEqual(referenceWithKept());
      });
    },
  );

  it.skipIf(!target.available)(
    'does not write twice what the dump holds already (the target was loaded from it before)',
    async () => {
      const clock = new ManualClock(KEPT_AT);
      await using(target, clock, async (store) => {
        await store.importRecords(pagesOf(reference), { keepStream: 'audit' });
        await store.commit(keptOps);
        await store.commit([{ op: 'put', collection: 'counter', key: 'c1', value: 'changed since' }]);
        await store.importRecords(pagesOf(reference), { keepStream: 'audit', replace: true });
        // The dump's own entry (seq 1) once, then the target's own three (seqs 2 to 4 before).
        expect(await collect(store.exportRecords())).toEqual(referenceWithKept(2));
      });
    },
  );

  it.skipIf(!target.available)('leaves the kept stream as it was when the import fails', async () => {
    await withEntries(async (store) => {
      const failure = new Error('the source went away');
      async function* failing(): AsyncGenerator<RecordDump[]> {
        yield reference.slice(0, 400);
        throw failure;
      }
      await expect(store.importRecords(failing(), { keepStream: 'audit' })).rejects.toBe(failure);
      const swapped = [reference[1], reference[0], ...reference.slice(2)] as RecordDump[];
      await expectCode(store.importRecords(pagesOf(swapped), { keepStream: 'audit' }), 'INVALID_INPUT');
      expect(await collect(store.exportRecords())).toEqual([
        { kind: 'stream', stream: 'audit', head: 3, expiresAt: null },
        {
          kind: 'event',
          stream: 'audit',
          seq: 1,
          type: 'import-rejected',
          json: '{"code":"CORRUPT_DATA","file":"/tmp/x.ndjson"}',
          at: KEPT_AT,
        },
        { kind: 'event', stream: 'audit', seq: 2, type: 'note', json: 'null', at: KEPT_AT },
        { kind: 'event', stream: 'audit', seq: 3, type: 'list', json: '[1,2]', at: KEPT_AT },
      ]);
    });
  });

  it.skipIf(!target.available)(
    'gives a target without the stream, or with it expired, exactly the dump',
    async () => {
      const clock = new ManualClock(KEPT_AT);
      await using(target, clock, async (store) => {
        await store.importRecords(pagesOf(reference), { keepStream: 'audit' });
        expect(await collect(store.exportRecords())).toEqual(reference);
      });
      await using(target, clock, async (store) => {
        await store.commit([
          { op: 'append', stream: 'audit', events: [{ type: 'old' }], expiresAt: clock.now() + 10 },
        ]);
        clock.advance(20);
        await store.importRecords(pagesOf(reference), { keepStream: 'audit' });
        expect(await collect(store.exportRecords())).toEqual(reference);
      });
    },
  );
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

describe.each(targets.filter((t) => t.name !== 'memory'))('memory → $name → memory', (target) => {
  it.skipIf(!target.available)('copies exactly both ways', async () => {
    const clock = new ManualClock(START + 5_000);
    const there = await using(target, clock, async (store) => {
      await store.importRecords(pagesOf(reference, 1000));
      return collect(store.exportRecords());
    });
    expect(there).toEqual(reference);
    const back = new Store(await openMemoryDriver(), { clock: clock.now });
    await back.importRecords(pagesOf(there));
    expect(await collect(back.exportRecords())).toEqual(reference);
    await back.close();
  });
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
