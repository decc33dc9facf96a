/** Start-up on any data directory (src/drivers/sqlite/sqlite-recovery.ts), at the library level. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { problemWithFile, problemWithWal } from '../../src/drivers/sqlite/sqlite-recovery.js';
import { openSavepoint } from '../../src/savepoint.js';
import { DAMAGES, damagedStore, writeStore } from './corrupt-fixtures.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'savepoint-recovery-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('opening a damaged SQLite store', () => {
  for (const damage of DAMAGES) {
    it(`${damage}: starts, says what it did, keeps the original`, async () => {
      const dir = tempDir();
      const original = await damagedStore(dir, damage);
      const lines: string[] = [];
      const driver = await openSqliteDriver({
        path: join(dir, 'savepoint.db'),
        recover: { log: (line) => lines.push(line) },
      });
      const recovery = driver.capabilities.recovery;
      await driver.close();
      expect(recovery).toBeDefined();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        damage === 'garbled-wal'
          ? /^error: the write-ahead log of .*savepoint\.db is damaged \(.+\); copied it to /
          : /^error: the database .*savepoint\.db could not be used as found \(.+\); moved it to /,
      );
      const quarantined = recovery?.quarantinedTo as string;
      expect(lines[0]).toContain(quarantined);
      expect(existsSync(quarantined)).toBe(true);
      if (damage === 'garbled-wal') {
        expect(recovery?.action).toBe('truncated-wal');
        expect(quarantined).toMatch(/savepoint\.db\.corrupt-\d{8}T\d{9}Z-wal$/);
      } else {
        expect(recovery?.action).toBe('started-empty');
        expect(quarantined).toMatch(/savepoint\.db\.corrupt-\d{8}T\d{9}Z$/);
        expect(readFileSync(quarantined).equals(original)).toBe(true);
      }
    });
  }

  it('restores the newest backup that passes its check, skipping a bad one', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'backups'));
    await writeStore(join(dir, 'backups', 'savepoint-20260101T000000000Z.db'), 10, 'older');
    writeFileSync(join(dir, 'backups', 'savepoint-20260102T000000000Z.db'), 'not a database at all');
    await damagedStore(dir, 'page-garbage');
    const savepoint = await openSavepoint({ url: `sqlite:${join(dir, 'savepoint.db')}` });
    try {
      expect(savepoint.recovery).toMatchObject({
        action: 'restored-backup',
        backup: join(dir, 'backups', 'savepoint-20260101T000000000Z.db'),
        reason: expect.stringContaining('integrity'),
      });
      expect((await savepoint.store.get('things', 'k3'))?.value).toMatchObject({ marker: 'older' });
    } finally {
      await savepoint.close();
    }
    // The backup itself is kept, and the next start is clean.
    expect(existsSync(join(dir, 'backups', 'savepoint-20260101T000000000Z.db'))).toBe(true);
    const again = await openSavepoint({ url: `sqlite:${join(dir, 'savepoint.db')}` });
    expect(again.recovery).toBeUndefined();
    await again.close();
  });

  it('a sound file, a missing file and a cleanly closed WAL take no fallback', async () => {
    const dir = tempDir();
    const file = join(dir, 'sub', 'savepoint.db');
    const fresh = await openSavepoint({ url: `sqlite:${file}` });
    expect(fresh.recovery).toBeUndefined();
    await fresh.store.commit([{ op: 'put', collection: 'a', key: 'b', value: 1 }]);
    expect(problemWithWal(`${file}-wal`)).toBeUndefined();
    await fresh.close();
    expect(problemWithFile(file)).toBeUndefined();
    const reopened = await openSavepoint({ url: `sqlite:${file}` });
    expect(reopened.recovery).toBeUndefined();
    expect((await reopened.store.get('a', 'b'))?.value).toBe(1);
    await reopened.close();
    expect(readdirSync(join(dir, 'sub')).some((name) => name.includes('corrupt'))).toBe(false);
  });

  it('without `recover`, the driver still refuses a damaged file with CORRUPT_DATA', async () => {
    const dir = tempDir();
    await damagedStore(dir, 'random-bytes');
    await expect(openSqliteDriver({ path: join(dir, 'savepoint.db') })).rejects.toMatchObject({
      code: 'CORRUPT_DATA',
    });
    expect(existsSync(join(dir, 'savepoint.db'))).toBe(true);
  });

  it('a data directory under a regular file fails with a message naming the path', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'plain-file'), '');
    const error = await openSavepoint({
      url: `sqlite:${join(dir, 'plain-file', 'data', 'savepoint.db')}`,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringContaining(join(dir, 'plain-file', 'data')),
    });
  });

  it.skipIf(process.getuid?.() === 0)(
    'a read-only data directory fails with a message naming it',
    async () => {
      const dir = tempDir();
      const data = join(dir, 'ro');
      mkdirSync(data, { mode: 0o500 });
      const error = await openSavepoint({ url: `sqlite:${join(data, 'savepoint.db')}` }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        message: expect.stringContaining(`${data} is not writable`),
      });
    },
  );
});
if (process.getuid?.() === 0)
  console.log(
    'running as root: the chmod 0500 test is skipped (root ignores permissions); the file-as-directory test covers it',
  );
