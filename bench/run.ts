/**
 * Runs the benchmarks: `npm run bench` (all) or `npm run bench -- engine` (one group).
 * Every figure comes with a baseline measured in the same run; see bench/RESULTS.md.
 * Set BENCH_SCALE=0.1 for a quick smoke run.
 */

import { cpus, totalmem } from 'node:os';
import { benchBoardgameIo } from './adapters/boardgame-io.js';
import { benchKeyv } from './adapters/keyv.js';
import { benchRedisCache } from './cache/cache.js';
import { benchPausedPeer } from './cluster/paused-peer.js';
import { benchLeaderboards } from './domains/leaderboards.js';
import { benchLeaderboardSubmits, benchMatchScores } from './domains/matches.js';
import { benchBoards } from './engine/boards.js';
import { benchBoardsVsRedis } from './engine/boards-vs-redis.js';
import { benchCheckpoints } from './engine/checkpoints.js';
import { benchOpenTime, benchPointReads, benchUpserts } from './engine/documents.js';
import { benchAppends } from './engine/streams.js';
import { benchGames } from './games/games.js';
import { benchGameHistory } from './games/history.js';
import { benchGamesOpenLoop } from './games/open-loop.js';
import { benchHttp } from './http/http.js';
import { benchGamesVsBgioPostgres } from './postgres/games-vs-bgio.js';
import { benchPostgresCommits } from './postgres/postgres.js';
import { benchColdStart } from './start/cold-start.js';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const n = (count: number) => Math.max(100, Math.round(count * scale));

const groups: Record<string, () => Promise<void>> = {
  engine: async () => {
    await benchUpserts(n(50_000));
    await benchPointReads(n(1_000_000), n(100_000));
    await benchAppends(n(20_000), n(200_000));
    await benchBoards(n(1_000_000), n(5_000));
    await benchOpenTime(n(1_000_000));
    await benchCheckpoints(Math.max(5, Math.round(30 * scale)));
  },
  http: async () => {
    await benchHttp(n(1_000_000), 10);
  },
  games: async () => {
    await benchGames(n(5_000));
    await benchGamesOpenLoop(scale);
    await benchGameHistory(scale);
  },
  domains: async () => {
    await benchMatchScores(n(5_000));
    await benchLeaderboardSubmits(n(5_000));
    await benchLeaderboards(scale);
  },
  postgres: () => benchPostgresCommits(scale),
  'postgres-games': () => benchGamesVsBgioPostgres(scale),
  cache: () => benchRedisCache(scale),
  keyv: () => benchKeyv(n(1_000)),
  'boardgame.io': () => benchBoardgameIo(Math.max(10, Math.round(200 * scale))),
  cluster: () => benchPausedPeer(scale),
  boards: () => benchBoardsVsRedis(scale),
  // Times the compiled CLI: run `npm run build` first.
  start: () => benchColdStart(Math.max(3, Math.round(9 * scale)), n(100_000)),
};

const wanted = process.argv.slice(2);
console.log(
  `# Savepoint benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, scale ${scale}`,
);
for (const [name, run] of Object.entries(groups)) {
  if (wanted.length === 0 || wanted.includes(name)) await run();
}
