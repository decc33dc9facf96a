/**
 * Keyv on Savepoint against Keyv on @keyv/sqlite: the same Keyv front, the same workload (sets
 * then gets of ~600-byte JSON over 1,000 keys, one call at a time), in alternating rounds so that
 * whatever else the machine does falls on both. Gets are ten times as many as sets: they are
 * cheap enough that a single stall of a shared machine would otherwise decide the ratio.
 */
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { KeyvSavepoint } from '../../src/adapters/keyv/index.js';
import {
  fmt,
  gameDocument,
  type LatencySummary,
  line,
  report,
  scratchDir,
  timeSequential,
} from '../support/stats.js';

const ROUNDS = 3;

interface Side {
  readonly name: string;
  readonly open: (dir: string) => Keyv;
}

const sides: readonly Side[] = [
  {
    name: 'Keyv + @keyv/sqlite',
    open: (dir) => new Keyv({ store: new KeyvSqlite(`sqlite://${join(dir, 'keyv.db')}`) }),
  },
  {
    name: 'Keyv + savepoint/keyv (SQLite)',
    open: (dir) => new Keyv({ store: new KeyvSavepoint({ url: `sqlite:${join(dir, 'savepoint.db')}` }) }),
  },
];

export async function benchKeyv(count: number): Promise<void> {
  line(
    `\n## Keyv: ${fmt(count)} sets then ${fmt(count * 10)} gets of ~600-byte JSON over 1,000 keys, sequential; ${ROUNDS} alternating rounds (SQLite, Savepoint durability normal)`,
  );
  const results = sides.map(() => ({ sets: [] as LatencySummary[], gets: [] as LatencySummary[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, side] of sides.entries()) {
      const dir = scratchDir('keyv');
      try {
        const keyv = side.open(dir.path);
        // Both stores open lazily; the first call pays for it and is not timed.
        await keyv.get('warm-up');
        const sets = await timeSequential(count, (i) => keyv.set(`g${i % 1000}`, gameDocument(i)));
        const gets = await timeSequential(count * 10, (i) => keyv.get(`g${(i * 7919) % 1000}`));
        await keyv.disconnect();
        results[index]?.sets.push(sets);
        results[index]?.gets.push(gets);
      } finally {
        dir.remove();
      }
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    const [base, ours] = results.map((r) => ({
      set: r.sets[round] as LatencySummary,
      get: r.gets[round] as LatencySummary,
    }));
    if (base === undefined || ours === undefined) continue;
    report(`round ${round + 1}: ${sides[0]?.name} set`, base.set);
    report(`round ${round + 1}: ${sides[1]?.name} set`, ours.set, { name: '@keyv/sqlite', result: base.set });
    report(`round ${round + 1}: ${sides[0]?.name} get`, base.get);
    report(`round ${round + 1}: ${sides[1]?.name} get`, ours.get, { name: '@keyv/sqlite', result: base.get });
  }
  const total = (list: readonly LatencySummary[]) => list.reduce((sum, r) => sum + r.count / r.perSecond, 0);
  const [base, ours] = results;
  if (base === undefined || ours === undefined) return;
  line(
    `all rounds: set ${fmt(total(base.sets) / total(ours.sets), 1)}x, get ${fmt(total(base.gets) / total(ours.gets), 1)}x the throughput of @keyv/sqlite`,
  );
}
