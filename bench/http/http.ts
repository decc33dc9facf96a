/**
 * `GET /v1/docs/{collection}/{key}` under load: autocannon, 50 connections, random keys over a
 * large collection, against `savepoint serve` and against a bare Fastify + better-sqlite3 route
 * reading the same file. Each server runs in its own process; autocannon runs in this one, so all
 * three share the machine's cores, as they would on one host.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import { fmt, gameDocument, line, scratchDir } from '../support/stats.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = 'bench-key-0123456789';
/** Alternating rounds of each server. */
const ROUNDS = 3;

function start(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) =>
      reject(new Error(`${command} exited with ${code} before listening:\n${output}`)),
    );
  });
}

interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
}

async function load(url: string, documents: number, seconds: number): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: 50,
    duration: seconds,
    headers: { authorization: `Bearer ${API_KEY}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          path: `/v1/docs/games/g${Math.floor(Math.random() * documents)}`,
        }),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
  };
}

export async function benchHttp(documents: number, seconds: number): Promise<void> {
  const dist = join(root, 'dist/cli/main.js');
  if (!existsSync(dist)) {
    line('\n## HTTP: skipped — run `npm run build` first (the benchmark serves the compiled CLI)');
    return;
  }
  const dir = scratchDir('http');
  const children: ChildProcess[] = [];
  try {
    line(
      `\n## HTTP GET /v1/docs/{collection}/{key}, ${fmt(documents)} documents, autocannon 50 connections, ${seconds} s each`,
    );
    const store = new Store(await openSqliteDriver({ path: join(dir.path, 'savepoint.db') }));
    for (let offset = 0; offset < documents; offset += 20_000) {
      const size = Math.min(20_000, documents - offset);
      await store.commit(
        Array.from({ length: size }, (_, j) => ({
          op: 'put' as const,
          collection: 'games',
          key: `g${offset + j}`,
          value: gameDocument(offset + j),
        })),
      );
    }
    await store.close();

    // Both servers stay up and take turns, bare first: alternating rounds spread whatever else the
    // machine does (page cache, CPU frequency, neighbours) over both, where back-to-back runs gave
    // ratios from 0.48x to 0.82x.
    const baseline = await start(
      process.execPath,
      ['--import', 'tsx', 'bench/http/baseline-server.ts', join(dir.path, 'savepoint.db')],
      {},
    );
    children.push(baseline.child);
    const savepoint = await start(process.execPath, [dist, 'serve', '--port', '0', '--data-dir', dir.path], {
      SAVEPOINT_API_KEY: API_KEY,
      SAVEPOINT_LOG_LEVEL: 'warn',
      SAVEPOINT_SWEEP_INTERVAL: '0',
      SAVEPOINT_BACKUP_INTERVAL: '0',
    });
    children.push(savepoint.child);
    await load(baseline.url, documents, 2); // warm-up
    await load(savepoint.url, documents, 2);
    const bare: LoadResult[] = [];
    const ours: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await load(baseline.url, documents, seconds));
      ours.push(await load(savepoint.url, documents, seconds));
    }

    const describe = (name: string, r: LoadResult) =>
      `${name.padEnd(44)} ${fmt(r.requestsPerSecond).padStart(10)} req/s  p50 ${fmt(r.p50Ms, 1)} ms  p99 ${fmt(r.p99Ms, 1)} ms  non-2xx ${r.non2xx}`;
    for (let round = 0; round < ROUNDS; round++) {
      const b = bare[round] as LoadResult;
      const o = ours[round] as LoadResult;
      line(describe(`round ${round + 1}: bare Fastify + better-sqlite3`, b));
      line(
        `${describe(`round ${round + 1}: savepoint serve (auth, validation, ETag)`, o)}  = ${fmt(o.requestsPerSecond / b.requestsPerSecond, 2)}x throughput, ${fmt(o.p99Ms / b.p99Ms, 2)}x p99`,
      );
    }
    const total = (runs: LoadResult[], pick: (r: LoadResult) => number) =>
      runs.reduce((sum, r) => sum + pick(r), 0);
    const throughput = total(ours, (r) => r.requestsPerSecond) / total(bare, (r) => r.requestsPerSecond);
    const p99 = total(ours, (r) => r.p99Ms) / total(bare, (r) => r.p99Ms);
    line(
      `all ${ROUNDS} rounds: ${fmt(throughput, 2)}x throughput (target >= 0.7: ${throughput >= 0.7 ? 'meets' : 'misses'}), ${fmt(p99, 2)}x p99 (target <= 1.5: ${p99 <= 1.5 ? 'meets' : 'misses'}); autocannon reports p99 in whole ms`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    dir.remove();
  }
}
