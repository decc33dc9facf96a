/** Start-up recovery with real processes: `savepoint serve` on damaged data directories. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../cli/cli-harness.js';
import { DAMAGES, damagedStore } from './corrupt-fixtures.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'savepoint-serve-recovery-'));
  dirs.push(dir);
  return dir;
}
beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('savepoint serve on a damaged data directory', () => {
  for (const damage of DAMAGES) {
    it(`${damage}: starts, prints one line, reports it in /health, keeps the original`, async () => {
      const dataDir = tempDir();
      const original = await damagedStore(dataDir, damage);
      const started = performance.now();
      const run = runCli(['serve', '--port', '0', '--data-dir', dataDir], {
        SAVEPOINT_API_KEY: 'recovery-key-0123456789',
      });
      const [, url] = await run.waitForLine(/^listening on (\S+)$/m);
      const startMs = performance.now() - started;
      const errorLines = run
        .stderr()
        .split('\n')
        .filter(
          (line) => line.startsWith('error: the database') || line.startsWith('error: the write-ahead log'),
        );
      expect(errorLines).toHaveLength(1);
      const health = (await (await fetch(`${url}/health`)).json()) as {
        status: string;
        recovery: { action: string; quarantinedTo: string; reason: string };
      };
      expect(health.status).toBe('degraded');
      expect(health.recovery.action).toBe(damage === 'garbled-wal' ? 'truncated-wal' : 'started-empty');
      expect(errorLines[0]).toContain(health.recovery.quarantinedTo);
      expect(existsSync(health.recovery.quarantinedTo)).toBe(true);
      if (damage !== 'garbled-wal')
        expect(readFileSync(health.recovery.quarantinedTo).equals(original)).toBe(true);
      // It serves writes on the store it fell back to.
      const put = await fetch(`${url}/v1/docs/things/after`, {
        method: 'PUT',
        headers: { authorization: 'Bearer recovery-key-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({ value: 1 }),
      });
      expect(put.status).toBe(201);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      console.log(`${damage}: listening ${startMs.toFixed(0)} ms after spawn (fallback included)`);
    });
  }

  it('a data directory under a regular file exits 1 with one line naming the path', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'plain-file'), '');
    const run = runCli(['serve', '--port', '0', '--data-dir', join(dir, 'plain-file', 'data')], {
      SAVEPOINT_API_KEY: 'recovery-key-0123456789',
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(new RegExp(`^error: .*${join(dir, 'plain-file', 'data')}`, 'm'));
    expect(run.stderr()).not.toContain('    at ');
  });
});
