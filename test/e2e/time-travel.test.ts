/**
 * Time travel with real processes:
 * 1. on SQLite, a rollback and a fork acknowledged just before a `kill -9` are all there after the
 *    restart, with the history, the rollback event and the forked events intact;
 * 2. on two instances sharing PostgreSQL + Redis, a game rollback on A is read at once through B and
 *    B's stream subscribers get the rollback event; a catalog rollback on A is served by B within a
 *    second.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { applySeed } from '../../src/domains/catalog/catalog.js';
import { parseSeedFile } from '../../src/domains/catalog/seed-files.js';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import { Store } from '../../src/engine/store.js';
import { testCluster } from '../support/cluster.js';
import { ensureBuilt, openSse, type ServeProcess, startServe } from '../support/processes.js';
import { postgresAvailable, postgresUrl, redisAvailable } from '../support/services.js';

/** The two-instance part's schema and prefix; its key is the one every server of this file takes. */
const cluster = testCluster('sp_e2e_time_travel');
const { apiKey } = cluster;
const processes: ServeProcess[] = [];
afterAll(async () => {
  for (const instance of processes) await instance.stop();
});

async function call(
  instance: ServeProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${instance.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('time travel survives kill -9 (SQLite)', () => {
  it('keeps an acknowledged rollback and fork, with their history and events', async () => {
    ensureBuilt();
    const dataDir = await mkdtemp(join(tmpdir(), 'savepoint-e2e-time-travel-'));
    const env = { SAVEPOINT_API_KEY: apiKey, SAVEPOINT_LOG_LEVEL: 'warn', SAVEPOINT_BACKUP_INTERVAL: '0' };
    try {
      const first = await startServe({ name: 'first', args: [], dataDir, env });
      processes.push(first);
      for (let pot = 1; pot <= 5; pot++) {
        const written = await call(first, 'POST', '/api/game/t42/events', {
          events: [{ type: 'bet', data: { pot } }],
          state: { pot },
        }).then(async (answer) =>
          answer.status === 404
            ? call(first, 'POST', '/api/game/t42/persist', { state: { pot }, players: ['ada'] })
            : answer,
        );
        expect(written.status).toBe(200);
      }
      const rollback = await call(first, 'POST', '/api/game/t42/rollback', { toVersion: 2, reason: 'grief' });
      expect(rollback.status).toBe(200);
      const fork = await call(first, 'POST', '/api/game/t42/fork', { newGameId: 't42-bug', atVersion: 3 });
      expect(fork.status).toBe(201);
      const before = await call(first, 'GET', '/api/game/t42/history');
      expect(await first.kill('SIGKILL')).toBe('SIGKILL');

      const second = await startServe({ name: 'second', args: [], dataDir, env });
      processes.push(second);
      expect((await call(second, 'GET', '/api/game/t42/history')).body).toEqual(before.body);
      expect((await call(second, 'GET', '/api/game/t42/restore')).body).toMatchObject({
        state: { pot: 2 },
        version: rollback.body.version,
        lastSeq: 5,
      });
      const events = (await call(second, 'GET', '/api/game/t42/events')).body.events as Array<
        Record<string, unknown>
      >;
      expect(events.at(-1)).toMatchObject({
        seq: 5,
        type: 'rollback',
        data: { fromVersion: 5, toVersion: 2, reason: 'grief' },
      });
      expect((await call(second, 'GET', '/api/game/t42-bug/restore')).body).toMatchObject({
        state: { pot: 3 },
        lastSeq: 2,
      });
      expect(((await call(second, 'GET', '/api/game/t42-bug/events')).body.events as unknown[]).length).toBe(
        2,
      );
      expect((await call(second, 'GET', '/api/game/t42/restore?version=5')).body).toMatchObject({
        state: { pot: 5 },
      });
      await second.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

const services = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!services)('time travel across two instances on PostgreSQL + Redis', () => {
  afterAll(() => cluster.cleanup(), 30_000);

  it('a rollback on A is read through B at once and reaches B’s subscribers; so does a catalog rollback', async () => {
    const [a, b] = await Promise.all([cluster.start('A'), cluster.start('B')]);
    const first = await call(a, 'POST', '/api/game/duel/persist', { state: { round: 1 }, players: ['ada'] });
    expect(first.status).toBe(200);
    expect((await call(a, 'POST', '/api/game/duel/persist', { state: { round: 2 } })).status).toBe(200);
    // B reads (and caches) the current state first, so a stale cache would show.
    expect((await call(b, 'GET', '/api/game/duel/restore')).body).toMatchObject({ state: { round: 2 } });
    const stream = await openSse(`${b.url}/api/game/duel/stream`, { authorization: `Bearer ${apiKey}` });
    try {
      const rollback = await call(a, 'POST', '/api/game/duel/rollback', { toVersion: 1, reason: 'desync' });
      expect(rollback.status).toBe(200);
      expect((await call(b, 'GET', '/api/game/duel/restore')).body).toMatchObject({
        state: { round: 1 },
        version: rollback.body.version,
      });
      await stream.until(
        () => stream.events.some((event) => event.event === 'rollback'),
        5_000,
        'the rollback event on B',
      );
      expect(JSON.parse(stream.events.find((event) => event.event === 'rollback')?.data ?? 'null')).toEqual({
        fromVersion: 2,
        toVersion: 1,
        reason: 'desync',
      });
    } finally {
      stream.close();
    }

    // Two loads of a kind, written beside the servers (as `savepoint seed` would).
    const store = new Store(await openPostgresDriver({ url: postgresUrl, schema: cluster.run }));
    const load = (version: string, hp: number) =>
      parseSeedFile('bosses.json', {
        version,
        updated_at: '2026-11-01T00:00:00Z',
        data: [{ id: 'dragon', hp }],
      });
    await applySeed(store, [load('1.0.0', 100)]);
    await applySeed(store, [load('2.0.0', 999)]);
    await store.close();
    const served = async (instance: ServeProcess) =>
      (await call(instance, 'GET', '/v1/catalog/bosses')).body as { version?: string };
    const within = async (instance: ServeProcess, version: string) => {
      const started = performance.now();
      while ((await served(instance)).version !== version && performance.now() - started < 1_000)
        await sleep(25);
      return (await served(instance)).version;
    };
    expect(await within(b, '2.0.0')).toBe('2.0.0');
    expect(
      (await call(a, 'POST', '/v1/catalog-versions/bosses/rollback', { toVersion: '1.0.0' })).status,
    ).toBe(200);
    expect(await within(b, '1.0.0')).toBe('1.0.0');
    expect((await call(b, 'GET', '/v1/catalog/bosses/dragon')).body).toEqual({ id: 'dragon', hp: 100 });
    const audit = (await call(b, 'GET', '/v1/admin/audit')).body.events as
      | Array<{ type: string }>
      | undefined;
    expect((audit ?? []).some((entry) => entry.type === 'catalog-rollback')).toBe(true);
  });
});
