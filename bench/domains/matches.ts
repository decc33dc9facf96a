/**
 * The matches and leaderboards modules against the bare engine doing the least the same call
 * needs (SQLite driver, durability normal): what the module's guarantees cost per call.
 * - a match score increment (open marker + score document + match board, one commit) against one
 *   `$inc` patch;
 * - a leaderboard submit (definition read + score op + rank read) against a score op and a rank read;
 * - completing a match with 100 players and 10 rounds (one commit of ~320 ops), timed alone.
 */
import { Leaderboards } from '../../src/domains/leaderboards/leaderboards.js';
import { Matches } from '../../src/domains/matches/matches.js';
import { openNormalStore, openScratch } from '../support/scratch-db.js';
import { compareSequentialAndConcurrent, fmt, line, report, timeSequential } from '../support/stats.js';

const MATCH = { status: 'active', roundsTotal: 10, createdBy: 'bench' };

export async function benchMatchScores(count: number): Promise<void> {
  const { db: store, close } = await openScratch('matches', openNormalStore);
  try {
    line(`\n## Match score increments, ${fmt(count)} over 100 players (durability normal)`);
    const matches = new Matches(store);
    await matches.put('bench', MATCH);
    const rawInc = (i: number) =>
      store.commit([
        {
          op: 'patch',
          collection: 'raw-score',
          key: `bench:p${i % 100}`,
          upsert: true,
          patch: { $inc: { points: 1 + (i % 7) } },
        },
      ]);
    const ours = (i: number) => matches.addScore('bench', `p${i % 100}`, { points: 1 + (i % 7) });
    await compareSequentialAndConcurrent(
      count,
      20,
      { name: 'engine commit([$inc patch])', step: rawInc },
      { name: 'Matches.addScore', step: ours },
    );

    const completions = Math.max(5, Math.round(count / 1000));
    for (let m = 0; m < completions; m++) {
      await matches.put(`done-${m}`, MATCH);
      for (let r = 0; r < 10; r++) {
        await matches.putRound(`done-${m}`, r, { promptText: `round ${r}` });
        await matches.closeRound(`done-${m}`, r, { winnerUser: `p${(r * 7) % 100}` });
      }
      for (let p = 0; p < 100; p++) await matches.addScore(`done-${m}`, `p${p}`, { points: p });
    }
    const complete = await timeSequential(completions, (m) => matches.complete(`done-${m}`));
    report('Matches.complete (100 players, 10 rounds)', complete);
  } finally {
    await close();
  }
}

export async function benchLeaderboardSubmits(count: number): Promise<void> {
  const { db: store, close } = await openScratch('leaderboards', openNormalStore);
  try {
    line(`\n## Leaderboard submits, ${fmt(count)} over 10,000 members (best, durability normal)`);
    const leaderboards = new Leaderboards(store);
    await leaderboards.define('daily', { order: 'desc', operator: 'best', period: 'daily' });
    const member = (i: number) => `m${(i * 7919) % 10_000}`;
    const score = (i: number) => (i * 2_654_435_761) % 1_000_003;
    const raw = await timeSequential(count, async (i) => {
      await store.commit([
        { op: 'score', board: 'raw-board', member: member(i), score: score(i), mode: 'best' },
      ]);
      return store.boardMember('raw-board', member(i));
    });
    const ours = await timeSequential(count, (i) =>
      leaderboards.submit('daily', { member: member(i), score: score(i) }),
    );
    report('engine score op + rank read', raw);
    report('Leaderboards.submit (daily board)', ours, { name: 'engine', result: raw });
    const top = await timeSequential(Math.min(count, 2000), () => leaderboards.top('daily', { limit: 100 }));
    report('Leaderboards.top (100 of 10,000)', top);
  } finally {
    await close();
  }
}
