/**
 * The Redis layer on a read-heavy mix: 95% reads, 5% writes, keys drawn from a Zipf distribution
 * (s = 0.99, as in YCSB) over 10,000 documents of ~600 bytes, on PostgreSQL + Redis against
 * PostgreSQL alone, in the same run and on the same data and operation sequence.
 *
 * Reported: the share of reads that reached PostgreSQL with the layer on (RedisLayer `stats()`:
 * `innerReads / reads`), split into L1 and Redis hits: for a cold cache (the first pass), for a
 * warm one (every key read once before, as in a service that has run a while; entries live 1 h in
 * Redis and 1 min in the L1), and for a second instance whose L1 starts empty on the warm Redis;
 * and the throughput of the mix with the layer over without it (1 worker and 16 concurrent
 * workers), with read and write latencies apart. The aim: 90%+ of reads saved.
 *
 * The layer invalidates on write (it does not write through), so the first read of a key after a
 * write always reaches PostgreSQL: with 5% writes that puts a floor of about writes/reads = 5.3%
 * under the warm figure when the written keys are hot.
 *
 *   npx tsx bench/cache/cache.ts [scale]     (or BENCH_SCALE=0.2)
 */
import type { RedisLayer, RedisLayerStats } from '../../src/cache/redis/redis-layer.js';
import type { Driver } from '../../src/engine/driver.js';
import { Store } from '../../src/engine/store.js';
import type { CommitOp } from '../../src/engine/types.js';
import { openDriver } from '../../src/open.js';
import {
  benchPostgresUrl,
  benchRedisUrl,
  dropSchema,
  postgresDown,
  redact,
  redisDown,
  removeRedisPrefix,
  timeConcurrent,
  uniqueBenchName,
  withSchema,
} from '../postgres/services.js';
import { fmt, gameDocument, type LatencySummary, line, report, summarize } from '../support/stats.js';

const KEYS = 10_000;
const ZIPF_S = 0.99;
const WRITE_SHARE = 0.05;
const COLLECTION = 'profiles';
const CONCURRENCY = 16;

/** A small seeded generator (mulberry32), so both configurations see the same operations. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Draws ranks 0 … n-1 with P(rank) ∝ 1 / (rank + 1)^s, by binary search over the cumulative weights. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) {
    total += 1 / (rank + 1) ** s;
    cumulative[rank] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

/** The operation sequence: for op i, the key's rank and whether it writes. */
interface Mix {
  readonly ranks: Int32Array;
  readonly writes: Uint8Array;
}

function makeMix(count: number): Mix {
  const random = seeded(0x5eed);
  const rank = zipf(KEYS, ZIPF_S, random);
  const ranks = new Int32Array(count);
  const writes = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    writes[i] = random() < WRITE_SHARE ? 1 : 0;
    // Hot keys spread over the key space, not bunched at its start.
    ranks[i] = ((rank() * 7919) % KEYS) as number;
  }
  return { ranks, writes };
}

const keyOf = (rank: number): string => `player-${rank}`;

/** A pass over part of the mix: the whole pass, and the latencies of its reads and writes apart. */
interface MixResult {
  readonly all: LatencySummary;
  readonly reads: LatencySummary;
  readonly writes: LatencySummary;
}

/** Runs ops `from` … `from+count-1` of `mix` on `concurrency` workers. */
async function runMix(
  store: Store,
  mix: Mix,
  from: number,
  count: number,
  concurrency: number,
): Promise<MixResult> {
  const { latencies, totalMs } = await timeConcurrent(count, concurrency, (i) => {
    const op = from + i;
    const key = keyOf(mix.ranks[op] as number);
    if (mix.writes[op] === 1)
      return store.commit([{ op: 'put', collection: COLLECTION, key, value: gameDocument(op) }]);
    return store.get(COLLECTION, key);
  });
  const of = (write: number) =>
    summarize(
      latencies.filter((_, i) => mix.writes[from + i] === write),
      totalMs,
    );
  return { all: summarize(latencies, totalMs), reads: of(0), writes: of(1) };
}

async function seed(url: string): Promise<void> {
  const store = new Store(await openDriver(url));
  try {
    for (let start = 0; start < KEYS; start += 500) {
      const ops: CommitOp[] = [];
      for (let rank = start; rank < Math.min(KEYS, start + 500); rank++)
        ops.push({ op: 'put', collection: COLLECTION, key: keyOf(rank), value: gameDocument(rank) });
      await store.commit(ops);
    }
  } finally {
    await store.close();
  }
}

/** Reads every document once, one by one (as a service would), 32 at a time. */
async function primeAll(store: Store): Promise<void> {
  await timeConcurrent(KEYS, 32, (rank) => store.get(COLLECTION, keyOf(rank)));
}

function isRedisLayer(driver: Driver): driver is RedisLayer {
  return typeof (driver as Partial<RedisLayer>).stats === 'function';
}

type Counts = Pick<RedisLayerStats, 'reads' | 'innerReads' | 'l1Hits' | 'redisHits' | 'ackTimeouts'>;

const countsOf = (stats: RedisLayerStats): Counts => ({
  reads: stats.reads,
  innerReads: stats.innerReads,
  l1Hits: stats.l1Hits,
  redisHits: stats.redisHits,
  ackTimeouts: stats.ackTimeouts,
});

const minus = (later: Counts, earlier: Counts): Counts => ({
  reads: later.reads - earlier.reads,
  innerReads: later.innerReads - earlier.innerReads,
  l1Hits: later.l1Hits - earlier.l1Hits,
  redisHits: later.redisHits - earlier.redisHits,
  ackTimeouts: later.ackTimeouts - earlier.ackTimeouts,
});

const pct = (part: number, whole: number): string => `${fmt((100 * part) / whole, 1)}%`;

function describeReads(what: string, counts: Counts, writes: number): string {
  return (
    `${what}: ${pct(counts.innerReads, counts.reads)} of ${fmt(counts.reads)} reads reached PostgreSQL ` +
    `(${pct(counts.reads - counts.innerReads, counts.reads)} saved; L1 ${pct(counts.l1Hits, counts.reads)}, ` +
    `Redis ${pct(counts.redisHits, counts.reads)}; ${fmt(writes)} writes, ${counts.ackTimeouts} ack timeouts)`
  );
}

function writesIn(mix: Mix, from: number, count: number): number {
  let writes = 0;
  for (let i = from; i < from + count; i++) writes += mix.writes[i] as number;
  return writes;
}

/** Runs the benchmark with `scale` × 20,000 measured ops per pass (at least 1,000). */
export async function benchRedisCache(scale = 1): Promise<void> {
  const count = Math.max(1000, Math.round(20_000 * scale));
  const warm = count;
  line(
    `\n## Redis layer, read-heavy mix: ${Math.round(100 * (1 - WRITE_SHARE))}% reads / ${Math.round(100 * WRITE_SHARE)}% writes, ` +
      `Zipf s=${ZIPF_S} over ${fmt(KEYS)} documents of ~600 bytes; ${fmt(warm)} ops cold, then ${fmt(count)} ops with 1 worker and ${fmt(count)} with ${CONCURRENCY}`,
  );
  const down = (await postgresDown()) ?? (await redisDown());
  if (down !== undefined) {
    const pgDown = await postgresDown();
    line(
      pgDown === undefined
        ? `skipped: Redis at ${redact(benchRedisUrl)} is unreachable (${down})`
        : `skipped: PostgreSQL at ${redact(benchPostgresUrl)} is unreachable (${pgDown})`,
    );
    return;
  }
  const schema = uniqueBenchName('sp_bench_cache');
  const prefix = schema;
  const url = withSchema(benchPostgresUrl, schema);
  const mix = makeMix(warm + 3 * count);
  try {
    await seed(url);
    const plain = new Store(await openDriver(url));
    const driver = await openDriver(url, { redisUrl: benchRedisUrl, redisPrefix: prefix });
    if (!isRedisLayer(driver)) {
      await driver.close();
      throw new Error(`openDriver with redisUrl gave ${driver.name}, not the Redis layer`);
    }
    const cached = new Store(driver);
    const counts = (): Counts => countsOf(driver.stats());
    let results: { plain: MixResult; cached: MixResult; counts: Counts; writes: number; workers: number }[];
    let cold: Counts;
    try {
      // A cold pass on each (it also warms PostgreSQL's buffers for both), then the measured
      // passes, alternating so that neither side gets a quieter machine.
      await runMix(plain, mix, 0, warm, CONCURRENCY);
      const atStart = counts();
      await runMix(cached, mix, 0, warm, CONCURRENCY);
      cold = minus(counts(), atStart);
      // A long-running service has read its whole working set by now: every key, once.
      await Promise.all([primeAll(plain), primeAll(cached)]);
      results = [];
      for (const [index, workers] of [1, CONCURRENCY].entries()) {
        const from = warm + index * count;
        const plainResult = await runMix(plain, mix, from, count, workers);
        const before = counts();
        const cachedResult = await runMix(cached, mix, from, count, workers);
        results.push({
          plain: plainResult,
          cached: cachedResult,
          counts: minus(counts(), before),
          writes: writesIn(mix, from, count),
          workers,
        });
      }
    } finally {
      await Promise.all([plain.close(), cached.close()]);
    }

    // Another instance (or a restart): an empty L1 on a warm Redis, the next ops of the mix.
    const second = await openDriver(url, { redisUrl: benchRedisUrl, redisPrefix: prefix });
    if (!isRedisLayer(second)) throw new Error('expected the Redis layer');
    const secondStore = new Store(second);
    let fresh: Counts;
    let freshResult: MixResult;
    try {
      freshResult = await runMix(secondStore, mix, warm + 2 * count, count, CONCURRENCY);
      fresh = countsOf(second.stats());
    } finally {
      await secondStore.close();
    }

    for (const { plain: p, cached: c, workers } of results) {
      const who = `${workers} worker${workers === 1 ? '' : 's'}`;
      report(`PostgreSQL alone, ${who}`, p.all);
      report(`PostgreSQL + Redis layer, ${who}`, c.all, { name: 'PostgreSQL alone', result: p.all });
      line(
        `  reads p50/p99: ${fmt(p.reads.p50Ms, 3)}/${fmt(p.reads.p99Ms, 3)} ms alone, ${fmt(c.reads.p50Ms, 3)}/${fmt(c.reads.p99Ms, 3)} ms with the layer; ` +
          `writes p50/p99: ${fmt(p.writes.p50Ms, 3)}/${fmt(p.writes.p99Ms, 3)} ms alone, ${fmt(c.writes.p50Ms, 3)}/${fmt(c.writes.p99Ms, 3)} ms with the layer`,
      );
    }
    report(`second instance on the warm Redis, ${CONCURRENCY} workers`, freshResult.all);
    line(describeReads(`cold cache (first pass, ${CONCURRENCY} workers)`, cold, writesIn(mix, 0, warm)));
    for (const { counts: measured, writes, workers } of results) {
      line(describeReads(`warm cache (every key read once before), ${workers} worker(s)`, measured, writes));
    }
    const floor = results.reduce((sum, r) => sum + r.writes, 0);
    const reads = results.reduce((sum, r) => sum + r.counts.reads, 0);
    line(
      `  (the first read after each write goes to PostgreSQL: writes/reads = ${pct(floor, reads)} is the floor without write-through)`,
    );
    line(
      describeReads('second instance, empty L1, warm Redis', fresh, writesIn(mix, warm + 2 * count, count)),
    );
  } finally {
    await dropSchema(schema);
    await removeRedisPrefix(prefix);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchRedisCache(Number(process.argv[2] ?? process.env.BENCH_SCALE ?? '1'));
}
