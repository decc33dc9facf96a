/**
 * Three real `savepoint serve` processes on one PostgreSQL schema and one Redis prefix; one of
 * them (B) is paused with SIGSTOP, the stand-in for a long GC pause or a blocked event loop:
 * - the others keep acknowledging writes (every write succeeds; their latencies are printed, not
 *   asserted), and the healthy peer C reads each of them at once;
 * - B first caches the old values in its L1; reads sent to B while it is stopped wait in its socket
 *   buffers beside the bus messages it missed, and once B resumes they answer the newest value,
 *   as do the reads that follow. Repeated over several rounds and many keys.
 *
 * The suite owns its schema and Redis prefix and removes both at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SavepointClient } from '../../src/client/index.js';
import { testCluster } from '../support/cluster.js';
import type { ServeProcess } from '../support/processes.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();

const cluster = testCluster('sp_e2e_pause');
const tag = cluster.run.replaceAll('_', '-');

/**
 * Large values (200 × 40 KB a round) make a backlog of bus messages larger than one socket read
 * (libuv reads at most 2 MiB per turn), so that once resumed B handles the queued HTTP requests
 * while the messages it missed are still arriving: with the L1 served on a live bus alone (no
 * lease), this test finds hundreds of stale reads.
 */
const pad = 'x'.repeat(40_000);

const KEYS = 200;
const ROUNDS = 2;
const WRITERS = 8;

const clientOf = (instance: ServeProcess): SavepointClient =>
  createClient({ baseUrl: instance.url, apiKey: cluster.apiKey, timeoutMs: 20_000 });

/** Runs `task` over `items` with at most `limit` at a time. */
async function forEachLimit<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

const percentile = (sorted: readonly number[], fraction: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;

describe.skipIf(!pgUp || !redisUp)('one paused instance among three on PostgreSQL + Redis', () => {
  let a: ServeProcess;
  let b: ServeProcess;
  let c: ServeProcess;

  beforeAll(async () => {
    // Three at once on a busy machine can take longer than the default 20 s.
    const start = (name: string) => cluster.start(name, { startTimeoutMs: 60_000 });
    [a, b, c] = await Promise.all([start('A'), start('B'), start('C')]);
  }, 120_000);

  afterAll(() => cluster.cleanup(), 30_000);

  it('the others keep writing while B is stopped, and B serves only the newest values once resumed', async () => {
    const ca = clientOf(a);
    const cb = clientOf(b);
    const cc = clientOf(c);
    const collection = `paused-${tag}`;
    const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
    type Value = { key: string; round: number; pad: string };
    await forEachLimit(keys, WRITERS, async (key) => {
      await ca.putDocument(collection, key, { key, round: 0, pad });
    });
    const stale: string[] = [];
    const failures: string[] = [];
    const latencies: number[] = [];
    const check = (who: string, key: string, round: number, read: { value: Value } | undefined) => {
      if (read?.value.round !== round)
        stale.push(`${who} ${key}: round ${read?.value.round ?? 'nothing'}, newest ${round}`);
    };

    for (let round = 1; round <= ROUNDS; round++) {
      // B holds the previous round's values in its L1 (the second read of each key is an L1 hit).
      for (let pass = 0; pass < 2; pass++) {
        await forEachLimit(keys, WRITERS, async (key) =>
          check('B before', key, round - 1, await cb.getDocument<Value>(collection, key)),
        );
      }
      b.run.child.kill('SIGSTOP');
      try {
        // A writes every key; C, healthy, reads each write at once. Alternate writers: A, then C.
        const [writer, reader] = round % 2 === 1 ? [ca, cc] : [cc, ca];
        await forEachLimit(keys, WRITERS, async (key) => {
          const started = performance.now();
          try {
            await writer.putDocument(collection, key, { key, round, pad });
          } catch (error) {
            failures.push(`${key} round ${round}: ${String(error)}`);
            return;
          }
          latencies.push(performance.now() - started);
          check('healthy reader', key, round, await reader.getDocument<Value>(collection, key));
        });
        // Reads sent to B now wait in its sockets, with the bus messages it has not handled yet.
        const queued = keys.map(async (key) =>
          check('B queued', key, round, await cb.getDocument<Value>(collection, key)),
        );
        await sleep(300);
        b.run.child.kill('SIGCONT');
        await Promise.all(queued);
      } finally {
        b.run.child.kill('SIGCONT');
      }
      // And right after, one by one and in batches.
      await forEachLimit(keys, WRITERS, async (key) =>
        check('B after', key, round, await cb.getDocument<Value>(collection, key)),
      );
      const batch = await cb.getDocuments<Value>(collection, keys);
      for (const key of keys)
        check(
          'B batch',
          key,
          round,
          batch.find((document) => document.key === key),
        );
    }

    expect(failures).toEqual([]);
    expect(stale).toEqual([]);
    expect(latencies).toHaveLength(KEYS * ROUNDS);
    const sorted = [...latencies].sort((x, y) => x - y);
    console.log(
      `[paused-instance] ${latencies.length} writes while B was stopped: p50 ${percentile(sorted, 0.5).toFixed(1)} ms, ` +
        `p99 ${percentile(sorted, 0.99).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms; ` +
        `${ROUNDS * KEYS * 4} reads through B after SIGCONT, none stale`,
    );
  }, 120_000);
});
