/** Boards at scale: score writes, top-100 and rank-of-member latency with many members. */
import { join } from 'node:path';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import { fmt, line, report, scratchDir, timeSequential } from '../support/stats.js';

export async function benchBoards(members: number, samples: number): Promise<void> {
  const dir = scratchDir('boards');
  try {
    line(`\n## Board with ${fmt(members)} members`);
    const store = new Store(await openSqliteDriver({ path: join(dir.path, 'savepoint.db') }));
    const scoreOf = (i: number) => ((i * 2654435761) % 1_000_003) / 10; // spread, with ties
    const started = performance.now();
    for (let offset = 0; offset < members; offset += 10_000) {
      await store.commit(
        Array.from({ length: Math.min(10_000, members - offset) }, (_, j) => ({
          op: 'score' as const,
          board: 'leaderboard:global',
          member: `player-${offset + j}`,
          score: scoreOf(offset + j),
          mode: 'set' as const,
        })),
      );
    }
    line(`(loaded in ${fmt((performance.now() - started) / 1000, 1)} s, 10,000 score ops per commit)`);

    const writes = await timeSequential(samples, (i) =>
      store.commit([
        {
          op: 'score',
          board: 'leaderboard:global',
          member: `player-${(i * 7919) % members}`,
          score: scoreOf(i + 17),
          mode: 'best',
        },
      ]),
    );
    report('score write (best), 1 per commit', writes);
    const top = await timeSequential(samples, () => store.boardRange('leaderboard:global', { limit: 100 }));
    report('top 100', top);
    const rank = await timeSequential(samples, (i) =>
      store.boardMember('leaderboard:global', `player-${(i * 104729) % members}`),
    );
    report('rank of a random member', rank);
    const bottom = await timeSequential(samples, async () => {
      const last = await store.boardRange('leaderboard:global', { offset: members - 1, limit: 1 });
      return store.boardMember('leaderboard:global', last[0]?.member ?? 'player-0');
    });
    report('bottom entry by offset + its rank', bottom);
    await store.close();
  } finally {
    dir.remove();
  }
}
