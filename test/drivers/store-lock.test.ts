/**
 * The store lock in one process (the real-process cases are in test/e2e/live-store.test.ts): an
 * opener may replace its own store, a second opener blocks it, and the lock is the OS's.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import { backupSqliteFile, restoreSqliteFile } from '../../src/drivers/sqlite/sqlite-backup.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { StoreLock } from '../../src/drivers/sqlite/store-lock.js';
import type { RecordDump } from '../../src/engine/driver.js';
import { Store } from '../../src/engine/store.js';
import { isSavepointError } from '../../src/errors.js';
import { postgresAvailable, postgresUrl, uniqueName } from '../support/services.js';

const directory = mkdtempSync(join(tmpdir(), 'savepoint-store-lock-'));
const pgAvailable = await postgresAvailable();
const schemas: string[] = [];

afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  if (schemas.length === 0) return;
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  await sql.end();
});

const replacement: RecordDump[] = [
  {
    kind: 'document',
    collection: 'things',
    key: 'new',
    json: '"replacement"',
    version: 7,
    createdAt: 1,
    updatedAt: 2,
    expiresAt: null,
  },
];

async function* pagesOf(records: readonly RecordDump[]): AsyncGenerator<readonly RecordDump[]> {
  yield records;
}

async function expectInUse(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isSavepointError(error, 'STORE_IN_USE'), String(error)).toBe(true);
  return (error as Error).message;
}

describe('SQLite store lock, in one process', () => {
  it('lets an opener replace its own store, and refuses while a second opener has it', async () => {
    const file = join(directory, 'own.db');
    const a = new Store(await openSqliteDriver({ path: file }));
    await a.commit([{ op: 'put', collection: 'things', key: 'old', value: 'kept' }]);
    // Its own shared hold does not block it.
    await a.importRecords(pagesOf(replacement), { replace: true });
    expect((await a.get('things', 'new'))?.value).toBe('replacement');

    await a.commit([{ op: 'put', collection: 'things', key: 'old', value: 'kept' }]);
    const b = new Store(await openSqliteDriver({ path: file }));
    const message = await expectInUse(a.importRecords(pagesOf(replacement), { replace: true }));
    expect(message).toContain(`data dir ${directory}`);
    expect(message).toContain('another Savepoint opener in this process');
    // Nothing changed, and A still holds the store (a restore is still refused).
    expect((await a.get('things', 'old'))?.value).toBe('kept');
    await b.close();
    expect(() => restoreSqliteFile(file, file)).toThrow(/STORE_IN_USE/);

    await a.importRecords(pagesOf(replacement), { replace: true });
    expect(await a.get('things', 'old')).toBeUndefined();
    await a.close();
  });

  it('restore refuses while the store is open, changing nothing, and runs once it is closed', async () => {
    const file = join(directory, 'restore.db');
    const store = new Store(await openSqliteDriver({ path: file }));
    await store.commit([{ op: 'put', collection: 'things', key: 'k', value: 'backed up' }]);
    const backup = await backupSqliteFile(file, join(directory, 'restore-backup.db'));
    await store.commit([{ op: 'put', collection: 'things', key: 'k', value: 'live' }]);

    expect(() => restoreSqliteFile(backup.path, file)).toThrow(/Refusing to restore .* is open in/);
    expect((await store.get('things', 'k'))?.value).toBe('live');
    await store.close();

    const result = restoreSqliteFile(backup.path, file);
    expect(result.previousMovedTo).toMatch(/restore\.db\.before-restore-/);
    const reopened = new Store(await openSqliteDriver({ path: file }));
    expect((await reopened.get('things', 'k'))?.value).toBe('backed up');
    await reopened.close();
  });

  it('a damaged file is not moved aside while another opener has it', async () => {
    const file = join(directory, 'damaged.db');
    const a = await openSqliteDriver({ path: file });
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('not a database header at all'), 0, 28, 0);
    closeSync(fd);
    const message = await expectInUse(openSqliteDriver({ path: file, recover: { log: () => {} } }));
    expect(message).toContain('Refusing to move the damaged database aside');
    expect(readdirSync(directory).filter((name) => name.startsWith('damaged.db.corrupt-'))).toEqual([]);
    await a.close();
  });

  it('an opener waits for a replacement, then refuses with STORE_IN_USE', async () => {
    const file = join(directory, 'claimed.db');
    const claim = StoreLock.claim(file, 'test');
    try {
      await expectInUse(openSqliteDriver({ path: file, busyTimeoutMs: 50 }));
    } finally {
      claim.release();
    }
    const store = await openSqliteDriver({ path: file, busyTimeoutMs: 50 });
    await store.close();
  });
});

describe.skipIf(!pgAvailable)('PostgreSQL store lock', () => {
  it('a replacing import refuses while another instance is connected to the schema, and runs after it closes', async () => {
    const schema = uniqueName('sp_store_lock');
    schemas.push(schema);
    const a = new Store(await openPostgresDriver({ url: postgresUrl, schema }));
    await a.commit([{ op: 'put', collection: 'things', key: 'old', value: 'kept' }]);
    // Alone, it may replace its own schema.
    await a.importRecords(pagesOf(replacement), { replace: true });
    await a.commit([{ op: 'put', collection: 'things', key: 'old', value: 'kept' }]);

    const b = new Store(await openPostgresDriver({ url: postgresUrl, schema }));
    const message = await expectInUse(a.importRecords(pagesOf(replacement), { replace: true }));
    expect(message).toContain(`schema "${schema}"`);
    expect(message).toMatch(/1 other Savepoint session\(s\): backend \d+/);
    expect((await b.get('things', 'old'))?.value).toBe('kept');

    // Another schema is another store.
    const other = new Store(await openPostgresDriver({ url: postgresUrl, schema: `${schema}_x` }));
    schemas.push(`${schema}_x`);
    await other.importRecords(pagesOf(replacement), { replace: true });
    await other.close();

    await b.close();
    await a.importRecords(pagesOf(replacement), { replace: true });
    expect(await a.get('things', 'old')).toBeUndefined();
    await a.close();
  });

  it('takes the lock again when its connection is terminated', async () => {
    const schema = uniqueName('sp_store_relock');
    schemas.push(schema);
    const a = new Store(await openPostgresDriver({ url: postgresUrl, schema }));
    const b = new Store(await openPostgresDriver({ url: postgresUrl, schema }));
    const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    const key = `savepoint:store:${schema}`;
    const holders = async (): Promise<number[]> =>
      (
        await admin<Array<{ pid: number }>>`
          WITH k AS (SELECT hashtextextended(${key}, 0) AS key)
          SELECT l.pid FROM pg_locks l, k WHERE l.locktype = 'advisory' AND l.granted
            AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295`
      ).map((row) => row.pid);
    try {
      const before = await holders();
      expect(before).toHaveLength(2);
      // Kill B's lock session: B must take the lock again on a new one.
      const [victim] = before;
      await admin`SELECT pg_terminate_backend(${victim as number})`;
      for (let waited = 0; waited < 100; waited++) {
        const now = await holders();
        if (now.length === 2 && !now.includes(victim as number)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const after = await holders();
      expect(after).toHaveLength(2);
      expect(after).not.toContain(victim);
      // So a replacement from either side still refuses.
      await expectInUse(a.importRecords(pagesOf(replacement), { replace: true }));
      await expectInUse(b.importRecords(pagesOf(replacement), { replace: true }));
    } finally {
      await admin.end();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
