import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog, seedCatalogFromDirectory } from '../../src/domains/catalog/catalog.js';
import { Rankings } from '../../src/domains/rankings/rankings.js';
import { Saves } from '../../src/domains/saves/saves.js';
import { Sessions } from '../../src/domains/sessions/sessions.js';
import { Stats } from '../../src/domains/stats/stats.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/seeds');
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-restart-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

function modules(store: Store) {
  return {
    sessions: new Sessions(store),
    stats: new Stats(store),
    rankings: new Rankings(store),
    saves: new Saves(store),
    catalog: new Catalog(store),
  };
}

/** Everything the modules can tell about their data. */
async function snapshot(m: ReturnType<typeof modules>, sessionIds: readonly string[]) {
  const catalog = await m.catalog.overview();
  const kinds = await Promise.all(catalog.kinds.map((kind) => m.catalog.kind(kind.kind)));
  return {
    sessions: await Promise.all(sessionIds.map((id) => m.sessions.get(id))),
    sessionList: await m.sessions.list({ limit: 1000 }),
    counts: await m.sessions.counts(),
    summary: await m.stats.summary(),
    rankings: (await m.rankings.exportDocument()).entries,
    saves: [await m.saves.list('ana'), await m.saves.get('ana', 1), await m.saves.get('ana', 3)],
    catalog,
    kinds: kinds.map((kind) => ({ ...kind, byId: [...(kind?.byId ?? [])] })),
  };
}

describe('restart: sessions, stats, rankings, saves and catalog on sqlite', () => {
  it('reads back everything identical after closing and reopening the file', async () => {
    const file = path.join(directory, 'restart.db');
    const first = new Store(await openSqliteDriver({ path: file }));
    const m = modules(first);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push((await m.sessions.create({ state: { turn: i }, options: { seat: i % 2 } })).sessionId);
    await m.sessions.update(ids[0] as string, { state: { turn: 9 }, status: 'completed' });
    await m.sessions.delete(ids[1] as string);
    for (let i = 0; i < 30; i++) {
      await m.stats.recordGame({
        outcome: i % 3 ? 'win' : 'loss',
        moves: i,
        durationMs: 100 * i,
        metrics: { reward: i / 7 },
      });
    }
    await m.rankings.setMany(
      Array.from({ length: 300 }, (_, i) => ({ stateKey: `s${i >> 2}`, move: i & 3, value: i / 3 })),
    );
    await m.rankings.set('s0', 0, -0.125);
    await m.saves.put('ana', 1, { floor: 7, inventory: ['rope', 'torch'] });
    await m.saves.put('ana', 3, { floor: 1 });
    await seedCatalogFromDirectory(first, EXAMPLES);
    const before = await snapshot(m, ids);
    await m.rankings.settled();
    m.catalog.close();
    await first.close();

    const second = new Store(await openSqliteDriver({ path: file }));
    const reopened = modules(second);
    const after = await snapshot(reopened, ids);
    expect(after).toEqual(before);
    expect(after.counts).toEqual({ created: 6, active: 4, completed: 1 });
    expect(after.summary.gamesRecorded).toBe(30);
    expect(after.rankings).toHaveLength(300);
    // Writing goes on from where it was: versions and counters continue.
    expect((await reopened.saves.put('ana', 1, {})).save.version).toBe(2);
    expect(
      (await reopened.stats.recordGame({ outcome: 'win' })) && (await reopened.stats.summary()).gamesRecorded,
    ).toBe(31);
    expect((await seedCatalogFromDirectory(second, EXAMPLES)).committed).toBe(false);
    reopened.catalog.close();
    await second.close();
  });
});
