/**
 * Game history: what it costs on disk and on writes, and how fast a version is read back.
 * - Bytes per version: games written to 100 versions each, once with history on and once off,
 *   each file vacuumed; the difference per version against the state's own size (the goal: 100
 *   versions cost less than 10 full copies of the state).
 * - Persist and events-with-state p99, history on against off, in alternating rounds.
 * - `restore?version=` of a random retained version at 100 versions, against the current one.
 *
 *   node --import tsx bench/games/history.ts [scale]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Games } from '../../src/domains/games/games.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import type { JsonObject } from '../../src/engine/types.js';
import { fmt, type LatencySummary, line, report, scratchDir, timeSequential } from '../support/stats.js';

const VERSIONS = 100;
const SEATS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];

/** A ~1 KB poker table; each action changes a few fields: the pot, who acts, one seat's chips, the last action. */
function table(action: number): JsonObject {
  return {
    tableId: 'high-rollers-7',
    blinds: { small: 5, big: 10 },
    deck: Array.from({ length: 40 }, (_, i) => `${'23456789TJQKA'[i % 13]}${'cdhs'[i % 4]}`),
    seats: Object.fromEntries(
      SEATS.map((seat, i) => [
        seat,
        {
          chips: i === action % SEATS.length ? 1000 - action : 1000,
          cards: ['As', 'Kd'],
          avatar: `https://cdn.example.com/avatars/${seat}.png`,
          stats: { handsPlayed: 120 + i, vpip: 0.21 },
        },
      ]),
    ),
    community: ['2c', '7h', 'Td'],
    pot: action * 10,
    toAct: SEATS[(action + 1) % SEATS.length] as string,
    lastAction: {
      seat: SEATS[action % SEATS.length] as string,
      kind: action % 3 === 0 ? 'raise' : 'call',
      amount: 10,
    },
  };
}

const open = async (file: string) => new Store(await openSqliteDriver({ path: file, durability: 'normal' }));

/** The vacuumed size of a store after `games` games of {@link VERSIONS} versions each. */
async function storeBytes(
  dir: string,
  name: string,
  games: number,
  historyVersions: number,
): Promise<number> {
  const file = join(dir, `${name}.db`);
  const store = await open(file);
  const domain = new Games(store, { historyVersions });
  for (let g = 0; g < games; g++) {
    await domain.persist(`g${g}`, { state: table(0), players: SEATS });
    for (let v = 1; v < VERSIONS; v++) {
      if (v % 2 === 0) await domain.persist(`g${g}`, { state: table(v) });
      else await domain.appendEvents(`g${g}`, { events: [{ type: 'bet', data: { v } }], state: table(v) });
    }
  }
  await store.close();
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.exec('VACUUM');
  db.close();
  return statSync(file).size;
}

async function alternate(
  rounds: number,
  count: number,
  stepOn: (i: number) => unknown,
  stepOff: (i: number) => unknown,
): Promise<{ on: LatencySummary; off: LatencySummary }> {
  const on: Float64Array[] = [];
  const off: Float64Array[] = [];
  let onTotal = 0;
  let offTotal = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [steps, into, which] of [
      [stepOff, off, 'off'],
      [stepOn, on, 'on'],
    ] as const) {
      const latencies = new Float64Array(count);
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await steps(round * count + i);
        latencies[i] = performance.now() - t0;
      }
      if (which === 'on') onTotal += performance.now() - started;
      else offTotal += performance.now() - started;
      into.push(latencies);
    }
  }
  const merge = (parts: Float64Array[], total: number): LatencySummary => {
    const all = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
    const sorted = all.sort();
    return {
      count: sorted.length,
      perSecond: (sorted.length / total) * 1000,
      p50Ms: sorted[Math.floor(sorted.length * 0.5)] as number,
      p99Ms: sorted[Math.floor(sorted.length * 0.99)] as number,
      maxMs: sorted[sorted.length - 1] as number,
    };
  };
  return { on: merge(on, onTotal), off: merge(off, offTotal) };
}

export async function benchGameHistory(scale = 1): Promise<void> {
  const dir = scratchDir('history');
  try {
    const games = Math.max(20, Math.round(200 * scale));
    line(
      `\n## Game history: ${fmt(games)} games × ${VERSIONS} versions, ~1 KB state, a few fields per action`,
    );
    const stateBytes = Buffer.byteLength(JSON.stringify(table(50)));
    const withHistory = await storeBytes(dir.path, 'on', games, VERSIONS);
    const without = await storeBytes(dir.path, 'off', games, 0);
    const perVersion = (withHistory - without) / (games * (VERSIONS - 1));
    line(
      `state ${fmt(stateBytes)} B; vacuumed file with history ${fmt(withHistory)} B, without ${fmt(without)} B`,
    );
    line(
      `history on disk: ${fmt(perVersion, 1)} B per version; ${VERSIONS} versions = ${fmt(perVersion * VERSIONS)} B ` +
        `= ${fmt((perVersion * VERSIONS) / stateBytes, 2)} full copies (goal < 10)`,
    );

    const count = Math.max(500, Math.round(5000 * scale));
    const onStore = await open(join(dir.path, 'latency-on.db'));
    const offStore = await open(join(dir.path, 'latency-off.db'));
    try {
      const on = new Games(onStore, { historyVersions: VERSIONS });
      const off = new Games(offStore, { historyVersions: 0 });
      await on.persist('t', { state: table(0), players: SEATS });
      await off.persist('t', { state: table(0), players: SEATS });
      line(`\n${fmt(count)} sequential calls per side, alternating 4 rounds (durability normal)`);
      const persist = await alternate(
        4,
        Math.round(count / 4),
        (i) => on.persist('t', { state: table(i) }),
        (i) => off.persist('t', { state: table(i) }),
      );
      report('persist, history off', persist.off);
      report('persist, history on', persist.on, { name: 'off', result: persist.off });
      line(`persist p99 on/off = ${fmt(persist.on.p99Ms / persist.off.p99Ms, 2)} (goal <= 1.1)`);
      const events = await alternate(
        4,
        Math.round(count / 4),
        (i) => on.appendEvents('t', { events: [{ type: 'bet', data: { i } }], state: table(i) }),
        (i) => off.appendEvents('t', { events: [{ type: 'bet', data: { i } }], state: table(i) }),
      );
      report('events + state, history off', events.off);
      report('events + state, history on', events.on, { name: 'off', result: events.off });
      line(`events p99 on/off = ${fmt(events.on.p99Ms / events.off.p99Ms, 2)} (goal <= 1.1)`);

      const current = (await on.restore('t')).version;
      const retained = (await on.history('t', { limit: 1000 })).versions.map((v) => v.version);
      const latest = await timeSequential(count, () => on.restore('t'));
      const past = await timeSequential(count, (i) =>
        on.restoreVersion('t', retained[(i * 7919) % retained.length] as number),
      );
      line(`\n${fmt(retained.length)} retained versions (current ${fmt(current)})`);
      report('restore (current)', latest);
      report('restore?version= (random retained)', past, { name: 'current', result: latest });
      line(`point-in-time read p99 ${fmt(past.p99Ms, 3)} ms (goal < 2 ms)`);
    } finally {
      await onStore.close();
      await offStore.close();
    }
  } finally {
    dir.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchGameHistory(Number(process.argv[2] ?? '1'));
}
