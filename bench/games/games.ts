/**
 * The games module against the bare engine doing the least the same call needs (SQLite driver,
 * durability normal), to show what its guarantees cost per game action (the aim: < 10 ms):
 * - an action through `GameTracker` (event + ~1 KB snapshot, one commit, snapshot copied first)
 *   against one engine append of the same event;
 * - `restore` against one engine `get` of the same document;
 * - a reconnect (rate-limit read, game and token reads, rotation commit, missed events), answered
 *   at once (`seatRaceWindowMs: 0`), timed alone.
 *
 *   node --import tsx bench/games/games.ts [count]
 */
import { join } from 'node:path';
import { Games } from '../../src/domains/games/games.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import type { JsonObject } from '../../src/engine/types.js';
import { fmt, line, report, scratchDir, timeSequential } from '../support/stats.js';

/** A poker table of about 1 KB, changed by every action so that every write changes the stored bytes. */
function table(action: number): JsonObject {
  const players = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
  return {
    action,
    pot: action % 500,
    deck: Array.from({ length: 40 }, (_, i) => `${'23456789TJQKA'[(i + action) % 13]}${'cdhs'[i % 4]}`),
    chips: Object.fromEntries(players.map((p, i) => [p, 100 + ((action * (i + 1)) % 97)])),
    holes: Object.fromEntries(players.map((p) => [p, ['As', 'Kd']])),
    community: ['2c', '7h', 'Td'],
    phase: 'flop',
    toAct: players[action % players.length] as string,
  };
}

export async function benchGames(count: number): Promise<void> {
  const dir = scratchDir('games');
  const store = new Store(
    await openSqliteDriver({ path: join(dir.path, 'savepoint.db'), durability: 'normal' }),
  );
  try {
    line(`\n## Game actions, ${fmt(count)} sequential, ~1 KB snapshot each (durability normal)`);
    const games = new Games(store, { seatRaceWindowMs: 0 });
    let state = table(0);
    await games.persist('bench', { state, players: ['ann', 'ben'] });
    const tracker = games.track('bench', { getState: () => state, getPhase: () => 'flop' });

    const rawAppend = (i: number) =>
      store.commit([
        { op: 'append', stream: 'raw-game', events: [{ type: 'bet', data: { player: 'ann', chips: i } }] },
      ]);
    const action = (i: number) => {
      state = table(i);
      return tracker.action('bet', { player: 'ann', chips: i });
    };
    const raw = await timeSequential(count, rawAppend);
    const ours = await timeSequential(count, action);
    report('engine commit([append 1 event])', raw);
    report('GameTracker.action (event + snapshot)', ours, { name: 'engine', result: raw });

    const rawGet = await timeSequential(count, () => store.get('game', 'bench'));
    const restore = await timeSequential(count, () => games.restore('bench'));
    report('engine get(game document)', rawGet);
    report('Games.restore', restore, { name: 'engine', result: rawGet });

    line(`\n## Reconnects, ${fmt(Math.min(count, 2000))} sequential, no missed events (durability normal)`);
    let token = (await games.issueToken('bench', 'ann')).token;
    const lastSeq = (await games.restore('bench')).lastSeq;
    const reconnect = await timeSequential(Math.min(count, 2000), async () => {
      token = (
        await games.reconnect('bench', { playerId: 'ann', reconnectToken: token, lastEventSeq: lastSeq })
      ).reconnectToken;
    });
    report('Games.reconnect (seatRaceWindowMs 0)', reconnect);
  } finally {
    await store.close();
    dir.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchGames(Number(process.argv[2] ?? '5000'));
