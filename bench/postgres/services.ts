/**
 * Where the PostgreSQL and Redis benchmarks find their services, how they check them first (a
 * bench skips with one line when a service is down), and how they clean up after themselves.
 *
 * `SAVEPOINT_BENCH_POSTGRES_URL` (else `SAVEPOINT_TEST_POSTGRES_URL`, else
 * `postgres://postgres@127.0.0.1:5432/test`) and `SAVEPOINT_BENCH_REDIS_URL` (else
 * `SAVEPOINT_TEST_REDIS_URL`, else `redis://127.0.0.1:6379`). Each run works in its own schema and
 * Redis key prefix and removes them at the end (never FLUSHDB).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export const benchPostgresUrl: string =
  process.env.SAVEPOINT_BENCH_POSTGRES_URL ??
  process.env.SAVEPOINT_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

export const benchRedisUrl: string =
  process.env.SAVEPOINT_BENCH_REDIS_URL ?? process.env.SAVEPOINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const PROBE_TIMEOUT_S = 3;

/** Hides a password in a URL before it is printed. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** `undefined` when PostgreSQL answers `SELECT 1`, else why not. */
export async function postgresDown(url: string = benchPostgresUrl): Promise<string | undefined> {
  const sql = postgres(url, { max: 1, connect_timeout: PROBE_TIMEOUT_S, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return undefined;
  } catch (error) {
    return reasonOf(error);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** `undefined` when Redis answers `PING`, else why not. */
export async function redisDown(url: string = benchRedisUrl): Promise<string | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_S * 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The connection's own error (ECONNREFUSED …) says more than the rejected connect() does.
  let connectionError: unknown;
  redis.on('error', (error: unknown) => {
    connectionError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return reasonOf(connectionError ?? error);
  } finally {
    redis.disconnect();
  }
}

/** A schema name and Redis prefix no other run uses: `<prefix>_<pid>_<8 hex digits>`. */
export function uniqueBenchName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** `url` with `?schema=` (or `&schema=`) appended. */
export function withSchema(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
}

/** Drops `schema` and everything in it. */
export async function dropSchema(schema: string, url: string = benchPostgresUrl): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Removes every key under `<prefix>:` with SCAN and UNLINK; answers how many. */
export async function removeRedisPrefix(prefix: string, url: string = benchRedisUrl): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let removed = 0;
  try {
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

/** Runs `step(i)` for i = 0 … count-1 on `concurrency` workers, timing each call (ms). */
export async function timeConcurrent(
  count: number,
  concurrency: number,
  step: (i: number) => unknown,
): Promise<{ latencies: Float64Array; totalMs: number }> {
  const latencies = new Float64Array(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await step(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  return { latencies, totalMs: performance.now() - started };
}
