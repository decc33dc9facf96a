/**
 * Where the WAL checkpoints run, and what the event loop feels of it: game writes (one event and a
 * ~1 KB snapshot per commit) paced at a fixed rate, latency measured from each commit's scheduled
 * time, with checkpoints in a worker thread (the default, wal-checkpointer.ts) and, in the same run,
 * left to SQLite on the event loop's own connection. The append buffer settles during the run.
 */
import { join } from 'node:path';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import { fmt, line, scratchDir } from '../support/stats.js';

const RATE = 2000;
const STREAMS = 200;
/** Seconds left out at the start (the worker starts after 256 batches; JIT). */
const SKIPPED_SECONDS = 2;

interface Paced {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly over5ms: number;
  readonly count: number;
}

async function pacedWrites(store: Store, seconds: number): Promise<Paced> {
  const total = RATE * seconds;
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  let next = 0;
  await new Promise<void>((done) => {
    const dispatch = () => {
      const now = performance.now();
      while (next < total && start + (next * 1000) / RATE <= now) {
        const scheduled = start + (next * 1000) / RATE;
        const i = next++;
        const game = `g${i % STREAMS}`;
        pending.push(
          store
            .commit([
              { op: 'append', stream: `game:${game}`, events: [{ type: 'bet', data: { chips: i % 200 } }] },
              { op: 'put', collection: 'game', key: game, value: { table: 'x'.repeat(900), action: i } },
            ])
            .then(() => {
              if (i >= RATE * SKIPPED_SECONDS) latencies.push(performance.now() - scheduled);
            }),
        );
      }
      if (next < total) setImmediate(dispatch);
      else done();
    };
    dispatch();
  });
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: at(1),
    over5ms: latencies.filter((ms) => ms > 5).length,
    count: latencies.length,
  };
}

export async function benchCheckpoints(seconds: number): Promise<void> {
  line(
    `\n## Paced game writes, ${fmt(RATE)}/s for ${fmt(seconds)} s over ${STREAMS} games (append + ~1 KB put per commit), latency from the scheduled time, first ${SKIPPED_SECONDS} s left out (durability normal)`,
  );
  const describe = (name: string, r: Paced) =>
    `${name.padEnd(44)} p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  p99.9 ${fmt(r.p999, 1)} ms  max ${fmt(r.max, 1)} ms  over 5 ms: ${fmt(r.over5ms)} of ${fmt(r.count)}`;
  const results: Paced[] = [];
  // Alternating, twice each: this machine's neighbours come and go.
  for (const offThreadCheckpoints of [true, false, true, false]) {
    const dir = scratchDir('checkpoints');
    try {
      const store = new Store(
        await openSqliteDriver({
          path: join(dir.path, 'savepoint.db'),
          offThreadCheckpoints,
          reserveBytes: 0,
        }),
      );
      const result = await pacedWrites(store, seconds);
      await store.close();
      results.push(result);
      line(
        describe(
          offThreadCheckpoints ? 'checkpoints in a worker (default)' : 'checkpoints on the event loop',
          result,
        ),
      );
    } finally {
      dir.remove();
    }
  }
  const meanP99 = (offset: number) => ((results[offset]?.p99 ?? 0) + (results[offset + 2]?.p99 ?? 0)) / 2;
  line(
    `mean p99: worker ${fmt(meanP99(0), 2)} ms, event loop ${fmt(meanP99(1), 2)} ms = ${fmt(meanP99(1) / meanP99(0), 2)}x`,
  );
}
