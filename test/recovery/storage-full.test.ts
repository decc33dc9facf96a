/**
 * Storage full (src/engine/storage-full.ts) on a real 2 MiB tmpfs: writes fill it to the brim, then expired
 * records are swept first, then the oldest completed games go, and a write that still does not fit
 * gets STORAGE_FULL (507 over HTTP). The SQLite file passes `PRAGMA integrity_check` afterwards.
 * Needs `mount -t tmpfs` (root); elsewhere the suite is skipped with one line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Games } from '../../src/domains/games/games.js';
import { gamesModule } from '../../src/domains/games/games.module.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Driver, PreparedCommit } from '../../src/engine/driver.js';
import { Store } from '../../src/engine/store.js';
import { isSavepointError, SavepointError } from '../../src/errors.js';
import { buildServer } from '../../src/http/server.js';
import { openSavepoint } from '../../src/savepoint.js';

const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-full-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch (error) {
  console.warn(
    `[savepoint] cannot mount a 2 MiB tmpfs (${(error as Error).message.split('\n')[0]}): skipping the storage-full suite`,
  );
}

afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

const KEY = 'test-api-key-0123456789';
const BLOB = 'x'.repeat(20_000);
const MINUTE = 60_000;

describe.skipIf(!mounted)('storage full on a 2 MiB tmpfs', () => {
  const file = path.join(mountPoint, 'savepoint.db');
  const clock = new ManualClock(Date.UTC(2030, 0, 1));

  beforeAll(() => {
    fs.rmSync(file, { force: true });
  });

  it('sweeps expired data first, then the oldest completed games, then answers STORAGE_FULL / 507; the file stays valid', async () => {
    const savepoint = await openSavepoint({ url: `sqlite:${file}`, clock: clock.now });
    const { store } = savepoint;
    const games = savepoint.games;
    const config = loadConfig({
      env: { SAVEPOINT_API_KEY: KEY, SAVEPOINT_DATA_DIR: mountPoint, SAVEPOINT_SWEEP_INTERVAL: '0' },
    });
    const app = await buildServer({ savepoint, config, modules: [gamesModule] });
    await app.ready(); // its start-up files (locks) are written before the disk fills
    // Who removed what, in order: game deletions are commits, sweeps are not (checked by what remains).
    const removedGames: string[] = [];
    store.subscribe(({ changes }) => {
      for (const change of changes)
        if (change.kind === 'document' && change.collection === 'game' && change.document === null)
          removedGames.push(change.key);
    });
    try {
      // Three completed games, completed one minute apart (the oldest first), and data that expires.
      for (const id of ['old-1', 'old-2', 'old-3']) {
        await games.persist(id, { state: { blob: BLOB }, players: ['p1'], status: 'completed' });
        clock.advance(MINUTE);
      }
      await games.persist('live', { state: { round: 0 }, players: ['p1', 'p2'] });
      for (let i = 0; i < 10; i++)
        await store.commit([
          { op: 'put', collection: 'cache', key: `c${i}`, value: { BLOB }, ttlMs: MINUTE },
        ]);
      clock.advance(2 * MINUTE); // the cache entries are now expired, not yet swept

      // Fill to the brim. The first STORAGE_FULL sweeps the expired cache (nothing else goes), and
      // the write that met it succeeds on its retry.
      let written = 0;
      let gamesLeftWhenSweepWasEnough: number | undefined;
      let failure: unknown;
      for (;;) {
        try {
          await store.commit([{ op: 'put', collection: 'fill', key: `f${written}`, value: { BLOB } }]);
          written++;
          if (gamesLeftWhenSweepWasEnough === undefined && (await store.countRecords()).documents > 0) {
            const page = await store.list('cache', { limit: 100 });
            if (page.items.length === 0 && removedGames.length === 0) gamesLeftWhenSweepWasEnough = 3;
          }
        } catch (error) {
          failure = error;
          break;
        }
      }
      expect(isSavepointError(failure, 'STORAGE_FULL')).toBe(true);
      // Expired data went first, with every completed game still there.
      expect(gamesLeftWhenSweepWasEnough).toBe(3);
      // Then completed games, oldest first, when the full disk leaves room to delete them (SQLite's
      // WAL needs a few free pages even to delete; the memory-driver test below checks the order
      // exactly); the active game is always kept.
      expect(['old-1', 'old-2', 'old-3'].slice(0, removedGames.length)).toEqual(removedGames);
      expect((await games.restore('live')).state).toEqual({ round: 0 });
      console.info(`[storage-full] ${written} writes of 20 kB filled the 2 MiB tmpfs`);

      // Over HTTP: 507 STORAGE_FULL, with nothing half applied.
      const answer = await app.inject({
        method: 'POST',
        url: '/api/game/live/persist',
        headers: { authorization: `Bearer ${KEY}` },
        payload: { state: { blob: `${BLOB}${BLOB}${BLOB}` } },
      });
      expect(answer.statusCode).toBe(507);
      expect(answer.json()).toMatchObject({ code: 'STORAGE_FULL' });
      const live = await games.restore('live');
      expect(live).toMatchObject({ version: 1, state: { round: 0 } });

      // What a full SQLite disk cannot do: even a delete needs free pages for its WAL frames, so
      // once the disk is at 100% the sweep cannot free anything either (a reserve file is the fix).
    } finally {
      await app.close();
      await savepoint.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(
        (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n,
      ).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  }, 60_000);
});

describe('the storage-full policy (a memory driver that reports STORAGE_FULL on demand)', () => {
  /** Puts fail with STORAGE_FULL while `full`; any removal (a sweep or a deleted game) frees the disk. */
  async function fullStore() {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const driver = await openMemoryDriver();
    const state = { full: false, attempts: 0 };
    const overrides: Partial<Driver> = {
      applyBatch: async (batch: readonly PreparedCommit[]) => {
        const puts = batch.some((commit) => commit.ops.some((op) => op.op === 'put'));
        if (puts && state.full) {
          state.attempts++;
          return batch.map(() => new SavepointError('STORAGE_FULL', 'disk full (simulated)'));
        }
        if (batch.some((commit) => commit.ops.some((op) => op.op === 'delete'))) state.full = false;
        return driver.applyBatch(batch);
      },
      sweepExpired: async (now: number, limit: number) => {
        const result = await driver.sweepExpired(now, limit);
        if (Object.keys(result.documents).length > 0 || result.streams > 0) state.full = false;
        return result;
      },
    };
    // A Proxy, not Object.create: the driver's methods use private fields, so they keep their receiver.
    const wrapped = new Proxy(driver, {
      get(target, property) {
        const override = (overrides as Record<PropertyKey, unknown>)[property];
        if (override !== undefined) return override;
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = new Store(wrapped, { clock: clock.now });
    const games = new Games(store);
    const removed: string[] = [];
    store.subscribe(({ changes }) => {
      for (const change of changes)
        if (change.kind === 'document' && change.collection === 'game' && change.document === null)
          removed.push(change.key);
    });
    for (const id of ['old-2', 'old-1', 'old-3']) {
      await games.persist(id, { state: {}, status: 'completed' });
      clock.advance(id === 'old-2' ? -MINUTE : 2 * MINUTE);
    }
    return { store, games, clock, state, removed };
  }

  it('sweeps expired records first and keeps the completed games when that frees space', async () => {
    const { store, clock, state, removed } = await fullStore();
    await store.commit([{ op: 'put', collection: 'cache', key: 'c', value: 1, ttlMs: MINUTE }]);
    clock.advance(2 * MINUTE);
    state.full = true;
    await store.commit([{ op: 'put', collection: 'data', key: 'd', value: 1 }]);
    expect(state.attempts).toBe(1);
    expect(removed).toEqual([]);
    expect(await store.get('data', 'd')).toBeDefined();
    await store.close();
  });

  it('removes the oldest completed games when nothing expired, then retries once', async () => {
    const { store, state, removed, games } = await fullStore();
    state.full = true;
    await store.commit([{ op: 'put', collection: 'data', key: 'd', value: 1 }]);
    expect(removed).toEqual(['old-1', 'old-2', 'old-3']);
    await expect(games.restore('old-1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.close();
  });

  it('answers STORAGE_FULL after exactly one retry when nothing can be freed', async () => {
    const { store, state } = await fullStore();
    // No completed game, nothing expired: the only reclaimer finds nothing.
    for (const id of ['old-1', 'old-2', 'old-3']) await new Games(store).delete(id);
    state.full = true;
    await expect(store.commit([{ op: 'put', collection: 'data', key: 'd', value: 1 }])).rejects.toMatchObject(
      {
        code: 'STORAGE_FULL',
      },
    );
    expect(state.attempts).toBe(2);
    expect(await store.get('data', 'd')).toBeUndefined();
    await store.close();
  });
});
