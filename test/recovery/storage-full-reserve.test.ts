/**
 * Storage full at 100% (src/drivers/sqlite/storage-reserve.ts), on real size-limited tmpfs mounts: once a disk is full to
 * the brim, SQLite cannot even delete (its WAL needs free pages first), so without a reserve the
 * sweep that would make room fails like the write. With the driver's storage reserve
 * (`<dir>/savepoint.reserve`, deleted when SQLite reports the disk full, written again once there
 * is room) expired data is swept and the write that met the full disk succeeds; then the oldest
 * completed games go; a write gets STORAGE_FULL (507 over HTTP) only when nothing is left to
 * remove; the file passes `integrity_check` afterwards.
 * Needs `mount -t tmpfs` (root); elsewhere the suite is skipped with one line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { gamesModule } from '../../src/domains/games/games.module.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { problemWithFile } from '../../src/drivers/sqlite/sqlite-recovery.js';
import { DEFAULT_RESERVE_BYTES } from '../../src/drivers/sqlite/storage-reserve.js';
import { ManualClock } from '../../src/engine/clock.js';
import { Store } from '../../src/engine/store.js';
import { isSavepointError } from '../../src/errors.js';
import { buildServer } from '../../src/http/server.js';
import { Savepoint } from '../../src/savepoint.js';

/** Big enough that SQLite checkpoints its WAL as on a real disk, and the 4 MiB reserve is a small part. */
const TMPFS_SIZE = '24m';
const mounts: string[] = [];
let cannotMount: string | undefined;

function mountTmpfs(): string {
  const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-brim-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mountPoint], {
      stdio: 'pipe',
    });
  } catch (error) {
    fs.rmSync(mountPoint, { recursive: true, force: true });
    throw error;
  }
  mounts.push(mountPoint);
  return mountPoint;
}

try {
  mountTmpfs();
} catch (error) {
  cannotMount = (error as Error).message.split('\n')[0];
  console.warn(
    `[savepoint] cannot mount a ${TMPFS_SIZE} tmpfs (${cannotMount}): skipping the storage-full-at-100% suite`,
  );
}

afterAll(() => {
  for (const mountPoint of mounts) {
    execFileSync('umount', [mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  }
});

const KEY = 'test-api-key-0123456789';
const BLOB = 'x'.repeat(20_000);
const MINUTE = 60_000;
/** Value sizes, largest first: the disk is full to the brim when even the last one no longer fits. */
const FILL_SIZES = [20_000, 2_000, 200, 20];
/** Writes between two checkpoints of the WAL while filling (see `fill`). */
const CHECKPOINT_EVERY = 25;

const freeBytes = (dir: string): number => {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
};

/** Rows of a collection as stored, expired ones included (the store's reads hide those). */
function storedRows(file: string, collection: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare('SELECT count(*) AS n FROM documents WHERE collection = ?').get(collection) as { n: number }
    ).n;
  } finally {
    db.close();
  }
}

interface Brim {
  readonly savepoint: Savepoint;
  readonly clock: ManualClock;
  readonly file: string;
  readonly dir: string;
  /** The driver's log lines (reserve released, written again). */
  readonly log: string[];
  /** Completed games removed to make room, in order. */
  readonly removedGames: string[];
  /** Fills with every size in turn until the store answers STORAGE_FULL; the writes that fitted. */
  fill(label: string): Promise<number>;
}

/**
 * A store on a fresh tmpfs holding three games in play, a live one and ten cache entries that
 * expire in a minute (not yet expired). Its `fill` then fills it to the brim.
 */
async function storeOnTmpfs(reserveBytes: number): Promise<Brim> {
  const dir = mountTmpfs();
  const file = path.join(dir, 'savepoint.db');
  const log: string[] = [];
  const driver = await openSqliteDriver({ path: file, reserveBytes, log: (line) => log.push(line) });
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const savepoint = new Savepoint(new Store(driver, { clock: clock.now }));
  const removedGames: string[] = [];
  savepoint.store.subscribe(({ changes }) => {
    for (const change of changes)
      if (change.kind === 'document' && change.collection === 'game' && change.document === null)
        removedGames.push(change.key);
  });
  for (const id of ['old-1', 'old-2', 'old-3', 'live'])
    await savepoint.games.persist(id, { state: { round: 0 }, players: ['p1', 'p2'] });
  for (let i = 0; i < 10; i++)
    await savepoint.store.commit([
      { op: 'put', collection: 'cache', key: `c${i}`, value: { BLOB }, ttlMs: MINUTE },
    ]);
  let filled = 0;
  /**
   * The reserve gives room to delete and to finish a checkpoint of what the WAL holds, so it
   * covers a WAL whose un-checkpointed part is smaller than itself (SQLite's own auto-checkpoint
   * runs every 1,000 pages, 4 MiB). A loop writing 20 kB values as fast as it can on 2 busy cores
   * can outrun a background checkpointer by more than that, so the filling loop checkpoints itself
   * (a second connection, PASSIVE: it never blocks the store) every few writes.
   */
  const checkpoint = (): void => {
    const db = new Database(file, { fileMustExist: true });
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // On a full disk a checkpoint may fail too; the store's own handling is what is under test.
    } finally {
      db.close();
    }
  };
  const fill = async (label: string): Promise<number> => {
    let written = 0;
    for (const size of FILL_SIZES) {
      const value = { blob: 'y'.repeat(size) };
      for (;;) {
        if (written % CHECKPOINT_EVERY === 0) checkpoint();
        try {
          await savepoint.store.commit([{ op: 'put', collection: 'fill', key: `f${filled++}`, value }]);
          written++;
        } catch (error) {
          if (!isSavepointError(error, 'STORAGE_FULL')) throw error;
          break;
        }
      }
    }
    console.info(`[storage-full] ${label}: ${written} writes, then ${freeBytes(dir)} bytes free`);
    return written;
  };
  return { savepoint, clock, file, dir, log, removedGames, fill };
}

describe.skipIf(cannotMount !== undefined)(`storage full to the brim on a ${TMPFS_SIZE} tmpfs`, () => {
  it('without a reserve, the sweep fails like the write: expired data stays and the write gets STORAGE_FULL', async () => {
    const { savepoint, clock, file, fill } = await storeOnTmpfs(0);
    try {
      // Nothing can be reclaimed yet: every refusal is final.
      await fill('without a reserve: to the brim');
      clock.advance(2 * MINUTE); // the cache entries are now expired, not yet swept
      await expect(
        savepoint.store.commit([{ op: 'put', collection: 'data', key: 'd', value: { BLOB } }]),
      ).rejects.toMatchObject({ code: 'STORAGE_FULL' });
      await expect(savepoint.store.sweepExpired(1000)).rejects.toMatchObject({ code: 'STORAGE_FULL' });
      expect(storedRows(file, 'cache')).toBe(10);
    } finally {
      await savepoint.close();
    }
    expect(problemWithFile(file, { check: 'integrity' })).toBeUndefined();
  }, 60_000);

  it('with the reserve: expired data is swept and the write succeeds, then the oldest completed games go, then 507', async () => {
    const { savepoint, clock, file, dir, log, removedGames, fill } =
      await storeOnTmpfs(DEFAULT_RESERVE_BYTES);
    const reserve = path.join(dir, 'savepoint.reserve');
    const { store, games } = savepoint;
    const config = loadConfig({
      env: { SAVEPOINT_API_KEY: KEY, SAVEPOINT_DATA_DIR: dir, SAVEPOINT_SWEEP_INTERVAL: '0' },
    });
    const app = await buildServer({ savepoint, config, modules: [gamesModule] });
    await app.ready(); // its start-up files (locks) are written before the disk fills
    try {
      expect(fs.statSync(reserve).size).toBe(DEFAULT_RESERVE_BYTES);
      await fill('with the reserve: to the brim');
      // At the brim, with nothing to reclaim, the reserve is back in place after every refusal.
      expect(fs.statSync(reserve).size).toBe(DEFAULT_RESERVE_BYTES);
      expect(fs.statSync(reserve).blocks * 512).toBeGreaterThanOrEqual(DEFAULT_RESERVE_BYTES);
      expect(freeBytes(dir)).toBeLessThan(DEFAULT_RESERVE_BYTES);
      expect(storedRows(file, 'cache')).toBe(10);

      // Expired data first: the write that meets the full disk releases the reserve, the sweep
      // removes the expired cache, and the write succeeds on its retry; no game is touched.
      clock.advance(2 * MINUTE);
      const released = log.length;
      await store.commit([{ op: 'put', collection: 'data', key: 'after-sweep', value: { BLOB } }]);
      expect(log.slice(released).some((line) => line.includes('deleted the 4 MiB storage reserve'))).toBe(
        true,
      );
      expect(storedRows(file, 'cache')).toBe(0);
      expect(removedGames).toEqual([]);
      expect((await store.get('data', 'after-sweep'))?.value).toEqual({ BLOB });

      // The swept room takes the three games' completion, one minute apart (old-1 the oldest).
      for (const id of ['old-1', 'old-2', 'old-3']) {
        await games.persist(id, { state: { round: 9 }, status: 'completed' });
        clock.advance(MINUTE);
      }

      // Then completed games, oldest first, and no write is refused while one is left.
      const written = await fill('with the reserve: to the brim again');
      expect(written).toBeGreaterThan(0);
      expect(removedGames).toEqual(['old-1', 'old-2', 'old-3']);
      expect((await games.restore('live')).state).toEqual({ round: 0 });

      // Nothing left to remove: 507 STORAGE_FULL over HTTP, nothing half applied.
      const answer = await app.inject({
        method: 'POST',
        url: '/api/game/live/persist',
        headers: { authorization: `Bearer ${KEY}` },
        payload: { state: { blob: `${BLOB}${BLOB}${BLOB}` } },
      });
      expect(answer.statusCode).toBe(507);
      expect(answer.json()).toMatchObject({ code: 'STORAGE_FULL' });
      expect(await games.restore('live')).toMatchObject({ version: 1, state: { round: 0 } });
      // And the reserve is whole again, for the next time.
      expect(fs.statSync(reserve).size).toBe(DEFAULT_RESERVE_BYTES);
      console.info(`[storage-full] reserve log:\n  ${log.join('\n  ')}`);
    } finally {
      await app.close();
      await savepoint.close();
    }
    expect(problemWithFile(file, { check: 'integrity' })).toBeUndefined();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, 120_000);
});
