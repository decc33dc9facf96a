/**
 * A store's worth of every kind of record, for the dump tests: documents with several versions,
 * expiry (live and already expired), awkward keys and values; streams with events at several
 * times; boards in both orders with ties, metadata, an emptied board and boards large enough to
 * need several rank blocks on PostgreSQL.
 */
import type { ManualClock } from '../engine/clock.js';
import type { RecordDump } from '../engine/driver.js';
import type { Store } from '../engine/store.js';
import type { CommitOp, JsonValue } from '../engine/types.js';

export const START = Date.UTC(2030, 0, 1);

/** Keys whose UTF-16 order differs from their code-point order, and other oddities. */
export const AWKWARD_KEYS = ['a', 'a:b', 'Z', '\uffff', '🎮', 'ключ', 'a\u{10ffff}', 'x'.repeat(200)];

export const AWKWARD_VALUES: JsonValue[] = [
  { nested: { list: [1, 2, { deep: true }], empty: {} } },
  'line\nbreak and "quotes" and \\ backslash',
  '\u0000 nul and lone \ud800 surrogate',
  1e21,
  -0.000001,
  12345.678,
  null,
  true,
  [],
  { __proto__key: 1, 'key with spaces': 'v', ünï: 'çødé', emoji: '🎮' },
];

/** Writes the fixture; `membersLarge` sets the size of the large boards. */
export async function populate(store: Store, clock: ManualClock, membersLarge = 1300): Promise<void> {
  clock.set(START);
  const puts: CommitOp[] = AWKWARD_KEYS.map((key, index) => ({
    op: 'put',
    collection: 'docs',
    key,
    value: AWKWARD_VALUES[index % AWKWARD_VALUES.length] ?? null,
  }));
  await store.commit(puts);
  clock.advance(10);
  await store.commit([{ op: 'put', collection: 'counter', key: 'c1', value: { n: 0 } }]);
  for (let i = 0; i < 4; i++) {
    clock.advance(7);
    await store.commit([{ op: 'patch', collection: 'counter', key: 'c1', patch: { $inc: { n: 1 } } }]);
  }
  clock.advance(3);
  await store.commit([
    { op: 'put', collection: 'ttl', key: 'lives', value: 'until later', ttlMs: 3_600_000 },
    { op: 'put', collection: 'ttl', key: 'dies', value: 'soon', ttlMs: 50 },
    { op: 'put', collection: 'ttl', key: 'forever', value: 'no expiry' },
  ]);
  clock.advance(5);
  await store.commit([
    { op: 'append', stream: 'game:g1', events: [{ type: 'start', data: { seed: 42 } }] },
    { op: 'append', stream: 'game:dies', events: [{ type: 'x' }], expiresAt: START + 60 },
  ]);
  clock.advance(11);
  await store.commit([
    {
      op: 'append',
      stream: 'game:g1',
      events: [
        { type: 'move', data: { from: 'e2', to: 'e4' } },
        { type: 'move', data: 'text\nwith newline' },
      ],
      expiresAt: START + 86_400_000,
    },
    { op: 'append', stream: 'audit', events: [{ type: 'seeded' }] },
  ]);
  clock.advance(13);
  await store.commit([
    { op: 'score', board: 'global', member: 'ana', score: 10, mode: 'best', metadata: { name: 'Ana' } },
    { op: 'score', board: 'global', member: 'bob', score: 10, mode: 'best' },
    { op: 'score', board: 'global', member: 'cy', score: 7.5, mode: 'best', metadata: { level: 3 } },
    { op: 'score', board: 'speedrun', member: 'ana', score: 93.2, mode: 'best', order: 'asc' },
    { op: 'score', board: 'emptied', member: 'gone', score: 1, mode: 'set' },
  ]);
  clock.advance(17);
  await store.commit([
    // Ties: same score, later reachedAt ranks lower; same score and time rank by member.
    { op: 'score', board: 'global', member: 'dee', score: 10, mode: 'best' },
    { op: 'score', board: 'global', member: 'abe', score: 7.5, mode: 'incr' },
    { op: 'score', board: 'speedrun', member: 'bob', score: 88.1, mode: 'best' },
    { op: 'removeMember', board: 'emptied', member: 'gone' },
  ]);
  for (const [board, size] of [
    ['large:desc', membersLarge],
    ['large:merge', 1100],
  ] as const) {
    clock.advance(1);
    const ops: CommitOp[] = [];
    for (let i = 0; i < size; i++) {
      // Many ties on score, so reachedAt and member order matter.
      ops.push({ op: 'score', board, member: `m${String(i).padStart(5, '0')}`, score: i % 97, mode: 'set' });
    }
    for (let start = 0; start < ops.length; start += 400) {
      await store.commit(ops.slice(start, start + 400));
      clock.advance(1);
    }
  }
  // Past the short TTLs: `ttl/dies` and `game:dies` have expired but are not swept.
  clock.advance(100);
}

/** Every record of every page. */
export async function collect(pages: AsyncIterable<readonly RecordDump[]>): Promise<RecordDump[]> {
  const records: RecordDump[] = [];
  for await (const page of pages) records.push(...page);
  return records;
}

/** Pages of `size` records over `records` (as an import source). */
export async function* pagesOf(records: readonly RecordDump[], size = 333): AsyncGenerator<RecordDump[]> {
  for (let start = 0; start < records.length; start += size) yield records.slice(start, start + size);
}
