/**
 * Document upserts and point reads: Savepoint (SQLite driver, durability normal) against raw
 * better-sqlite3 doing the same work and against Keyv with @keyv/sqlite.
 */
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Database from 'better-sqlite3';
import Keyv from 'keyv';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import {
  fmt,
  gameDocument,
  type LatencySummary,
  line,
  report,
  scratchDir,
  timeSequential,
} from '../support/stats.js';

function openRaw(path: string): {
  db: Database.Database;
  upsert: Database.Statement;
  get: Database.Statement;
} {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS docs (
    collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, version INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (collection, key)) WITHOUT ROWID`);
  const upsert =
    db.prepare(`INSERT INTO docs (collection, key, value, version, updated_at) VALUES (?, ?, ?, 1, ?)
    ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value, version = version + 1, updated_at = excluded.updated_at`);
  const get = db.prepare('SELECT value, version FROM docs WHERE collection = ? AND key = ?');
  return { db, upsert, get };
}

/** Rounds each side runs, alternating, so that a change in the machine's load hits both alike. */
const UPSERT_ROUNDS = 5;

/**
 * Upserts of one document per commit: raw better-sqlite3 and Savepoint in {@link UPSERT_ROUNDS}
 * alternating rounds over the same files, each round continuing the key sequence, then Keyv alone.
 */
export async function benchUpserts(count: number): Promise<void> {
  const dir = scratchDir('upsert');
  try {
    line(
      `\n## Document upsert, one per commit, ${fmt(count)} writes of ~600-byte JSON over 1,000 keys, ${UPSERT_ROUNDS} alternating rounds (durability normal)`,
    );
    const raw = openRaw(join(dir.path, 'raw.db'));
    const store = new Store(
      await openSqliteDriver({ path: join(dir.path, 'savepoint.db'), durability: 'normal' }),
    );
    const perRound = Math.ceil(count / UPSERT_ROUNDS);
    const rawRounds: LatencySummary[] = [];
    const ourRounds: LatencySummary[] = [];
    for (let round = 0; round < UPSERT_ROUNDS; round++) {
      const first = round * perRound;
      rawRounds.push(
        await timeSequential(perRound, (i) => {
          raw.upsert.run(
            'games',
            `g${(first + i) % 1000}`,
            JSON.stringify(gameDocument(first + i)),
            Date.now(),
          );
        }),
      );
      ourRounds.push(
        await timeSequential(perRound, (i) =>
          store.commit([
            { op: 'put', collection: 'games', key: `g${(first + i) % 1000}`, value: gameDocument(first + i) },
          ]),
        ),
      );
    }
    raw.db.close();
    await store.close();

    const keyvCount = Math.min(count, 5000);
    const keyv = new Keyv({ store: new KeyvSqlite(`sqlite://${join(dir.path, 'keyv.db')}`) });
    const keyvResult = await timeSequential(keyvCount, (i) => keyv.set(`g${i % 1000}`, gameDocument(i)));
    await keyv.disconnect();

    const rawResult = combine(rawRounds);
    const ours = combine(ourRounds);
    report('raw better-sqlite3 prepared upsert', rawResult);
    report('Keyv + @keyv/sqlite set', keyvResult, { name: 'raw', result: rawResult });
    report('Savepoint commit([put])', ours, { name: 'raw', result: rawResult });
    line(
      `  per round: ${ourRounds.map((result, round) => `${fmt(result.perSecond / (rawRounds[round] as LatencySummary).perSecond, 2)}x`).join(', ')}`,
    );
    line(`Savepoint vs Keyv: ${fmt(ours.perSecond / keyvResult.perSecond, 1)}x`);
  } finally {
    dir.remove();
  }
}

/**
 * One summary of several rounds: calls over the rounds' summed time; p50 and p99 as the median of
 * the rounds' (each round's are exact, the latencies themselves are not kept).
 */
function combine(rounds: readonly LatencySummary[]): LatencySummary {
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const count = rounds.reduce((sum, round) => sum + round.count, 0);
  const seconds = rounds.reduce((sum, round) => sum + round.count / round.perSecond, 0);
  return {
    count,
    perSecond: count / seconds,
    p50Ms: median(rounds.map((round) => round.p50Ms)),
    p99Ms: median(rounds.map((round) => round.p99Ms)),
    maxMs: Math.max(...rounds.map((round) => round.maxMs)),
  };
}

export async function benchPointReads(documents: number, reads: number): Promise<void> {
  const dir = scratchDir('reads');
  try {
    line(`\n## Point read by key, ${fmt(documents)} documents, ${fmt(reads)} random reads`);
    const raw = openRaw(join(dir.path, 'raw.db'));
    const store = new Store(await openSqliteDriver({ path: join(dir.path, 'savepoint.db') }));
    const keyvPath = join(dir.path, 'keyv.db');
    const keyv = new Keyv({ store: new KeyvSqlite(`sqlite://${keyvPath}`) });
    await keyv.set('warmup', 1); // creates Keyv's table in its own format

    const started = performance.now();
    const batch = 20_000;
    const keyvDb = new Database(keyvPath);
    const keyvInsert = keyvDb.prepare('INSERT OR REPLACE INTO keyv (key, value) VALUES (?, ?)');
    for (let offset = 0; offset < documents; offset += batch) {
      const size = Math.min(batch, documents - offset);
      const values = Array.from({ length: size }, (_, j) => gameDocument(offset + j));
      raw.db.transaction(() => {
        for (let j = 0; j < size; j++)
          raw.upsert.run('games', `g${offset + j}`, JSON.stringify(values[j]), Date.now());
      })();
      keyvDb.transaction(() => {
        for (let j = 0; j < size; j++)
          keyvInsert.run(`keyv:g${offset + j}`, JSON.stringify({ value: values[j], expires: null }));
      })();
      await store.commit(
        values.map((value, j) => ({ op: 'put' as const, collection: 'games', key: `g${offset + j}`, value })),
      );
    }
    keyvDb.close();
    line(
      `(loaded ${fmt(documents)} documents into each store in ${fmt((performance.now() - started) / 1000, 1)} s)`,
    );

    const keys = Array.from({ length: reads }, (_, i) => `g${(i * 7919 + 13) % documents}`);
    const rawResult = await timeSequential(reads, (i) => {
      const row = raw.get.get('games', keys[i]) as { value: string } | undefined;
      if (row === undefined) throw new Error('missing row');
      JSON.parse(row.value);
    });
    const ours = await timeSequential(reads, async (i) => {
      if ((await store.get('games', keys[i] as string)) === undefined) throw new Error('missing document');
    });
    const keyvReads = Math.min(reads, 20_000);
    const keyvResult = await timeSequential(keyvReads, async (i) => {
      if ((await keyv.get(keys[i] as string)) === undefined) throw new Error('missing keyv value');
    });
    report('raw better-sqlite3 get + JSON.parse', rawResult);
    report('Keyv get', keyvResult, { name: 'raw', result: rawResult });
    report('Savepoint get', ours, { name: 'raw', result: rawResult });
    raw.db.close();
    await store.close();
    await keyv.disconnect();
  } finally {
    dir.remove();
  }
}

export async function benchOpenTime(documents: number): Promise<void> {
  const dir = scratchDir('open');
  try {
    line(`\n## Open a ${fmt(documents)}-document database and serve the first read`);
    const path = join(dir.path, 'savepoint.db');
    const store = new Store(await openSqliteDriver({ path }));
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
    const emptyPath = join(dir.path, 'empty.db');
    await new Store(await openSqliteDriver({ path: emptyPath })).close();
    for (const [label, file] of [
      ['empty database', emptyPath],
      [`${fmt(documents)} documents`, path],
    ] as const) {
      const started = performance.now();
      const reopened = new Store(await openSqliteDriver({ path: file }));
      await reopened.get('games', 'g12345');
      line(`${label.padEnd(44)} open + first read ${fmt(performance.now() - started, 1)} ms`);
      await reopened.close();
    }
  } finally {
    dir.remove();
  }
}
