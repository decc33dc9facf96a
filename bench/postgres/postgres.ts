/**
 * Commit throughput on PostgreSQL: Savepoint (`openSavepoint` on a `postgres://…?schema=` URL,
 * `store.commit([put])` of a ~600-byte JSON document whose bytes change on every write) against
 * raw postgres.js doing the same upsert (`INSERT … ON CONFLICT DO UPDATE` into its own table, a
 * pool of the same size), in the same run: one writer, then 16 concurrent writers. Target: >= 0.6x.
 *
 * Durability is PostgreSQL's own (`synchronous_commit`, printed with the figures) for both.
 *
 *   npx tsx bench/postgres/postgres.ts [scale]     (or BENCH_SCALE=0.2)
 */
import postgres from 'postgres';
import type { Store } from '../../src/engine/store.js';
import { openSavepoint } from '../../src/savepoint.js';
import {
  fmt,
  gameDocument,
  type LatencySummary,
  line,
  report,
  summarize,
  timeSequential,
} from '../support/stats.js';
import {
  benchPostgresUrl,
  dropSchema,
  postgresDown,
  redact,
  timeConcurrent,
  uniqueBenchName,
  withSchema,
} from './services.js';

/** Keys the writes cycle through, as in the SQLite upsert benchmark. */
const KEYS = 1000;
const CONCURRENCY = 16;
/** The pool size of both sides (the PostgreSQL driver's default). */
const POOL = 10;
const TARGET_RATIO = 0.6;

type Step = (i: number) => Promise<unknown>;

/** The raw baseline: postgres.js, one prepared upsert per write, autocommit. */
async function openRaw(schema: string) {
  const sql = postgres(benchPostgresUrl, { max: POOL, onnotice: () => {} });
  await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  const table = sql(`${schema}.raw_documents`);
  await sql`CREATE TABLE ${table} (
    collection text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    value json NOT NULL,
    version bigint NOT NULL,
    updated_at double precision NOT NULL,
    PRIMARY KEY (collection, key))`;
  const upsert: Step = (i) =>
    sql`INSERT INTO ${table} AS d (collection, key, value, version, updated_at)
      VALUES ('games', ${`g${i % KEYS}`}, ${JSON.stringify(gameDocument(i))}, 1, ${Date.now()})
      ON CONFLICT (collection, key) DO UPDATE
      SET value = excluded.value, version = d.version + 1, updated_at = excluded.updated_at`;
  return { sql, upsert };
}

async function concurrent(count: number, step: Step): Promise<LatencySummary> {
  const { latencies, totalMs } = await timeConcurrent(count, CONCURRENCY, step);
  return summarize(latencies, totalMs);
}

const verdict = (ours: LatencySummary, raw: LatencySummary): string => {
  const ratio = ours.perSecond / raw.perSecond;
  return `${fmt(ratio, 2)}x (target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'})`;
};

/** Runs the benchmark with `scale` × 5,000 writes per measurement (at least 200). */
export async function benchPostgresCommits(scale = 1): Promise<void> {
  const count = Math.max(200, Math.round(5000 * scale));
  line(
    `\n## PostgreSQL commit throughput: ${fmt(count)} puts of ~600-byte JSON over ${fmt(KEYS)} keys, Savepoint vs raw postgres.js upsert`,
  );
  const down = await postgresDown();
  if (down !== undefined) {
    line(`skipped: PostgreSQL at ${redact(benchPostgresUrl)} is unreachable (${down})`);
    return;
  }
  const schema = uniqueBenchName('sp_bench_pg');
  const raw = await openRaw(schema);
  let savepoint: Awaited<ReturnType<typeof openSavepoint>> | undefined;
  try {
    const [settings] = await raw.sql<{ sync: string; fsync: string; version: string }[]>`
      SELECT current_setting('synchronous_commit') AS sync, current_setting('fsync') AS fsync,
             current_setting('server_version') AS version`;
    line(
      `PostgreSQL ${settings?.version} (synchronous_commit=${settings?.sync}, fsync=${settings?.fsync}), pool ${POOL} on both sides`,
    );
    savepoint = await openSavepoint({ url: withSchema(benchPostgresUrl, schema) });
    const store: Store = savepoint.store;
    const ours: Step = (i) =>
      store.commit([{ op: 'put', collection: 'games', key: `g${i % KEYS}`, value: gameDocument(i) }]);

    // Warm both (connections, prepared statements, the first insert of every key), then measure
    // alternately so neither side gets the warmer database.
    const warm = Math.min(count, KEYS);
    await timeSequential(warm, raw.upsert);
    await timeSequential(warm, ours);

    let offset = warm;
    const shifted = (step: Step): Step => {
      const base = offset;
      offset += count;
      return (i) => step(base + i);
    };
    const rawSequential = await timeSequential(count, shifted(raw.upsert));
    const oursSequential = await timeSequential(count, shifted(ours));
    const rawConcurrent = await concurrent(count, shifted(raw.upsert));
    const oursConcurrent = await concurrent(count, shifted(ours));

    report('raw postgres.js upsert, 1 writer', rawSequential);
    report('Savepoint commit([put]), 1 writer', oursSequential, { name: 'raw', result: rawSequential });
    report(`raw postgres.js upsert, ${CONCURRENCY} writers`, rawConcurrent);
    report(`Savepoint commit([put]), ${CONCURRENCY} writers`, oursConcurrent, {
      name: 'raw',
      result: rawConcurrent,
    });
    line(
      `Savepoint/raw: 1 writer ${verdict(oursSequential, rawSequential)}; ${CONCURRENCY} writers ${verdict(oursConcurrent, rawConcurrent)}`,
    );
  } finally {
    await savepoint?.close();
    await raw.sql.end({ timeout: 5 });
    await dropSchema(schema);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchPostgresCommits(Number(process.argv[2] ?? process.env.BENCH_SCALE ?? '1'));
}
