/**
 * One stalled instance among three `savepoint serve` processes on PostgreSQL + Redis: how much it
 * slows the others' writes, and whether it serves anything stale once it runs again.
 *
 * A writer pool (4 workers, each owning a quarter of 1,000 keys, ~600-byte documents) PUTs through
 * instance A without pause; readers read random keys through B and C all along, so every L1 holds
 * what the writes replace. Rounds alternate: all three healthy (the baseline), then B stopped with
 * SIGSTOP (the stand-in for a long GC pause or a blocked event loop) for the whole round. After
 * each paused round the writers stop, every key written during the pause is read through B twice:
 * once by requests sent while B is still stopped (they wait in its sockets beside the bus messages
 * it missed) and once after SIGCONT. A read older than the key's last acknowledged write is stale.
 *
 *   npx tsx bench/cluster/paused-peer.ts [scale]     (or BENCH_SCALE=0.2; needs `npm run build`)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient, type SavepointClient } from '../../src/client/index.js';
import {
  benchPostgresUrl,
  benchRedisUrl,
  dropSchema,
  postgresDown,
  redact,
  redisDown,
  removeRedisPrefix,
  uniqueBenchName,
  withSchema,
} from '../postgres/services.js';
import { fmt, gameDocument, type LatencySummary, line, summarize } from '../support/stats.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = `bench-${randomBytes(12).toString('hex')}`;
const KEYS = 1000;
const WRITERS = 4;
const READERS_PER_INSTANCE = 2;
/** Healthy and paused rounds, alternating. */
const PAIRS = 3;
const COLLECTION = 'tables';

interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly client: SavepointClient;
  readonly dataDir: string;
}

async function startInstance(name: string, databaseUrl: string, prefix: string): Promise<Instance> {
  const dataDir = await mkdtemp(join(tmpdir(), `savepoint-bench-cluster-${name.toLowerCase()}-`));
  const child = spawn(
    process.execPath,
    [
      join(root, 'dist/cli/main.js'),
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--database',
      databaseUrl,
      '--redis',
      benchRedisUrl,
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        SAVEPOINT_API_KEY: API_KEY,
        SAVEPOINT_REDIS_PREFIX: prefix,
        SAVEPOINT_SWEEP_INTERVAL: '0',
        SAVEPOINT_BACKUP_INTERVAL: '0',
        SAVEPOINT_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`instance ${name} exited with ${code}:\n${output}`)));
  });
  return { name, child, dataDir, client: createClient({ baseUrl: url, apiKey: API_KEY, timeoutMs: 60_000 }) };
}

async function stopInstance(instance: Instance): Promise<void> {
  const { child } = instance;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(instance.dataDir, { recursive: true, force: true });
}

const keyOf = (i: number): string => `t${i}`;

interface Round {
  readonly writes: LatencySummary;
  readonly latencies: readonly number[];
  /** Writes slower than 50 ms. */
  readonly slow: number;
  /** Keys written in the round with the version of their last acknowledged write. */
  readonly written: Map<string, number>;
}

/** Writes through `client` for `ms`, each worker cycling over its own keys. */
async function writeFor(client: SavepointClient, ms: number, counter: { n: number }): Promise<Round> {
  const latencies: number[] = [];
  const written = new Map<string, number>();
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, worker) => {
      for (let slot = worker; performance.now() < until; slot = (slot + WRITERS) % KEYS) {
        const key = keyOf(slot);
        const t0 = performance.now();
        const result = await client.putDocument(COLLECTION, key, gameDocument(counter.n++));
        latencies.push(performance.now() - t0);
        written.set(key, result.version);
      }
    }),
  );
  const all = Float64Array.from(latencies);
  return {
    writes: summarize(all, performance.now() - started),
    latencies,
    slow: latencies.filter((ms) => ms > 50).length,
    written,
  };
}

/** Reads every written key through `client`; answers how many were older than their last acknowledged write. */
async function countStale(client: SavepointClient, written: Map<string, number>): Promise<number> {
  let stale = 0;
  await Promise.all(
    [...written].map(async ([key, version]) => {
      const read = await client.getDocument(COLLECTION, key);
      if ((read?.version ?? 0) < version) stale++;
    }),
  );
  return stale;
}

const fmtRound = (what: string, round: Round): string =>
  `${what.padEnd(26)} ${fmt(round.writes.count).padStart(6)} writes ${fmt(round.writes.perSecond).padStart(5)}/s  ` +
  `p50 ${fmt(round.writes.p50Ms, 2)} ms  p99 ${fmt(round.writes.p99Ms, 2)} ms  max ${fmt(round.writes.maxMs, 1)} ms  ` +
  `over 50 ms: ${round.slow}`;

export async function benchPausedPeer(scale = 1): Promise<void> {
  const roundMs = Math.max(2_000, Math.round(8_000 * scale));
  line(
    `\n## One of three instances stopped (SIGSTOP) on PostgreSQL + Redis: writer latency through A, ${WRITERS} workers over ` +
      `${fmt(KEYS)} keys of ~600 bytes, ${READERS_PER_INSTANCE} readers each on B and C; ${PAIRS} × (healthy round, paused round) of ${fmt(roundMs / 1000, 1)} s, alternating`,
  );
  if (!existsSync(join(root, 'dist/cli/main.js'))) {
    line('skipped: run `npm run build` first (the benchmark serves the compiled CLI)');
    return;
  }
  const down = (await postgresDown()) ?? (await redisDown());
  if (down !== undefined) {
    line(
      `skipped: PostgreSQL at ${redact(benchPostgresUrl)} or Redis at ${redact(benchRedisUrl)} is unreachable (${down})`,
    );
    return;
  }
  const schema = uniqueBenchName('sp_bench_cluster');
  const instances: Instance[] = [];
  let reading = true;
  try {
    const databaseUrl = withSchema(benchPostgresUrl, schema);
    // One first, so the migrations run once; then the other two.
    instances.push(await startInstance('A', databaseUrl, schema));
    instances.push(
      ...(await Promise.all([
        startInstance('B', databaseUrl, schema),
        startInstance('C', databaseUrl, schema),
      ])),
    );
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const counter = { n: 0 };
    for (let i = 0; i < KEYS; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          a.client.putDocument(COLLECTION, keyOf(i + j), gameDocument(counter.n++)),
        ),
      );
    }
    const readers = [b, c].flatMap((instance) =>
      Array.from({ length: READERS_PER_INSTANCE }, async () => {
        while (reading)
          await instance.client.getDocument(COLLECTION, keyOf(Math.floor(Math.random() * KEYS)));
      }),
    );
    await writeFor(a.client, 2_000, counter); // warm-up

    const healthy: Round[] = [];
    const paused: Round[] = [];
    let staleQueued = 0;
    let staleAfter = 0;
    let checked = 0;
    for (let pair = 0; pair < PAIRS; pair++) {
      healthy.push(await writeFor(a.client, roundMs, counter));
      b.child.kill('SIGSTOP');
      let round: Round;
      try {
        round = await writeFor(a.client, roundMs, counter);
        const queued = countStale(b.client, round.written);
        await sleep(200);
        b.child.kill('SIGCONT');
        staleQueued += await queued;
      } finally {
        b.child.kill('SIGCONT');
      }
      staleAfter += await countStale(b.client, round.written);
      checked += round.written.size;
      paused.push(round);
    }
    reading = false;
    await Promise.all(readers);

    for (let pair = 0; pair < PAIRS; pair++) {
      const h = healthy[pair] as Round;
      const p = paused[pair] as Round;
      line(fmtRound(`round ${pair + 1}, all healthy`, h));
      line(
        `${fmtRound(`round ${pair + 1}, B stopped`, p)}  = ${fmt(p.writes.p99Ms / h.writes.p99Ms, 2)}x healthy p99`,
      );
    }
    const pooled = (rounds: Round[]): LatencySummary =>
      summarize(Float64Array.from(rounds.flatMap((round) => round.latencies)), 1);
    const healthyAll = pooled(healthy);
    const pausedAll = pooled(paused);
    line(
      `writer p99 over all rounds: healthy ${fmt(healthyAll.p99Ms, 2)} ms, one instance stopped ${fmt(pausedAll.p99Ms, 2)} ms = ` +
        `${fmt(pausedAll.p99Ms / healthyAll.p99Ms, 2)}x (p50 ${fmt(healthyAll.p50Ms, 2)} vs ${fmt(pausedAll.p50Ms, 2)} ms); ` +
        `writes over 50 ms: ${healthy.reduce((sum, r) => sum + r.slow, 0)} of ${fmt(healthyAll.count)} healthy, ` +
        `${paused.reduce((sum, r) => sum + r.slow, 0)} of ${fmt(pausedAll.count)} paused`,
    );
    line(
      `stale reads through B after SIGCONT: ${staleQueued} of ${fmt(checked)} (requests queued while stopped), ` +
        `${staleAfter} of ${fmt(checked)} (sent after)`,
    );
  } finally {
    reading = false;
    await Promise.all(instances.map(stopInstance));
    await dropSchema(schema);
    await removeRedisPrefix(schema);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchPausedPeer(Number(process.argv[2] ?? process.env.BENCH_SCALE ?? '1'));
}
