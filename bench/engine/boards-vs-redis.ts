/**
 * Boards against a Redis sorted set at 1,000,000 × scale members: Savepoint in-process on SQLite
 * (library API, durability normal) against Redis through ioredis over loopback, in the same run.
 *
 * - bulk load: 10,000 score ops per commit against ZADD pipelines of 10,000 members;
 * - top 100: `store.boardRange` / `leaderboards.top` against ZREVRANGE 0 99 WITHSCORES;
 * - rank of a random member: `store.boardMember` / `leaderboards.member` against ZREVRANK + ZSCORE
 *   in one pipeline (what a standing needs: rank and score), and ZREVRANK alone;
 * - score write: a `best` score op (half the writes beat the member's score) against ZADD GT;
 * - bytes per member: the board's tables in the SQLite file against MEMORY USAGE of the sorted set.
 *
 * Every read and write figure is measured in alternating rounds (Redis, Savepoint, Redis, …) and
 * summed per side, so a machine shared with other work loads both sides alike; the ratios are what
 * to compare. Redis orders ties by member, Savepoint by earliest `reachedAt` then member: the same
 * amount of work per lookup either way. Run it alone: `npx tsx bench/engine/boards-vs-redis.ts [scale]`.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { engineBoardName } from '../../src/domains/leaderboards/board-names.js';
import { openSavepoint } from '../../src/savepoint.js';
import { benchRedisUrl, redact, redisDown } from '../postgres/services.js';
import { LOAD_CHUNK, loadBoard, memberOf, scoreOf } from '../support/board-load.js';
import { openScratch } from '../support/scratch-db.js';
import { fmt, type LatencySummary, line, report, summarize } from '../support/stats.js';

const BOARD = 'global';
const ROUNDS = 4;

/** Times `count` sequential calls of each side, in `ROUNDS` alternating rounds; one summary per side. */
async function alternate(
  count: number,
  redisStep: (i: number) => Promise<unknown>,
  oursStep: (i: number) => Promise<unknown>,
): Promise<{ redis: LatencySummary; ours: LatencySummary }> {
  const perRound = Math.ceil(count / ROUNDS);
  const latencies = { redis: new Float64Array(perRound * ROUNDS), ours: new Float64Array(perRound * ROUNDS) };
  const totals = { redis: 0, ours: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ['redis', 'ours'] as const) {
      const step = side === 'redis' ? redisStep : oursStep;
      const started = performance.now();
      for (let j = 0; j < perRound; j++) {
        const i = round * perRound + j;
        const t0 = performance.now();
        await step(i);
        latencies[side][i] = performance.now() - t0;
      }
      totals[side] += performance.now() - started;
    }
  }
  return { redis: summarize(latencies.redis, totals.redis), ours: summarize(latencies.ours, totals.ours) };
}

function compare(
  what: string,
  redisName: string,
  oursName: string,
  r: { redis: LatencySummary; ours: LatencySummary },
) {
  report(`${what}: ${redisName}`, r.redis);
  report(`${what}: ${oursName}`, r.ours, { name: 'Redis', result: r.redis });
  line(`  p99 ${fmt(r.ours.p99Ms, 3)} ms = ${fmt(r.ours.p99Ms / r.redis.p99Ms, 2)}x Redis p99`);
}

export async function benchBoardsVsRedis(scale: number): Promise<void> {
  const members = Math.max(10_000, Math.round(1_000_000 * scale));
  const samples = Math.max(2000, Math.round(20_000 * scale));
  const down = await redisDown();
  if (down !== undefined) {
    line(`\n## Boards vs Redis sorted sets: skipped, Redis at ${redact(benchRedisUrl)} is down (${down})`);
    return;
  }
  const redis = new Redis(benchRedisUrl);
  const key = `savepoint-bench:${process.pid}:${Date.now()}:board`;
  let dbFile = '';
  const { db: savepoint, close } = await openScratch('boards-vs-redis', (file) => {
    dbFile = file;
    return openSavepoint({ url: `sqlite:${file}`, durability: 'normal' });
  });
  try {
    line(
      `\n## Boards vs Redis sorted sets, ${fmt(members)} members, ${fmt(samples)} samples per figure in ${ROUNDS} alternating rounds (SQLite durability normal; Redis ${redact(benchRedisUrl)} through ioredis)`,
    );
    const { leaderboards, store } = savepoint;
    await leaderboards.define(BOARD, { order: 'desc', operator: 'best', period: 'none' });
    const name = engineBoardName(BOARD, null);

    // Bulk load, Redis first: a pipeline of ZADDs per chunk against one commit of score ops per chunk.
    let started = performance.now();
    for (let offset = 0; offset < members; offset += LOAD_CHUNK) {
      const args: Array<string | number> = [];
      for (let i = offset; i < Math.min(members, offset + LOAD_CHUNK); i++)
        args.push(scoreOf(i), memberOf(i));
      await redis.zadd(key, ...args);
    }
    const redisLoadS = (performance.now() - started) / 1000;
    started = performance.now();
    await loadBoard(store, name, members);
    const oursLoadS = (performance.now() - started) / 1000;
    line(
      `bulk load: Redis ZADD ${fmt(members / redisLoadS)} members/s, Savepoint commit([score × ${fmt(LOAD_CHUNK)}]) ${fmt(members / oursLoadS)} members/s = ${fmt(redisLoadS / oursLoadS, 2)}x Redis`,
    );
    const total = (await leaderboards.top(BOARD, { limit: 1 })).total;
    if (total !== members || (await redis.zcard(key)) !== members) {
      throw new Error(`boards hold ${total} and ${await redis.zcard(key)} members, not ${members}`);
    }

    // The load leaves a write-ahead log of the whole board, which the checkpoint worker then copies
    // for a while beside the timed reads and writes: settle it first, so both sides start idle.
    checkpoint(dbFile);

    const random = (i: number) => memberOf((i * 104_729 + 7) % members);
    compare(
      'top 100',
      'ZREVRANGE 0 99 WITHSCORES',
      'store.boardRange',
      await alternate(
        samples,
        () => redis.zrevrange(key, 0, 99, 'WITHSCORES'),
        () => store.boardRange(name, { limit: 100 }),
      ),
    );
    compare(
      'top 100',
      'ZREVRANGE 0 99 WITHSCORES',
      'leaderboards.top',
      await alternate(
        samples,
        () => redis.zrevrange(key, 0, 99, 'WITHSCORES'),
        () => leaderboards.top(BOARD, { limit: 100 }),
      ),
    );
    compare(
      'rank',
      'ZREVRANK',
      'store.boardMember',
      await alternate(
        samples,
        (i) => redis.zrevrank(key, random(i)),
        (i) => store.boardMember(name, random(i)),
      ),
    );
    compare(
      'rank',
      'ZREVRANK',
      'leaderboards.member',
      await alternate(
        samples,
        (i) => redis.zrevrank(key, random(i)),
        (i) => leaderboards.member(BOARD, random(i)),
      ),
    );
    compare(
      'rank + score',
      'ZREVRANK + ZSCORE pipelined',
      'leaderboards.member',
      await alternate(
        samples,
        (i) => redis.pipeline().zrevrank(key, random(i)).zscore(key, random(i)).exec(),
        (i) => leaderboards.member(BOARD, random(i)),
      ),
    );
    // Half the writes beat the member's score. Each side writes the same members and scores.
    const writeScore = (i: number) => scoreOf(i * 7_919 + 13) + (i % 2 === 0 ? 200_000 : 0);
    const writer = (i: number) => memberOf((i * 15_485_863 + 11) % members);
    compare(
      'score write',
      'ZADD GT',
      'commit([score best])',
      await alternate(
        samples,
        (i) => redis.zadd(key, 'GT', writeScore(i), writer(i)),
        (i) =>
          store.commit([
            {
              op: 'score',
              board: name,
              member: writer(i),
              score: writeScore(i),
              mode: 'best',
              order: 'desc',
            },
          ]),
      ),
    );

    const redisBytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const sqliteBytes = boardTableBytes(dbFile);
    line(
      `bytes per member: Redis MEMORY USAGE ${fmt(redisBytes / members, 1)} B, Savepoint board tables ${fmt(sqliteBytes.tables / members, 1)} B (whole file ${fmt(sqliteBytes.file / members, 1)} B) = ${fmt(sqliteBytes.tables / redisBytes, 2)}x Redis`,
    );
  } finally {
    await redis.del(key);
    redis.disconnect();
    await close();
  }
}

function checkpoint(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/** Bytes of the board tables' pages (dbstat: entries, their rank index, blocks) and of the whole file. */
function boardTableBytes(file: string): { tables: number; file: number } {
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const tables = db
      .prepare<[], number>(
        `SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name IN ('boards', 'board_entries', 'board_blocks'))`,
      )
      .pluck()
      .get() as number;
    return { tables, file: statSync(file).size };
  } finally {
    db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchBoardsVsRedis(Number(process.argv[2] ?? '1'));
