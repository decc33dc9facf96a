/** Backups and restore (docs/api.md#live-store-protection) with real processes, plus the admin call in-process. */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemWithFile } from '../../src/drivers/sqlite/sqlite-recovery.js';
import { expectProblem, json, startTestServer } from '../support/http.js';
import { ensureBuilt, runCli } from './cli-harness.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'savepoint-backup-'));
  dirs.push(dir);
  return dir;
}
beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const KEY = 'backup-test-key-0123';
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

async function put(url: string, key: string, value: unknown): Promise<number> {
  const response = await fetch(`${url}/v1/docs/things/${key}`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ value }),
  });
  return response.status;
}

describe('backup and restore', () => {
  it('backs up online (HTTP, CLI, schedule), refuses to restore under a server, restores once stopped', async () => {
    const dataDir = tempDir();
    const serve = runCli(['serve', '--port', '0', '--data-dir', dataDir], {
      SAVEPOINT_API_KEY: KEY,
      SAVEPOINT_BACKUP_INTERVAL: '300ms',
      SAVEPOINT_BACKUP_KEEP: '2',
    });
    const [, url] = await serve.waitForLine(/^listening on (\S+)$/m);
    expect(await put(url as string, 'a', 'before')).toBe(201);

    const response = await fetch(`${url}/v1/admin/backup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(response.status).toBe(200);
    const backup = (await response.json()) as { path: string; bytes: number; durationMs: number };
    expect(backup.path).toMatch(new RegExp(`^${join(dataDir, 'backups')}/savepoint-\\d{8}T\\d{9}Z\\.db$`));
    expect(backup.bytes).toBeGreaterThan(0);
    expect(problemWithFile(backup.path, { check: 'integrity' })).toBeUndefined();
    // The backup is one self-contained file.
    expect(existsSync(`${backup.path}-wal`)).toBe(false);
    // The schedule below prunes the backups directory; keep this one for the restore.
    const kept = join(dataDir, 'kept.db');
    copyFileSync(backup.path, kept);

    expect(await put(url as string, 'a', 'after')).toBe(200);
    const cliBackup = runCli(['backup', '--data-dir', dataDir, '--out', join(dataDir, 'manual.db')]);
    expect(await cliBackup.exited).toBe(0);
    expect(cliBackup.stdout()).toMatch(/^backed up .* to .*manual\.db \(\d+ bytes, \d+ ms, verified\)$/m);

    // The schedule keeps taking backups and keeps only the newest two.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const scheduled = readdirSync(join(dataDir, 'backups')).filter((name) => name.endsWith('.db'));
    expect(scheduled.length).toBe(2);

    const refused = runCli(['restore', kept, '--data-dir', dataDir]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(
      new RegExp(
        `^error: Refusing to restore .*: the store .*savepoint\\.db in data dir ${dataDir} is open in process ${serve.child.pid} \\(.*serve.*\\)\\. Stop .*\\(STORE_IN_USE\\)$`,
        'm',
      ),
    );

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    // No pid file: the lock is the kernel's, and it went with the process.
    expect(existsSync(join(dataDir, 'savepoint.pid'))).toBe(false);

    const restore = runCli(['restore', kept, '--data-dir', dataDir]);
    expect(await restore.exited).toBe(0);
    expect(restore.stdout()).toMatch(
      /^moved the current store aside to .*savepoint\.db\.before-restore-\d{8}T\d{9}Z$/m,
    );
    expect(readdirSync(dataDir).some((name) => /^savepoint\.db\.before-restore-/.test(name))).toBe(true);

    const again = runCli(['serve', '--port', '0', '--data-dir', dataDir], { SAVEPOINT_API_KEY: KEY });
    const [, url2] = await again.waitForLine(/^listening on (\S+)$/m);
    const read = await fetch(`${url2}/v1/docs/things/a`, { headers });
    expect(await read.json()).toMatchObject({ value: 'before' });
    const audit = (await (await fetch(`${url2}/v1/admin/audit`, { headers })).json()) as {
      events: Array<{ type: string; data: { from: string } }>;
    };
    expect(audit.events.at(-1)).toMatchObject({ type: 'restore', data: { from: kept } });
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 60_000);

  it('restore refuses a damaged backup and leaves the store alone', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'bad.db'), 'garbage that is not a database');
    const run = runCli(['restore', join(dataDir, 'bad.db'), '--data-dir', dataDir]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^error: Refusing to restore .*bad\.db: it not a SQLite database/m);
    expect(run.stderr()).not.toContain('    at ');
  });

  it('on PostgreSQL, backup points to pg_dump and savepoint export', async () => {
    const run = runCli(['backup', '--database', 'postgres://u@127.0.0.1:1/db']);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^error: .*pg_dump.*savepoint export/m);
  });

  it('POST /v1/admin/backup on a store without a file answers 400 naming the alternatives', async () => {
    const server = await startTestServer();
    try {
      const problem = expectProblem(
        await server.request({ method: 'POST', url: '/v1/admin/backup' }),
        400,
        'INVALID_INPUT',
      );
      expect(problem.detail).toContain('savepoint export');
      expectProblem(
        await server.request({ method: 'POST', url: '/v1/admin/backup', anonymous: true }),
        401,
        'UNAUTHORIZED',
      );
    } finally {
      await server.close();
    }
  });

  it('POST /v1/admin/backup in-process on a SQLite store answers path, bytes and durationMs', async () => {
    const dir = tempDir();
    const url = `sqlite:${join(dir, 'savepoint.db')}`;
    const server = await startTestServer({ dataDir: dir, env: { DATABASE_URL: url }, savepoint: { url } });
    try {
      await server.savepoint.store.commit([{ op: 'put', collection: 'x', key: 'y', value: 1 }]);
      const response = await server.request({ method: 'POST', url: '/v1/admin/backup' });
      expect(response.statusCode).toBe(200);
      expect(json(response)).toEqual({
        path: expect.stringContaining(join(dir, 'backups')),
        bytes: expect.any(Number),
        durationMs: expect.any(Number),
      });
    } finally {
      await server.close();
    }
  });
});
