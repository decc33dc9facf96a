/** `savepoint serve` as a real process: start, answer, shut down on a signal with exit code 0. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN, ROOT, runCli } from './cli-harness.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'savepoint-cli-'));
  dirs.push(dir);
  return dir;
}

beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('savepoint serve', () => {
  it('prints the bound port, generates the key file, serves, and exits 0 on SIGTERM', async () => {
    const dataDir = await tempDir();
    const run = runCli(['serve', '--port', '0', '--data-dir', dataDir, '--database', 'memory:']);
    const [, url] = await run.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:(\d+))$/m);
    expect(url).not.toMatch(/:0$/);
    expect(run.stdout()).toContain(`api key: generated into ${join(dataDir, 'api-key')} (mode 0600)`);

    const keyFile = join(dataDir, 'api-key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const key = (await readFile(keyFile, 'utf8')).trim();
    expect(run.stdout()).not.toContain(key);
    expect(run.stderr()).not.toContain(key);

    expect((await fetch(`${url}/health`)).status).toBe(200);
    const put = await fetch(`${url}/v1/docs/things/a`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { hello: 'world' } }),
    });
    expect(put.status).toBe(201);
    expect((await fetch(`${url}/v1/docs/things/a`)).status).toBe(401);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('SIGTERM: shutting down');
    expect(run.stdout()).toContain('stopped');
  });

  it('keeps data across a restart on the default SQLite store, reusing the key', async () => {
    const dataDir = await tempDir();
    const first = runCli(['serve', '--port', '0'], { SAVEPOINT_DATA_DIR: dataDir });
    const [, url1] = await first.waitForLine(/^listening on (\S+)$/m);
    expect(first.stdout()).toContain(`database=sqlite:${dataDir}/savepoint.db`);
    const key = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim();
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const put = await fetch(`${url1}/v1/docs/saves/p1`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ value: { level: 7 } }),
    });
    expect(put.status).toBe(201);
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = runCli(['serve', '--port', '0', '--data-dir', dataDir]);
    const [, url2] = await second.waitForLine(/^listening on (\S+)$/m);
    expect(second.stdout()).toContain(`api key: read from ${join(dataDir, 'api-key')}`);
    const read = await fetch(`${url2}/v1/docs/saves/p1`, { headers });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ value: { level: 7 }, version: 1 });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('a bad setting prints one line naming it and exits 1', async () => {
    const run = runCli(['serve', '--port', 'abc'], { SAVEPOINT_TOKEN_TTL: 'soon' });
    expect(await run.exited).toBe(1);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toEqual([
      'error: Invalid --port "abc": expected an integer 0-65535 (0 picks a free port); Invalid SAVEPOINT_TOKEN_TTL "soon": expected a duration such as 500ms, 30s, 30m, 7d',
    ]);
    expect(run.stderr()).not.toContain('    at ');
  });

  it('a port already in use is one clear line and exit 1', async () => {
    const dataDir = await tempDir();
    const holder = runCli(['serve', '--port', '0', '--data-dir', dataDir, '--database', 'memory:']);
    const [, port] = await holder.waitForLine(/^listening on http:\/\/127\.0\.0\.1:(\d+)$/m);
    // A second server on a fresh data dir (the default SQLite store, a generated key): it must not
    // leave a key or a database behind in a directory nobody will use.
    const freshDir = join(await tempDir(), 'fresh');
    const clash = runCli(['serve', '--port', port as string, '--data-dir', freshDir]);
    expect(await clash.exited).toBe(1);
    expect(clash.stderr().trim().split('\n')).toEqual([
      `error: Port ${port} on 127.0.0.1 is already in use (is another savepoint running?); stop that process or choose another port with --port`,
    ]);
    expect(existsSync(freshDir)).toBe(false);
    holder.child.kill('SIGTERM');
    expect(await holder.exited).toBe(0);
  });

  // Tests run as root, which may write anywhere: a data dir below a regular file stays unwritable
  // for root too (ENOTDIR), the way a root-owned host directory is for an unprivileged user.
  it('an unwritable data dir, with the key to generate, is one clear line, exit 1, nothing written', async () => {
    const parent = await tempDir();
    const blocker = join(parent, 'not-a-directory');
    await writeFile(blocker, '');
    const run = runCli(['serve', '--port', '0', '--data-dir', join(blocker, 'data')]);
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([
      `error: The data directory ${join(blocker, 'data')} is not writable (ENOTDIR), so the API key cannot be generated into it; fix its permissions, choose another with --data-dir, or set SAVEPOINT_API_KEY`,
    ]);
    expect(await readdir(parent)).toEqual(['not-a-directory']);
  });

  // The container's case exactly: a root-owned 0755 directory, and the server running as uid 1000.
  it.skipIf(process.getuid?.() !== 0)(
    'a root-owned data dir, for a server running as another user, is one clear EACCES line',
    async () => {
      const dataDir = await tempDir();
      await chmod(dataDir, 0o755);
      const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir], {
        cwd: ROOT,
        uid: 1000,
        gid: 1000,
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += String(chunk);
      });
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        `error: The data directory ${dataDir} is not writable (EACCES), so the API key cannot be generated into it; fix its permissions, choose another with --data-dir, or set SAVEPOINT_API_KEY`,
      ]);
      expect(await readdir(dataDir)).toEqual([]);
    },
  );

  it('a SAVEPOINT_API_KEY shorter than 16 characters is refused before anything is written', async () => {
    const dataDir = join(await tempDir(), 'data');
    const run = runCli(['serve', '--port', '0', '--data-dir', dataDir], { SAVEPOINT_API_KEY: 'short-key' });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([
      'error: Invalid SAVEPOINT_API_KEY "***": expected at least 16 characters (try: openssl rand -base64 32)',
    ]);
    expect(run.stderr()).not.toContain('short-key');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('honours HOST and PORT from the environment, and SAVEPOINT_API_KEY', async () => {
    const dataDir = await tempDir();
    const run = runCli(['serve', '--database', 'memory:', '--data-dir', dataDir], {
      HOST: '127.0.0.1',
      PORT: '0',
      SAVEPOINT_API_KEY: 'env-key-for-the-test',
    });
    const [, url] = await run.waitForLine(/^listening on (\S+)$/m);
    expect(run.stdout()).toContain('api key: from SAVEPOINT_API_KEY');
    expect(run.stdout()).not.toContain('env-key-for-the-test');
    const ok = await fetch(`${url}/v1/docs/x`, { headers: { authorization: 'Bearer env-key-for-the-test' } });
    expect(ok.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});

describe('other commands', () => {
  it('check reports a healthy store and exits 0', async () => {
    const run = runCli(['check', '--database', 'memory:']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/^healthy$/m);
  });

  it('check on a data dir with no store exits 1 with a readable report', async () => {
    const run = runCli(['check', '--data-dir', await tempDir()]);
    expect(await run.exited).toBe(1);
    expect(run.stdout()).toMatch(/FAIL {2}find the store .*no database file at/);
    expect(run.stdout()).toMatch(/^unhealthy: 1 of 1 steps failed$/m);
  });

  it('sweep prints its counts with plain progress lines off a terminal', async () => {
    const run = runCli(['sweep', '--database', 'memory:', '--batch-size', '50']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/^removed 0 expired records$/m);
    expect(run.stderr()).toMatch(/^sweeping: 0 expired records removed$/m);
  });

  it('an unknown command or flag exits non-zero', async () => {
    expect(await runCli(['frobnicate']).exited).not.toBe(0);
    expect(await runCli(['sweep', '--batch-size', '0']).exited).not.toBe(0);
  });

  it('--version prints the package version', async () => {
    const run = runCli(['--version']);
    expect(await run.exited).toBe(0);
    expect(run.stdout().trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
