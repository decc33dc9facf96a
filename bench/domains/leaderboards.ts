/**
 * The leaderboards module at scale, through the library API (`openSavepoint`, SQLite,
 * durability normal), against the raw engine calls the same reads and writes come down to:
 * - top 100: `leaderboards.top` against `store.boardRange`;
 * - a member's rank: `leaderboards.member` against `store.boardMember`;
 * - score submits: `leaderboards.submit` (definition read + score op + rank read) against
 *   `store.commit([{ op: 'score' }])`, one caller at a time and 20 concurrent callers.
 * The board (`desc`/`best`/no periods) is defined through the module, then loaded with 1,000,000 ×
 * scale members by engine score ops in 10,000-op commits on the module's engine board name.
 */
import { engineBoardName } from '../../src/domains/leaderboards/board-names.js';
import { openSavepoint } from '../../src/savepoint.js';
import { LOAD_CHUNK, loadBoard, memberOf, scoreOf } from '../support/board-load.js';
import { openScratch } from '../support/scratch-db.js';
import { compareSequentialAndConcurrent, fmt, line, report, timeSequential } from '../support/stats.js';

const BOARD = 'global';
const CLIENTS = 20;

export async function benchLeaderboards(scale: number): Promise<void> {
  const members = Math.max(10_000, Math.round(1_000_000 * scale));
  const samples = Math.max(1000, Math.round(5000 * scale));
  const { db: savepoint, close } = await openScratch('leaderboards-scale', (file) =>
    openSavepoint({ url: `sqlite:${file}`, durability: 'normal' }),
  );
  try {
    line(
      `\n## Leaderboard with ${fmt(members)} members through the library (desc/best, no periods, durability normal), ${fmt(samples)} samples each`,
    );
    const { leaderboards, store } = savepoint;
    await leaderboards.define(BOARD, { order: 'desc', operator: 'best', period: 'none' });
    const name = engineBoardName(BOARD, null);
    const started = performance.now();
    await loadBoard(store, name, members);
    const loadedMs = performance.now() - started;
    const total = (await leaderboards.top(BOARD, { limit: 1 })).total;
    line(
      `(loaded ${fmt(total)} members on engine board "${name}" in ${fmt(loadedMs / 1000, 1)} s, ${fmt(LOAD_CHUNK)} score ops per commit)`,
    );
    if (total !== members) throw new Error(`board holds ${total} members, not ${members}`);

    const randomMember = (i: number) => memberOf((i * 104_729) % members);
    const rawTop = await timeSequential(samples, () => store.boardRange(name, { limit: 100 }));
    const ourTop = await timeSequential(samples, () => leaderboards.top(BOARD, { limit: 100 }));
    report('engine boardRange(limit 100)', rawTop);
    report('Leaderboards.top (limit 100)', ourTop, { name: 'engine', result: rawTop });
    line(`  top-100 p99 ${fmt(ourTop.p99Ms, 3)} ms = ${fmt(ourTop.p99Ms / rawTop.p99Ms, 2)}x engine p99`);

    const rawRank = await timeSequential(samples, (i) => store.boardMember(name, randomMember(i)));
    const ourRank = await timeSequential(samples, (i) => leaderboards.member(BOARD, randomMember(i)));
    report('engine boardMember (random member)', rawRank);
    report('Leaderboards.member (random member)', ourRank, { name: 'engine', result: rawRank });
    line(
      `  member-rank p99 ${fmt(ourRank.p99Ms, 3)} ms = ${fmt(ourRank.p99Ms / rawRank.p99Ms, 2)}x engine p99`,
    );

    // Half the submits beat the member's score (a write), half do not (best keeps the old one).
    // Each of the four timed runs submits for its own members: run k uses i + k × samples.
    const submitScore = (i: number) => scoreOf(i * 7_919 + 13) + (i % 2 === 0 ? 200_000 : 0);
    const rawSubmit = (i: number, run: number) =>
      store.commit([
        {
          op: 'score',
          board: name,
          member: randomMember(i + run * samples),
          score: submitScore(i + run * samples),
          mode: 'best',
          order: 'desc',
        },
      ]);
    const ourSubmit = (i: number, run: number) =>
      leaderboards.submit(BOARD, {
        member: randomMember(i + run * samples),
        score: submitScore(i + run * samples) + 0.5,
      });
    await compareSequentialAndConcurrent(
      samples,
      CLIENTS,
      { name: 'engine commit([score])', step: rawSubmit },
      { name: 'Leaderboards.submit', step: ourSubmit },
    );
    line(
      '  (submit also reads the definition before and the rank after its commit; the engine baseline is the score commit alone)',
    );
  } finally {
    await close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLeaderboards(Number(process.argv[2] ?? '1'));
