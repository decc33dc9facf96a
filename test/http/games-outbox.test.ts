/**
 * The games outbox over HTTP (docs/api.md#games, `durable: false`): while the storage refuses commits, persist and
 * events answer 202 with `durable: false`, restore and the event list see the queued writes, and
 * `/health` is `degraded` with the queued writes in `storage.pendingWrites`; once the storage
 * answers, the queue is written and `/health` reports nothing pending.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gamesModule } from '../../src/domains/games/games.module.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { Store } from '../../src/engine/store.js';
import { Savepoint } from '../../src/savepoint.js';
import { flakyDriver } from '../support/flaky-driver.js';
import { TEST_AUTH as auth, startTestServer, type TestServer } from '../support/http.js';

describe('games outbox over HTTP', () => {
  let server: TestServer;
  let app: FastifyInstance;
  let savepoint: Savepoint;
  let outage: { down: boolean };

  beforeEach(async () => {
    const flaky = flakyDriver(await openMemoryDriver());
    outage = flaky.outage;
    savepoint = new Savepoint(new Store(flaky.driver));
    server = await startTestServer({ savepoint, modules: [gamesModule] });
    app = server.app;
  });

  afterEach(async () => {
    outage.down = false;
    await server.close();
    await savepoint.close();
  });

  it('answers 202 durable:false during an outage, /health is degraded with pendingWrites, then recovers', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/game/g1/persist',
      headers: auth,
      payload: { state: { round: 0 }, players: ['p1'] },
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).not.toHaveProperty('durable');

    outage.down = true;
    const persisted = await app.inject({
      method: 'POST',
      url: '/api/game/g1/persist',
      headers: auth,
      payload: { state: { round: 1 }, expectedVersion: 1 },
    });
    expect(persisted.statusCode).toBe(202);
    expect(persisted.json()).toEqual({
      success: true,
      persistedAt: expect.any(String),
      version: 2,
      durable: false,
    });
    expect(persisted.headers.etag).toBe('"2"');
    const appended = await app.inject({
      method: 'POST',
      url: '/api/game/g1/events',
      headers: auth,
      payload: { events: [{ type: 'bet', data: 5 }, { type: 'fold' }] },
    });
    expect(appended.statusCode).toBe(202);
    expect(appended.json()).toEqual({ firstSeq: 1, lastSeq: 2, version: 3, durable: false });

    const restored = await app.inject({ method: 'GET', url: '/api/game/g1/restore', headers: auth });
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ state: { round: 1 }, version: 3, lastSeq: 2 });
    const events = await app.inject({ method: 'GET', url: '/api/game/g1/events', headers: auth });
    expect(events.json()).toMatchObject({
      events: [
        { seq: 1, type: 'bet', data: 5 },
        { seq: 2, type: 'fold', data: null },
      ],
    });

    const degraded = await app.inject({ method: 'GET', url: '/health' });
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json()).toMatchObject({ status: 'degraded', storage: { ok: true, pendingWrites: 2 } });

    outage.down = false;
    await vi.waitFor(
      async () => {
        const health = await app.inject({ method: 'GET', url: '/health' });
        expect(health.json()).toMatchObject({ storage: { pendingWrites: 0 } });
      },
      { timeout: 5000, interval: 50 },
    );
    const stored = await savepoint.store.readStream('game:g1', { after: 0, limit: 10 });
    expect(stored.map((event) => [event.seq, event.type])).toEqual([
      [1, 'bet'],
      [2, 'fold'],
    ]);
    const after = await app.inject({
      method: 'POST',
      url: '/api/game/g1/events',
      headers: auth,
      payload: { events: [{ type: 'end' }], expectedSeq: 2 },
    });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toEqual({ firstSeq: 3, lastSeq: 3, version: 4 });
  });
});
