import { afterAll, describe, expect, it } from 'vitest';
import { Sessions } from '../../src/domains/sessions/sessions.js';
import { Stats } from '../../src/domains/stats/stats.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_stats');
afterAll(cleanup);

/** `[name, open]` for every driver of the one list that runs. */
const drivers = storages
  .filter((storage) => storage.enabled)
  .map((storage) => [storage.name, () => storage.openStore()] as const);

const OUTCOMES = ['win', 'loss', 'draw'] as const;

describe.each(drivers)('stats on %s', (_name, open) => {
  it('counts 500 games from 20 parallel clients exactly', async () => {
    const store = await open();
    // One Stats per client: they share nothing in-process, as separate servers would.
    const clients = Array.from({ length: 20 }, () => new Stats(store));
    const games = Array.from({ length: 500 }, (_, i) => ({
      outcome: OUTCOMES[i % 3] as string,
      moves: (i % 17) + 3,
      durationMs: 1000 + i,
      metrics: { score: i - 250 },
    }));
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = c; i < games.length; i += clients.length) await client.recordGame(games[i] as never);
      }),
    );
    const summary = await (clients[0] as Stats).summary();
    expect(summary.gamesRecorded).toBe(500);
    expect(summary.outcomes).toEqual({ win: 167, loss: 167, draw: 166 });
    const sum = (pick: (g: (typeof games)[number]) => number) =>
      games.reduce((total, g) => total + pick(g), 0);
    expect(summary.metrics.moves).toMatchObject({
      count: 500,
      mean: sum((g) => g.moves) / 500,
      min: 3,
      max: 19,
    });
    expect(summary.metrics.durationMs).toMatchObject({
      count: 500,
      mean: sum((g) => g.durationMs) / 500,
      min: 1000,
      max: 1499,
    });
    expect(summary.metrics.score).toMatchObject({
      count: 500,
      mean: sum((g) => g.metrics.score) / 500,
      min: -250,
      max: 249,
    });
    await store.close();
  });

  it('also counts exactly when many records share one client', async () => {
    const store = await open();
    const stats = new Stats(store);
    await Promise.all(Array.from({ length: 300 }, (_, i) => stats.recordGame({ outcome: 'win', moves: i })));
    const summary = await stats.summary();
    expect(summary.gamesRecorded).toBe(300);
    expect(summary.metrics.moves).toMatchObject({ count: 300, min: 0, max: 299, mean: 149.5 });
    await store.close();
  });

  it('follows the sequential EMA definition for a serial run', async () => {
    const store = await open();
    const alpha = 0.25;
    const stats = new Stats(store, { emaAlpha: alpha });
    const values = Array.from({ length: 40 }, (_, i) => ((i * 37) % 23) + i / 8);
    let ema: number | undefined;
    for (const value of values) {
      await stats.recordGame({ outcome: 'win', metrics: { q: value } });
      ema = ema === undefined ? value : alpha * value + (1 - alpha) * ema;
    }
    expect((await stats.summary()).metrics.q?.ema).toBe(ema);
    await store.close();
  });

  it('reports sessions, refuses bad records, and resets', async () => {
    const store = await open();
    const stats = new Stats(store);
    const sessions = new Sessions(store);
    const session = await sessions.create();
    await sessions.update(session.sessionId, { state: {}, status: 'completed' });
    await sessions.create();
    await stats.recordGame({
      sessionId: session.sessionId,
      outcome: 'win',
      moves: 5,
      metrics: { reward: 1.5 },
    });
    await expectCode(stats.recordGame({ outcome: '' }), 'INVALID_INPUT');
    await expectCode(stats.recordGame({ outcome: 'lone \ud800 surrogate' }), 'INVALID_INPUT');
    await expectCode(stats.recordGame({ outcome: 'win', moves: -1 }), 'INVALID_INPUT');
    await expectCode(stats.recordGame({ outcome: 'win', metrics: { x: Number.NaN } }), 'INVALID_INPUT');
    await expectCode(stats.recordGame({ outcome: 'win', moves: 1, metrics: { moves: 2 } }), 'INVALID_INPUT');
    expect(await stats.summary()).toEqual({
      gamesRecorded: 1,
      outcomes: { win: 1 },
      metrics: {
        moves: { count: 1, mean: 5, min: 5, max: 5, ema: 5 },
        reward: { count: 1, mean: 1.5, min: 1.5, max: 1.5, ema: 1.5 },
      },
      sessions: { created: 2, active: 1, completed: 1 },
    });
    await stats.reset();
    expect(await stats.summary()).toEqual({
      gamesRecorded: 0,
      outcomes: {},
      metrics: {},
      sessions: { created: 0, active: 1, completed: 1 },
    });
    await stats.recordGame({ outcome: 'loss', moves: 9 });
    expect((await stats.summary()).metrics.moves).toEqual({ count: 1, mean: 9, min: 9, max: 9, ema: 9 });
    await store.close();
  });

  it('never splits a record across a concurrent reset', async () => {
    const store = await open();
    const stats = new Stats(store);
    const other = new Stats(store);
    const writes = Array.from({ length: 100 }, (_, i) =>
      (i % 2 ? stats : other).recordGame({ outcome: 'win', moves: 1 }),
    );
    await Promise.all([...writes, other.reset(), stats.reset()]);
    const summary = await stats.summary();
    expect(summary.outcomes.win ?? 0).toBe(summary.gamesRecorded);
    expect(summary.metrics.moves?.count ?? 0).toBe(summary.gamesRecorded);
    await store.close();
  });
});
