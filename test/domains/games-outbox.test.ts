/**
 * The games outbox (a game server must keep playing through a storage failure): while the storage refuses
 * commits (the memory driver wrapped so that `applyBatch` throws STORAGE_UNAVAILABLE), persists and
 * appends are queued in memory and answered `durable: false`; reads see them; once the storage
 * answers they are written in order; a write that no longer applies is audited, never dropped silently.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readAudit } from '../../src/audit.js';
import { Games, type GamesOptions } from '../../src/domains/games/games.js';
import { OUTBOX_DROP_AUDIT } from '../../src/domains/games/outbox.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { Store } from '../../src/engine/store.js';
import { isSavepointError, SavepointError } from '../../src/errors.js';
import { openSavepoint } from '../../src/savepoint.js';
import { flakyDriver } from '../support/flaky-driver.js';

const opened: Games[] = [];

async function setup(options: GamesOptions = {}) {
  const raw = await openMemoryDriver();
  const { driver, outage } = flakyDriver(raw);
  const store = new Store(driver);
  const games = new Games(store, options);
  opened.push(games);
  // Another instance on the same storage, which the outage does not reach.
  const other = new Games(new Store(raw));
  opened.push(other);
  return { store, games, outage, other };
}

afterEach(() => {
  for (const games of opened.splice(0)) games.close();
});

describe('games outbox', () => {
  it('queues persists and appends during an outage, reads see them, and they are written in order after', async () => {
    const { games, outage, other } = await setup();
    const created = await games.persist('g1', { state: { round: 0 }, players: ['p1', 'p2'] });
    expect(created).toEqual({ success: true, persistedAt: expect.any(String), version: 1 });
    await games.appendEvents('g1', { events: [{ type: 'start' }] });

    outage.down = true;
    const persisted = await games.persist('g1', { state: { round: 1 }, phase: 'bet', expectedVersion: 2 });
    expect(persisted).toEqual({ success: true, persistedAt: expect.any(String), version: 3, durable: false });
    const appended = await games.appendEvents('g1', {
      events: [{ type: 'bet', data: { amount: 5 } }, { type: 'fold' }],
      state: { round: 2 },
      expectedSeq: 1,
    });
    expect(appended).toEqual({ firstSeq: 2, lastSeq: 3, version: 4, durable: false });
    const third = await games.appendEvents('g1', { events: [{ type: 'deal' }], phase: 'deal' });
    expect(third).toEqual({ firstSeq: 4, lastSeq: 4, version: 5, durable: false });
    // A game created during the outage.
    const fresh = await games.persist('g2', { state: { fresh: true } });
    expect(fresh).toMatchObject({ version: 1, durable: false });
    expect(games.pendingWrites).toBe(4);

    // Conditions are checked against the queued state.
    await expect(games.appendEvents('g1', { events: [{ type: 'x' }], expectedSeq: 3 })).rejects.toMatchObject(
      {
        code: 'VERSION_CONFLICT',
      },
    );

    expect(await games.restore('g1')).toMatchObject({
      state: { round: 2 },
      phase: 'deal',
      version: 5,
      lastSeq: 4,
      players: ['p1', 'p2'],
    });
    expect((await games.readEvents('g1')).map((e) => [e.seq, e.type])).toEqual([
      [1, 'start'],
      [2, 'bet'],
      [3, 'fold'],
      [4, 'deal'],
    ]);
    expect((await games.readEvents('g1', { after: 2, limit: 1 })).map((e) => e.seq)).toEqual([3]);
    expect(await games.restore('g2')).toMatchObject({ state: { fresh: true }, version: 1 });
    // Nothing reached the storage.
    expect(await other.restore('g1')).toMatchObject({ version: 2, lastSeq: 1 });

    // Still down: a flush keeps everything queued.
    await games.flushPending();
    expect(games.pendingWrites).toBe(4);

    outage.down = false;
    await games.flushPending();
    expect(games.pendingWrites).toBe(0);
    expect(await other.restore('g1')).toMatchObject({
      state: { round: 2 },
      phase: 'deal',
      version: 5,
      lastSeq: 4,
    });
    const stored = await other.readEvents('g1');
    expect(stored.map((e) => [e.seq, e.type, e.data])).toEqual([
      [1, 'start', null],
      [2, 'bet', { amount: 5 }],
      [3, 'fold', null],
      [4, 'deal', null],
    ]);
    expect(await other.restore('g2')).toMatchObject({ state: { fresh: true }, version: 1 });
    // Durable again: answers carry no `durable` field.
    expect(await games.appendEvents('g1', { events: [{ type: 'end' }] })).toEqual({
      firstSeq: 5,
      lastSeq: 5,
      version: 6,
    });
  });

  it('flushes by itself once the storage answers again (retry loop with backoff)', async () => {
    const { games, outage, other } = await setup();
    await games.persist('g', { state: { n: 0 } });
    outage.down = true;
    for (let n = 1; n <= 5; n++) await games.appendEvents('g', { events: [{ type: 'n', data: n }] });
    expect(games.pendingWrites).toBe(5);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(games.pendingWrites).toBe(5);
    outage.down = false;
    await vi.waitFor(() => expect(games.pendingWrites).toBe(0), { timeout: 5000, interval: 50 });
    expect((await other.readEvents('g')).map((e) => e.data)).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers STORAGE_UNAVAILABLE when the outbox is full', async () => {
    const { games, outage } = await setup({ outboxLimit: 2 });
    await games.persist('g', { state: {} });
    outage.down = true;
    await games.appendEvents('g', { events: [{ type: 'a' }] });
    await games.persist('h', { state: {} });
    const error = await games.appendEvents('g', { events: [{ type: 'b' }] }).catch((e: unknown) => e);
    expect(isSavepointError(error, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((error as SavepointError).status).toBe(503);
    expect(games.pendingWrites).toBe(2);
  });

  it('when reads fail too, a write queues on the last state this instance knew, or fails without one', async () => {
    const raw = await openMemoryDriver();
    const { driver, outage } = flakyDriver(raw);
    const failing = new Proxy(driver, {
      get(target, property) {
        if ((property === 'getDocument' || property === 'readStream') && outage.down)
          return async () => {
            throw new SavepointError('STORAGE_UNAVAILABLE', 'test: reads down');
          };
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const games = new Games(new Store(failing));
    opened.push(games);
    await games.persist('known', { state: { n: 0 } });
    await games.appendEvents('known', { events: [{ type: 'a' }] });
    outage.down = true;
    await expect(games.persist('g', { state: {} })).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(games.pendingWrites).toBe(0);
    expect(await games.appendEvents('known', { events: [{ type: 'b' }], expectedSeq: 1 })).toEqual({
      firstSeq: 2,
      lastSeq: 2,
      version: 3,
      durable: false,
    });
    expect(await games.restore('known')).toMatchObject({ version: 3, lastSeq: 2, state: { n: 0 } });
    // Reads of stored events fail; the queued ones are answered from memory.
    expect((await games.readEvents('known', { after: 1 })).map((e) => e.type)).toEqual(['b']);
    await expect(games.readEvents('known')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    outage.down = false;
    await games.flushPending();
    expect((await games.readEvents('known')).map((e) => e.type)).toEqual(['a', 'b']);
  });

  it('audits a queued write whose condition no longer holds, with its payload, and drops it', async () => {
    const { store, games, outage, other } = await setup();
    await games.persist('g', { state: { by: 'a' } });
    outage.down = true;
    const queued = await games.persist('g', { state: { by: 'queued' }, expectedVersion: 1 });
    expect(queued).toMatchObject({ version: 2, durable: false });
    const queuedEvents = await games.appendEvents('g', { events: [{ type: 'late', data: { x: 1 } }] });
    expect(queuedEvents).toMatchObject({ firstSeq: 1, durable: false });
    // Another instance writes meanwhile: the queued persist's condition (version 1) no longer holds,
    // and its event takes seq 1, so the queued append cannot keep the seq it was promised.
    await other.persist('g', { state: { by: 'other' } });
    await other.appendEvents('g', { events: [{ type: 'other' }] });

    outage.down = false;
    await games.flushPending();
    expect(games.pendingWrites).toBe(0);
    expect(await other.restore('g')).toMatchObject({ state: { by: 'other' }, version: 3, lastSeq: 1 });
    const audit = (await readAudit(store)).filter((entry) => entry.type === OUTBOX_DROP_AUDIT);
    expect(audit.map((entry) => entry.data)).toEqual([
      {
        gameId: 'g',
        kind: 'persist',
        payload: { state: { by: 'queued' }, expectedVersion: 1, forceOverwrite: false },
        promised: { success: true, persistedAt: expect.any(String), version: 2, durable: false },
        error: { code: 'VERSION_CONFLICT', message: expect.any(String) },
      },
      {
        gameId: 'g',
        kind: 'append',
        payload: { events: [{ type: 'late', data: { x: 1 } }] },
        promised: { firstSeq: 1, lastSeq: 1, version: 3, durable: false },
        error: { code: 'VERSION_CONFLICT', message: expect.any(String) },
      },
    ]);
  });

  it('tells onError when the audit of a dropped write fails too', async () => {
    const onError = vi.fn();
    const { games, outage, other } = await setup({ onError });
    await games.persist('g', { state: {} });
    outage.down = true;
    await games.persist('g', { state: { q: 1 }, expectedVersion: 1 });
    await other.persist('g', { state: { other: 1 } });
    // The queued write conflicts, and the audit commit cannot be written either: the storage
    // refuses audit appends only.
    outage.down = false;
    const original = Store.prototype.commit;
    const spy = vi.spyOn(Store.prototype, 'commit').mockImplementation(function (this: Store, ops) {
      if (ops.some((op) => op.op === 'append' && op.stream === 'audit'))
        return Promise.reject(new SavepointError('STORAGE_UNAVAILABLE', 'test: audit down'));
      return original.call(this, ops);
    });
    try {
      await games.flushPending();
    } finally {
      spy.mockRestore();
    }
    expect(games.pendingWrites).toBe(0);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[1]).toMatchObject({
      gameId: 'g',
      kind: 'persist',
      payload: { state: { q: 1 } },
      error: { code: 'VERSION_CONFLICT' },
    });
  });

  it('queueWhenUnavailable: false answers STORAGE_UNAVAILABLE instead of queueing, and does not jump the queue', async () => {
    const { games, outage } = await setup();
    await games.persist('g', { state: {} });
    outage.down = true;
    const durableOnly = { queueWhenUnavailable: false };
    await expect(games.appendEvents('g', { events: [{ type: 'a' }] }, durableOnly)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    expect(games.pendingWrites).toBe(0);
    await games.appendEvents('g', { events: [{ type: 'queued' }] });
    outage.down = false;
    await expect(games.persist('g', { state: { x: 1 } }, durableOnly)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    await games.flushPending();
    expect(await games.persist('g', { state: { x: 1 } }, durableOnly)).toEqual({
      success: true,
      persistedAt: expect.any(String),
      version: 3,
    });
  });

  it('a deleted game drops its queued writes (audited)', async () => {
    const { store, games, outage } = await setup();
    outage.down = true;
    await games.persist('g', { state: {} });
    outage.down = false;
    await games.delete('g');
    expect(games.pendingWrites).toBe(0);
    await expect(games.restore('g')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await vi.waitFor(async () =>
      expect((await readAudit(store)).some((entry) => entry.type === OUTBOX_DROP_AUDIT)).toBe(true),
    );
  });
});

// ---- a real PostgreSQL that is stopped and started again ----

const PG_BIN = '/usr/lib/postgresql/15/bin';
const canRunCluster = fs.existsSync(path.join(PG_BIN, 'initdb')) && process.getuid?.() === 0;
if (!canRunCluster)
  console.warn(`[savepoint] no ${PG_BIN}/initdb or not root: skipping the stopped-PostgreSQL outbox suite`);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!canRunCluster)('games outbox on a PostgreSQL that stops', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-pg-outbox-'));
  const data = path.join(dir, 'data');
  let port = 0;
  const pg = (...args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'pipe', timeout: 60_000 });
  const start = () =>
    pg(
      path.join(PG_BIN, 'pg_ctl'),
      '-D',
      data,
      '-l',
      path.join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      '-w',
      'start',
    );
  const stop = () => pg(path.join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop');

  beforeAll(async () => {
    execFileSync('chown', ['postgres:postgres', dir]);
    pg(path.join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres');
    port = await freePort();
    start();
  }, 60_000);

  afterAll(() => {
    try {
      stop();
    } catch {
      // Already stopped.
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('queues writes while PostgreSQL is down and writes them in order when it is back', async () => {
    const savepoint = await openSavepoint({ url: `postgres://postgres@127.0.0.1:${port}/postgres` });
    const games = savepoint.games;
    try {
      await games.persist('g', { state: { n: 0 }, players: ['p1'] });
      await games.appendEvents('g', { events: [{ type: 'start' }] });
      stop();
      const persisted = await games.persist('g', { state: { n: 1 }, expectedVersion: 2 });
      expect(persisted).toMatchObject({ version: 3, durable: false });
      const appended = await games.appendEvents('g', {
        events: [{ type: 'a' }, { type: 'b' }],
        state: { n: 2 },
      });
      expect(appended).toEqual({ firstSeq: 2, lastSeq: 3, version: 4, durable: false });
      expect(await games.restore('g')).toMatchObject({ state: { n: 2 }, version: 4, lastSeq: 3 });
      expect((await games.readEvents('g', { after: 1 })).map((e) => e.type)).toEqual(['a', 'b']);
      expect(games.pendingWrites).toBe(2);
      start();
      await vi.waitFor(() => expect(games.pendingWrites).toBe(0), { timeout: 20_000, interval: 100 });
      const events = await savepoint.store.readStream('game:g', { after: 0, limit: 10 });
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'start'],
        [2, 'a'],
        [3, 'b'],
      ]);
      const stored = await savepoint.store.get('game', 'g');
      expect(stored).toMatchObject({ version: 4, value: { state: { n: 2 }, lastSeq: 3 } });
    } finally {
      games.close();
      await savepoint.close();
    }
  }, 60_000);
});
