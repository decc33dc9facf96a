/** Event appends: one committer after another, and 100 concurrent committers (group commit). */
import { join } from 'node:path';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import { line, report, scratchDir, summarize, timeSequential } from '../support/stats.js';

const eventData = (i: number) => ({ player: `p${i % 4}`, action: 'bet', amount: (i * 13) % 500, n: i });

export async function benchAppends(sequential: number, concurrentTotal: number): Promise<void> {
  const dir = scratchDir('streams');
  try {
    line('\n## Event append (durability normal)');
    const store = new Store(await openSqliteDriver({ path: join(dir.path, 'savepoint.db') }));
    const single = await timeSequential(sequential, (i) =>
      store.commit([
        { op: 'append', stream: `game:${i % 1000}`, events: [{ type: 'bet', data: eventData(i) }] },
      ]),
    );
    report('1 committer, 1 event per commit', single);

    const committers = 100;
    const perCommitter = Math.ceil(concurrentTotal / committers);
    const latencies = new Float64Array(committers * perCommitter);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: committers }, async (_, c) => {
        for (let i = 0; i < perCommitter; i++) {
          const n = c * perCommitter + i;
          const t0 = performance.now();
          await store.commit([
            {
              op: 'append',
              stream: `game:${(c * 7919 + i * 31) % 1000}`,
              events: [{ type: 'bet', data: eventData(n) }],
            },
          ]);
          latencies[n] = performance.now() - t0;
        }
      }),
    );
    const grouped = summarize(latencies, performance.now() - started);
    report('100 committers over 1,000 streams', grouped, { name: '1 committer', result: single });
    await store.close();
  } finally {
    dir.remove();
  }
}
