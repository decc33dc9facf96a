/**
 * Live-store protection with real processes: a command that replaces a store (`restore`,
 * `import --force`, `migrate --force`) refuses with STORE_IN_USE while any other process has the
 * store open (a server, a game server embedding the library), changing nothing; read-only commands
 * keep working beside it; a process killed with SIGKILL leaves no lock behind. The same on
 * PostgreSQL, where instances hold an advisory lock on their schema.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSavepoint } from '../../src/savepoint.js';
import { type CliRun, ROOT, runCli } from '../cli/cli-harness.js';
import { ensureBuilt, type ServeProcess, startServe } from '../support/processes.js';
import { postgresAvailable, postgresUrl, uniqueName } from '../support/services.js';

const KEY = 'live-store-e2e-key-0123456789';
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const env = { SAVEPOINT_API_KEY: KEY };

const dirs: string[] = [];
const running: ServeProcess[] = [];
const pgAvailable = await postgresAvailable();
const schemas: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'savepoint-live-store-'));
  dirs.push(dir);
  return dir;
}

beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  await Promise.all(running.map((instance) => instance.kill('SIGKILL')));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (schemas.length > 0) {
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    await sql.end();
  }
});

async function serve(name: string, dataDir: string): Promise<ServeProcess> {
  const instance = await startServe({ name, args: [], dataDir, env });
  running.push(instance);
  return instance;
}

async function cli(args: readonly string[]): Promise<CliRun & { readonly code: number | string }> {
  const run = runCli(args, env);
  const code = await run.exited;
  return Object.assign(run, { code });
}

/** The refusal every replacing command must give: exit 1, STORE_IN_USE, naming the store and who holds it. */
function expectRefused(run: CliRun & { readonly code: number | string }, names: readonly string[]): void {
  expect(run.code, run.stderr()).toBe(1);
  // Progress lines may come first; the error is the last line.
  const line = run.stderr().trim().split('\n').at(-1) ?? '';
  expect(line).toMatch(/^error: Refusing to .*STORE_IN_USE\)$/);
  expect(line).toContain('Stop every savepoint serve, game server embedding Savepoint and savepoint command');
  expect(line).toContain('nothing was changed');
  for (const name of names) expect(line).toContain(name);
}

const put = (url: string, path: string, value: unknown) =>
  fetch(`${url}${path}`, { method: 'PUT', headers, body: JSON.stringify({ value }) });

describe('a SQLite store in use', () => {
  it('the lost-write sequence: B comes and goes, restore refuses under A, and A keeps its acknowledged write', async () => {
    const dataDir = tempDir();
    const elsewhere = tempDir();
    const a = await serve('A', dataDir);
    expect((await put(a.url, '/v1/docs/p/before', 1)).status).toBe(201);
    const b = await serve('B', dataDir);
    await b.stop();

    // Read-only work beside the live server.
    const backupFile = join(elsewhere, 'backup.db');
    expect((await cli(['backup', '--data-dir', dataDir, '--out', backupFile])).code).toBe(0);
    const check = await cli(['check', '--data-dir', dataDir]);
    expect(check.code, check.stdout() + check.stderr()).toBe(0);
    const exportFile = join(elsewhere, 'export.ndjson');
    expect((await cli(['export', '--data-dir', dataDir, '--out', exportFile])).code).toBe(0);
    // A second store to migrate from.
    const otherDir = join(elsewhere, 'other');
    expect((await cli(['import', exportFile, '--data-dir', otherDir])).code).toBe(0);

    const serverPid = String(a.run.child.pid);
    expectRefused(await cli(['restore', backupFile, '--data-dir', dataDir]), [
      `data dir ${dataDir}`,
      `process ${serverPid} (`,
    ]);
    expectRefused(await cli(['import', exportFile, '--force', '--data-dir', dataDir]), [
      `data dir ${dataDir}`,
      `process ${serverPid} (`,
    ]);
    expectRefused(
      await cli([
        'migrate',
        '--data-dir',
        otherDir,
        '--to',
        `sqlite:${join(dataDir, 'savepoint.db')}`,
        '--force',
      ]),
      [`data dir ${dataDir}`, `process ${serverPid} (`],
    );
    // Nothing was moved aside.
    expect(readdirSync(dataDir).filter((name) => name.includes('before-restore'))).toEqual([]);

    expect((await put(a.url, '/v1/docs/p/after', 'acknowledged')).status).toBe(201);
    await a.stop();
    const again = await serve('A again', dataDir);
    const read = await fetch(`${again.url}/v1/docs/p/after`, { headers });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ value: 'acknowledged' });
    // The refusals wrote nothing, not even a "-rejected" audit entry.
    const audit = (await (await fetch(`${again.url}/v1/admin/audit`, { headers })).json()) as {
      events: Array<{ type: string }>;
    };
    expect(audit.events.map((entry) => entry.type).filter((type) => type.endsWith('-rejected'))).toEqual([]);
    await again.stop();

    // With every process gone, the restore runs.
    const restore = await cli(['restore', backupFile, '--data-dir', dataDir]);
    expect(restore.code, restore.stderr()).toBe(0);
  }, 120_000);

  it('a game server embedding the library blocks restore until it is killed with SIGKILL', async () => {
    const dataDir = tempDir();
    const file = join(dataDir, 'savepoint.db');
    const script = join(dataDir, 'game-server.mjs');
    writeFileSync(
      script,
      `import { openSavepoint } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const savepoint = await openSavepoint({ url: ${JSON.stringify(`sqlite:${file}`)} });
await savepoint.store.commit([{ op: 'put', collection: 'tables', key: 't1', value: { pot: 40 } }]);
console.log('open');
setInterval(() => {}, 1000);
`,
    );
    const backupFile = join(dataDir, 'empty-backup.db');
    {
      // A backup to restore, taken before the game server starts.
      const seed = await openSavepoint({ url: `sqlite:${file}` });
      await seed.close();
      expect((await cli(['backup', '--data-dir', dataDir, '--out', backupFile])).code).toBe(0);
    }
    const game = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<string | number>((resolve) =>
      game.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
    );
    await new Promise<void>((resolve, reject) => {
      game.stdout.on('data', (chunk) => {
        if (String(chunk).includes('open')) resolve();
      });
      game.on('exit', () => reject(new Error('the game server exited before opening the store')));
    });

    expectRefused(await cli(['restore', backupFile, '--data-dir', dataDir]), [
      `data dir ${dataDir}`,
      `process ${game.pid} (`,
    ]);

    game.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // The kernel dropped its lock with the process: nothing stale is left to block the restore.
    const restore = await cli(['restore', backupFile, '--data-dir', dataDir]);
    expect(restore.code, restore.stderr()).toBe(0);
    const reopened = await openSavepoint({ url: `sqlite:${file}` });
    expect(await reopened.store.get('tables', 't1')).toBeUndefined();
    await reopened.close();
  }, 60_000);

  it('a server killed with SIGKILL leaves no lock behind', async () => {
    const dataDir = tempDir();
    const a = await serve('killed', dataDir);
    expect((await put(a.url, '/v1/docs/p/x', 1)).status).toBe(201);
    const backupFile = join(dataDir, 'b.db');
    expect((await cli(['backup', '--data-dir', dataDir, '--out', backupFile])).code).toBe(0);
    expectRefused(await cli(['restore', backupFile, '--data-dir', dataDir]), [`data dir ${dataDir}`]);
    expect(await a.kill('SIGKILL')).toBe('SIGKILL');
    const restore = await cli(['restore', backupFile, '--data-dir', dataDir]);
    expect(restore.code, restore.stderr()).toBe(0);
    expect(existsSync(join(dataDir, 'savepoint.db.lock'))).toBe(true);
  }, 60_000);
});

describe.skipIf(!pgAvailable)('a PostgreSQL schema in use', () => {
  it('import --force and migrate --force onto a schema refuse while an instance is connected, and run once it closes', async () => {
    const schema = uniqueName('sp_live_store');
    schemas.push(schema);
    const url = `${postgresUrl}?schema=${schema}`;
    const dir = tempDir();
    const instance = await openSavepoint({ url });
    await instance.store.commit([{ op: 'put', collection: 'p', key: 'live', value: 'kept' }]);

    // Read-only work beside the instance; and a SQLite store to migrate from.
    const exportFile = join(dir, 'export.ndjson');
    expect((await cli(['export', '--database', url, '--out', exportFile])).code).toBe(0);
    expect((await cli(['import', exportFile, '--data-dir', dir])).code).toBe(0);
    await instance.store.commit([{ op: 'put', collection: 'p', key: 'after-export', value: 'kept' }]);

    expectRefused(await cli(['import', exportFile, '--force', '--database', url]), [
      `schema "${schema}"`,
      '1 other Savepoint session(s): backend',
    ]);
    expectRefused(await cli(['migrate', '--data-dir', dir, '--to', url, '--force']), [`schema "${schema}"`]);
    expect((await instance.store.get('p', 'after-export'))?.value).toBe('kept');

    await instance.close();
    expect((await cli(['import', exportFile, '--force', '--database', url])).code).toBe(0);
    const migrate = await cli(['migrate', '--data-dir', dir, '--to', url, '--force']);
    expect(migrate.code, migrate.stderr()).toBe(0);
    const reopened = await openSavepoint({ url });
    expect(await reopened.store.get('p', 'after-export')).toBeUndefined();
    expect((await reopened.store.get('p', 'live'))?.value).toBe('kept');
    await reopened.close();
  }, 60_000);
});
