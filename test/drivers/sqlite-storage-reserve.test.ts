/**
 * The storage reserve beside a SQLite file (src/drivers/sqlite/storage-reserve.ts): written at open with real bytes,
 * kept as it is when whole, rewritten when sparse or short, absent for `:memory:` and when turned
 * off. What it is for (room to delete on a disk full to the brim) is proven on a real tmpfs in
 * `test/recovery/storage-full-reserve.test.ts`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import {
  DEFAULT_RESERVE_BYTES,
  reservePathOf,
  StorageReserve,
} from '../../src/drivers/sqlite/storage-reserve.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-reserve-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const allocated = (file: string): number => fs.statSync(file).blocks * 512;

describe('the storage reserve', () => {
  it('is <dir>/savepoint.reserve for <dir>/savepoint.db, one per database file', () => {
    expect(reservePathOf('/data/savepoint.db')).toBe('/data/savepoint.reserve');
    expect(reservePathOf('/data/other.sqlite')).toBe('/data/other.reserve');
    expect(reservePathOf('/data/plain')).toBe('/data/plain.reserve');
  });

  it('is written at open, 4 MiB of allocated blocks, and kept as it is on the next open', async () => {
    const file = path.join(directory, 'open', 'savepoint.db');
    const log: string[] = [];
    const driver = await openSqliteDriver({ path: file, log: (line) => log.push(line) });
    await driver.close();
    const reserve = path.join(directory, 'open', 'savepoint.reserve');
    expect(fs.statSync(reserve).size).toBe(DEFAULT_RESERVE_BYTES);
    expect(allocated(reserve)).toBeGreaterThanOrEqual(DEFAULT_RESERVE_BYTES);
    const written = fs.statSync(reserve).mtimeMs;
    const again = await openSqliteDriver({ path: file, log: (line) => log.push(line) });
    await again.close();
    expect(fs.statSync(reserve).mtimeMs).toBe(written);
    expect(log).toEqual([]);
  });

  it('replaces a sparse or short reserve with real bytes', () => {
    const file = path.join(directory, 'sparse.db');
    const reserve = reservePathOf(file);
    fs.writeFileSync(reserve, '');
    fs.truncateSync(reserve, 1024 * 1024); // right size for this reserve, but a hole
    expect(allocated(reserve)).toBeLessThan(1024 * 1024);
    const taken = new StorageReserve(file, 1024 * 1024, () => {});
    expect(taken.take()).toBe('held');
    expect(allocated(reserve)).toBeGreaterThanOrEqual(1024 * 1024);
    fs.truncateSync(reserve, 1000);
    expect(new StorageReserve(file, 1024 * 1024, () => {}).take()).toBe('held');
    expect(fs.statSync(reserve).size).toBe(1024 * 1024);
  });

  it('gives its bytes back when released, and only once', () => {
    const file = path.join(directory, 'release.db');
    const reserve = new StorageReserve(file, 64 * 1024, () => {});
    expect(reserve.take()).toBe('held');
    expect(reserve.release()).toBe(true);
    expect(fs.existsSync(reserve.path)).toBe(false);
    expect(reserve.release()).toBe(false);
    expect(reserve.held).toBe(false);
  });

  it('is not written without room: the database gets what space there is', () => {
    const file = path.join(directory, 'huge.db');
    const reserve = new StorageReserve(file, Number.MAX_SAFE_INTEGER, () => {});
    expect(reserve.take()).toBe('no-room');
    expect(fs.existsSync(reserve.path)).toBe(false);
  });

  it('is not kept for :memory:, nor when reserveBytes is 0', async () => {
    const file = path.join(directory, 'off', 'savepoint.db');
    const driver = await openSqliteDriver({ path: file, reserveBytes: 0 });
    await driver.close();
    expect(fs.readdirSync(path.dirname(file)).filter((name) => name.endsWith('.reserve'))).toEqual([]);
    const memory = await openSqliteDriver({ path: ':memory:' });
    expect(await memory.checkIntegrity()).toEqual([]);
    await memory.close();
    await expect(openSqliteDriver({ path: file, reserveBytes: -1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
