/**
 * Real `savepoint serve` instances sharing one PostgreSQL schema and one Redis prefix, as a cluster
 * runs: the suite owns both (named after the run) and `cleanup()` stops every instance it started
 * and removes them.
 *
 * Usage: `const cluster = testCluster('sp_e2e_x'); afterAll(() => cluster.cleanup());` then
 * `const [a, b] = await Promise.all([cluster.start('A'), cluster.start('B')]);`.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { ensureBuilt, type ServeProcess, startServe } from './processes.js';
import { postgresUrl, redisUrl, uniqueName } from './services.js';

export interface TestCluster {
  /** The schema and the Redis prefix. */
  readonly run: string;
  readonly databaseUrl: string;
  /** The API key every instance takes (over 16 characters). */
  readonly apiKey: string;
  /** `Authorization` header carrying the key. */
  readonly auth: { readonly authorization: string };
  /** Starts one more instance on the shared schema and prefix. */
  start(name: string, options?: { readonly startTimeoutMs?: number }): Promise<ServeProcess>;
  /** Stops the instances still running, drops the schema and unlinks the prefix's Redis keys. */
  cleanup(): Promise<void>;
}

export function testCluster(prefix: string): TestCluster {
  const run = uniqueName(prefix);
  const apiKey = `e2e-${randomBytes(16).toString('hex')}`;
  const databaseUrl = `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${run}`;
  const started: ServeProcess[] = [];
  return {
    run,
    databaseUrl,
    apiKey,
    auth: { authorization: `Bearer ${apiKey}` },
    async start(name, options = {}) {
      ensureBuilt();
      const instance = await startServe({
        name,
        args: ['--database', databaseUrl, '--redis', redisUrl],
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
        env: {
          SAVEPOINT_API_KEY: apiKey,
          SAVEPOINT_REDIS_PREFIX: run,
          SAVEPOINT_SWEEP_INTERVAL: '0',
          SAVEPOINT_BACKUP_INTERVAL: '0',
          SAVEPOINT_LOG_LEVEL: 'warn',
        },
      });
      started.push(instance);
      return instance;
    },
    async cleanup() {
      // A test may leave an instance stopped (SIGSTOP), which would sit on SIGTERM until killed.
      for (const instance of started) if (!instance.exited) instance.run.child.kill('SIGCONT');
      await Promise.all(started.map((instance) => instance.stop()));
      const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS "${run}" CASCADE`);
      } finally {
        await sql.end({ timeout: 5 });
      }
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
