/**
 * The dump contract (`exportRecords`, `importRecords`, `countRecords`): exact round trips (versions,
 * times, expiry, seqs, ranks, metadata) in the canonical order the memory driver writes, snapshots,
 * all-or-nothing imports, refusals, a kept stream, and commits continuing after an import. Each test
 * opens its own fresh store.
 */
import assert from 'node:assert/strict';
import { openMemoryDriver } from '../drivers/memory/memory-driver.js';
import { ManualClock } from '../engine/clock.js';
import type { RecordDump } from '../engine/driver.js';
import { type ChangeBatch, Store } from '../engine/store.js';
import type { CommitOp } from '../engine/types.js';
import { equal, expectCode, like, matchObject, rejectsWith } from './assertions.js';
import type { ConformanceContext } from './context.js';
import { collect, pagesOf, populate, START } from './dump-fixture.js';

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
function referenceWithKept(reference: readonly RecordDump[], was = 1): RecordDump[] {
  const last = reference.findIndex((r) => r.kind === 'event' && r.stream === 'audit');
  return [
    ...reference
      .slice(0, last + 1)
      .map((r) => (r.kind === 'stream' && r.stream === 'audit' ? { ...r, head: 4 } : r)),
    ...keptEvents(1, was),
    ...reference.slice(last + 1),
  ];
}

/** What the reference dump holds of each kind. */
const referenceCounts = (reference: readonly RecordDump[]) => ({
  documents: documents(reference).length,
  streams: 2,
  events: 4,
  boards: 5,
  members: 5 + 2 + 1300 + 1100,
});

const documents = (records: readonly RecordDump[]) => records.filter((r) => r.kind === 'document');

let referenceRecords: Promise<RecordDump[]> | undefined;

/** The fixture's dump as the memory driver writes it: the reference every driver must match. */
function referenceDump(): Promise<RecordDump[]> {
  referenceRecords ??= (async () => {
    const clock = new ManualClock(START);
    const store = new Store(await openMemoryDriver(), { clock: clock.now });
    try {
      await populate(store, clock);
      return await collect(store.exportRecords());
    } finally {
      await store.close();
    }
  })();
  return referenceRecords;
}

export function dumpTests({ describe, it, beforeAll, using }: ConformanceContext): void {
  describe('dump', () => {
    let reference: readonly RecordDump[] = [];
    beforeAll(async () => {
      reference = await referenceDump();
    });

    describe('dump and load', () => {
      it('exports its own writes exactly as the memory driver does', async () => {
        const clock = new ManualClock(START);
        await using(clock, async (store) => {
          await populate(store, clock);
          const records = await collect(store.exportRecords());
          equal(records, reference);
          const counts = await store.countRecords();
          equal(counts, {
            documents: documents(reference).length,
            streams: 2,
            events: 4,
            boards: 5,
            members: 5 + 2 + 1300 + 1100,
          });
        });
      });

      it('imports a dump exactly, and commits continue from it', async () => {
        const clock = new ManualClock(START + 1_000_000);
        await using(clock, async (store) => {
          const counts = await store.importRecords(pagesOf(reference));
          assert.equal(counts.documents, documents(reference).length);
          equal(await collect(store.exportRecords()), reference);

          const counter = await store.get('counter', 'c1');
          matchObject(counter, {
            value: { n: 4 },
            version: 5,
            createdAt: START + 10,
            updatedAt: START + 38,
          });
          equal((await store.get('docs', 'a'))?.value, {
            nested: { list: [1, 2, { deep: true }], empty: {} },
          });
          assert.equal((await store.get('docs', 'Z'))?.value, '\u0000 nul and lone \ud800 surrogate');
          assert.equal((await store.get('docs', '\uffff'))?.value, 1e21);
          assert.equal((await store.get('docs', '🎮'))?.value, -0.000001);
          assert.equal((await store.get('docs', 'ключ'))?.value, 12345.678);
          assert.equal(await store.streamHead('game:g1'), 3);
          const events = await store.readStream('game:g1');
          equal(
            events.map((e) => [e.seq, e.type, e.at]),
            [
              [1, 'start', START + 46],
              [2, 'move', START + 57],
              [3, 'move', START + 57],
            ],
          );
          equal(await store.boardRange('global'), [
            { member: 'ana', score: 10, reachedAt: START + 70, metadata: { name: 'Ana' }, rank: 1 },
            { member: 'bob', score: 10, reachedAt: START + 70, metadata: null, rank: 2 },
            { member: 'dee', score: 10, reachedAt: START + 87, metadata: null, rank: 3 },
            { member: 'cy', score: 7.5, reachedAt: START + 70, metadata: { level: 3 }, rank: 4 },
            { member: 'abe', score: 7.5, reachedAt: START + 87, metadata: null, rank: 5 },
          ]);
          equal(await store.boardInfo('emptied'), { board: 'emptied', order: 'desc', count: 0 });
          equal(await store.boardInfo('large:merge'), {
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
          matchObject(patched.results[0], { document: { version: 6, createdAt: START + 10 } });
          matchObject(patched.results[1], { firstSeq: 4, lastSeq: 4 });
          assert.equal((await store.boardMember('global', 'eve'))?.rank, 4);
          assert.equal((await store.boardMember('speedrun', 'cy'))?.rank, 2);
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

      it('ranks large imported boards exactly (rank blocks rebuilt)', async () => {
        const clock = new ManualClock(START + 1_000_000);
        await using(clock, async (store) => {
          await store.importRecords(pagesOf(reference, 97));
          const expected = reference.filter(
            (r): r is Extract<RecordDump, { kind: 'member' }> =>
              r.kind === 'member' && r.board === 'large:desc',
          );
          for (const rank of [1, 2, 128, 511, 512, 513, 514, 1024, 1025, 1100, 1299, 1300]) {
            const member = expected[rank - 1];
            assert.equal((await store.boardMember('large:desc', member?.member as string))?.rank, rank);
            const [atRank] = await store.boardRange('large:desc', { offset: rank - 1, limit: 1 });
            assert.equal(atRank?.member, member?.member);
          }
          // Writes after the import move members across blocks and keep ranks right.
          const ops: CommitOp[] = [];
          for (let i = 0; i < 700; i++)
            ops.push({ op: 'score', board: 'large:merge', member: `new${i}`, score: 1000 + i, mode: 'set' });
          await store.commit(ops);
          await store.commit([{ op: 'removeMember', board: 'large:merge', member: 'm00000' }]);
          assert.equal((await store.boardMember('large:merge', 'new0'))?.rank, 700);
          assert.equal((await store.boardMember('large:merge', 'new699'))?.rank, 1);
          const range = await store.boardRange('large:merge', { offset: 1000, limit: 5 });
          equal(
            range.map((entry) => entry.rank),
            [1001, 1002, 1003, 1004, 1005],
          );
          assert.equal((await store.boardInfo('large:merge'))?.count, 1799);
        });
      });

      it('exports one snapshot, whatever commits meanwhile', async () => {
        const clock = new ManualClock(START);
        await using(clock, async (store) => {
          const ops: CommitOp[] = [];
          for (let i = 0; i < 2500; i++)
            ops.push({ op: 'put', collection: 'bulk', key: `k${String(i).padStart(5, '0')}`, value: i });
          await store.commit(ops);
          await store.commit([{ op: 'score', board: 'b', member: 'm', score: 1, mode: 'set' }]);
          const iterator = store.exportRecords()[Symbol.asyncIterator]();
          const first = await iterator.next();
          assert.equal(first.done, false);
          await store.commit([
            { op: 'put', collection: 'bulk', key: 'k99999', value: 'late' },
            { op: 'put', collection: 'bulk', key: 'k00000', value: 'changed' },
            { op: 'append', stream: 'late', events: [{ type: 'x' }] },
            { op: 'score', board: 'b', member: 'late', score: 2, mode: 'set' },
          ]);
          const records = [...(first.value as RecordDump[])];
          for (let next = await iterator.next(); next.done !== true; next = await iterator.next())
            records.push(...next.value);
          assert.equal(records.length, 2500 + 2);
          matchObject(records[0], { key: 'k00000', json: '0', version: 1 });
          assert.equal(
            records.some((r) => r.kind === 'stream'),
            false,
          );
          assert.equal(records.filter((r) => r.kind === 'member').length, 1);
          // Stopping early releases the snapshot (PostgreSQL: the reserved connection goes back).
          for (let i = 0; i < 3; i++) {
            for await (const page of store.exportRecords()) {
              assert.ok(page.length > 0);
              break;
            }
          }
          matchObject(await store.countRecords(), {
            documents: 2501,
            streams: 1,
            events: 1,
            members: 2,
          });
        });
      });

      it('refuses a store with live records and changes nothing', async () => {
        const clock = new ManualClock(START);
        await using(clock, async (store) => {
          await store.commit([{ op: 'put', collection: 'existing', key: 'k', value: 1 }]);
          const error = await expectCode(store.importRecords(pagesOf(reference)), 'VERSION_CONFLICT');
          assert.match(error.message, /not empty \(1 document, 0 streams/);
          equal(await collect(store.exportRecords()), [
            like({ collection: 'existing', key: 'k', version: 1 }),
          ]);
        });
      });

      it('imports over expired, unswept records, which go', async () => {
        const clock = new ManualClock(START);
        await using(clock, async (store) => {
          await store.commit([
            { op: 'put', collection: 'counter', key: 'c1', value: 'old', ttlMs: 10 },
            { op: 'append', stream: 'game:g1', events: [{ type: 'old' }], expiresAt: START + 10 },
          ]);
          clock.advance(20);
          await store.importRecords(pagesOf(reference));
          equal(await collect(store.exportRecords()), reference);
          matchObject(await store.sweepExpired(), { documents: {}, streams: 0 });
        });
      });

      it('replaces the whole contents in one step with replace', async () => {
        const clock = new ManualClock(START);
        await using(clock, async (store) => {
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
          equal(await collect(store.exportRecords()), replacement);
          assert.equal(await store.get('counter', 'c1'), undefined);
          assert.equal(await store.streamHead('game:g1'), 0);
          equal(heard, [{ changes: [{ kind: 'unknown' }], origin: 'local' }]);
        });
      });

      it('rolls back when the pages fail midway, leaving the old contents', async () => {
        const clock = new ManualClock(START);
        await using(clock, async (store) => {
          const failure = new Error('the source went away');
          async function* failing(): AsyncGenerator<RecordDump[]> {
            yield reference.slice(0, 500);
            yield reference.slice(500, 1000);
            throw failure;
          }
          // The source's own error comes back unchanged.
          await rejectsWith(store.importRecords(failing()), failure);
          equal(await store.countRecords(), {
            documents: 0,
            streams: 0,
            events: 0,
            boards: 0,
            members: 0,
          });
          await store.commit([{ op: 'put', collection: 'kept', key: 'k', value: 1 }]);
          await rejectsWith(store.importRecords(failing(), { replace: true }), failure);
          equal(await collect(store.exportRecords()), [like({ collection: 'kept' })]);
          // The store still works, and a good import still goes through.
          await store.importRecords(pagesOf(reference), { replace: true });
          equal(await collect(store.exportRecords()), reference);
        });
      });

      it('refuses dumps out of order, with seq gaps or duplicates', async () => {
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
          [
            'a bad version',
            [{ ...document('a'), version: 0 } as RecordDump],
            /version must be an integer >= 1/,
          ],
        ];
        await using(clock, async (store) => {
          for (const [, records, message] of bad) {
            const error = await expectCode(
              store.importRecords(pagesOf([document('0'), ...records], 1)),
              'INVALID_INPUT',
            );
            assert.match(error.message, message);
            matchObject(await store.countRecords(), { documents: 0, boards: 0 });
          }
        });
      });
    });

    describe('keepStream', () => {
      /** Opens a store on `target` holding the three audit entries (written at KEPT_AT), and uses it. */
      const withEntries = (use: (store: Store) => Promise<void>): Promise<void> =>
        using(new ManualClock(KEPT_AT), async (store) => {
          await store.commit(keptOps);
          await use(store);
        });

      it("does not count the kept stream, and writes it back after the dump's own events", async () => {
        await withEntries(async (store) => {
          // Without the option the stream is data like any other, as before.
          const refused = await expectCode(store.importRecords(pagesOf(reference)), 'VERSION_CONFLICT');
          assert.match(refused.message, /not empty \(0 documents, 1 stream, 3 events/);
          const counts = await store.importRecords(pagesOf(reference, 7), { keepStream: 'audit' });
          equal(counts, referenceCounts(reference));
          equal(await collect(store.exportRecords()), referenceWithKept(reference));
          equal(
            (await store.readStream('audit')).map((e) => [e.seq, e.type, e.data]),
            [
              [1, 'seeded', null],
              [2, 'import-rejected', { code: 'CORRUPT_DATA', file: '/tmp/x.ndjson', originalSeq: 1 }],
              [3, 'note', { originalSeq: 2, data: null }],
              [4, 'list', { originalSeq: 3, data: [1, 2] }],
            ],
          );
          // Appends continue after the kept entries.
          const appended = await store.commit([
            { op: 'append', stream: 'audit', events: [{ type: 'import' }], expectedHead: 4 },
          ]);
          matchObject(appended.results[0], { firstSeq: 5, lastSeq: 5 });
        });
      });

      it('writes a kept stream the dump lacks at its place in name order', async () => {
        const withoutAudit = reference.filter((record) => !isAudit(record));
        await withEntries(async (store) => {
          const counts = await store.importRecords(pagesOf(withoutAudit, 5), { keepStream: 'audit' });
          equal(counts, { ...referenceCounts(reference), streams: 1, events: 3 });
          const firstStream = withoutAudit.findIndex((r) => r.kind === 'stream');
          matchObject(withoutAudit[firstStream], { stream: 'game:g1' });
          equal(await collect(store.exportRecords()), [
            ...withoutAudit.slice(0, firstStream),
            { kind: 'stream', stream: 'audit', head: 3, expiresAt: null },
            ...keptEvents(0),
            ...withoutAudit.slice(firstStream),
          ]);
        });
      });

      it('still refuses other live records, and keeps the stream when replacing', async () => {
        await withEntries(async (store) => {
          await store.commit([{ op: 'put', collection: 'mine', key: 'k', value: 1 }]);
          const error = await expectCode(
            store.importRecords(pagesOf(reference), { keepStream: 'audit' }),
            'VERSION_CONFLICT',
          );
          assert.match(error.message, /not empty \(1 document, 0 streams, 0 events, 0 boards, 0 members\)/);
          matchObject(await store.get('mine', 'k'), { value: 1 });
          await store.importRecords(pagesOf(reference), { keepStream: 'audit', replace: true });
          equal(await collect(store.exportRecords()), referenceWithKept(reference));
        });
      });

      it('does not write twice what the dump holds already (the target was loaded from it before)', async () => {
        const clock = new ManualClock(KEPT_AT);
        await using(clock, async (store) => {
          await store.importRecords(pagesOf(reference), { keepStream: 'audit' });
          await store.commit(keptOps);
          await store.commit([{ op: 'put', collection: 'counter', key: 'c1', value: 'changed since' }]);
          await store.importRecords(pagesOf(reference), { keepStream: 'audit', replace: true });
          // The dump's own entry (seq 1) once, then the target's own three (seqs 2 to 4 before).
          equal(await collect(store.exportRecords()), referenceWithKept(reference, 2));
        });
      });

      it('leaves the kept stream as it was when the import fails', async () => {
        await withEntries(async (store) => {
          const failure = new Error('the source went away');
          async function* failing(): AsyncGenerator<RecordDump[]> {
            yield reference.slice(0, 400);
            throw failure;
          }
          await rejectsWith(store.importRecords(failing(), { keepStream: 'audit' }), failure);
          const swapped = [reference[1], reference[0], ...reference.slice(2)] as RecordDump[];
          await expectCode(store.importRecords(pagesOf(swapped), { keepStream: 'audit' }), 'INVALID_INPUT');
          equal(await collect(store.exportRecords()), [
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

      it('gives a target without the stream, or with it expired, exactly the dump', async () => {
        const clock = new ManualClock(KEPT_AT);
        await using(clock, async (store) => {
          await store.importRecords(pagesOf(reference), { keepStream: 'audit' });
          equal(await collect(store.exportRecords()), reference);
        });
        await using(clock, async (store) => {
          await store.commit([
            { op: 'append', stream: 'audit', events: [{ type: 'old' }], expiresAt: clock.now() + 10 },
          ]);
          clock.advance(20);
          await store.importRecords(pagesOf(reference), { keepStream: 'audit' });
          equal(await collect(store.exportRecords()), reference);
        });
      });
    });

    describe('memory → driver → memory', () => {
      it('copies exactly both ways', async () => {
        const clock = new ManualClock(START + 5_000);
        const there = await using(clock, async (store) => {
          await store.importRecords(pagesOf(reference, 1000));
          return collect(store.exportRecords());
        });
        equal(there, reference);
        const back = new Store(await openMemoryDriver(), { clock: clock.now });
        await back.importRecords(pagesOf(there));
        equal(await collect(back.exportRecords()), reference);
        await back.close();
      });
    });
  });
}
