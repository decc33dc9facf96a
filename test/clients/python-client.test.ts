/**
 * The Python client (clients/python) in `npm test`: its sources compile, and its unittest suite,
 * which starts real `savepoint serve` processes from dist/, passes with a non-zero test count.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../cli/cli-harness.js';

const PYTHON = process.env.SAVEPOINT_TEST_PYTHON ?? 'python3';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [...args],
      { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the Python client', () => {
  let cacheDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    ensureBuilt();
    // Byte code goes to a temporary folder, never next to the sources.
    cacheDir = await mkdtemp(join(tmpdir(), 'savepoint-pycache-'));
    env = {
      PATH: process.env.PATH ?? '',
      PYTHONPYCACHEPREFIX: cacheDir,
      SAVEPOINT_NODE: process.execPath,
      // The server replays Idempotency-Key requests: without that support the suite fails, never skips.
      SAVEPOINT_REQUIRE_IDEMPOTENCY: '1',
    };
  });
  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('compiles without warnings', async () => {
    const compiled = await run(
      ['-W', 'error', '-m', 'compileall', '-q', '-f', 'clients/python'],
      env,
      60_000,
    );
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
  });

  it('passes its unittest suite against real servers', { timeout: 600_000 }, async () => {
    const result = await run(
      ['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-v'],
      env,
      540_000,
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    const ran = /^Ran (\d+) tests? in /m.exec(result.stderr);
    expect(ran, output).not.toBeNull();
    expect(Number(ran?.[1])).toBeGreaterThan(20);
    // Nothing may skip: the idempotent reconnect retry runs too.
    expect(result.stderr, output).toMatch(/^OK$/m);
  });
});
