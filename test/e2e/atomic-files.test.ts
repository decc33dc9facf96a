/**
 * Files outside the database are written atomically: `savepoint backup` and `savepoint export`
 * are killed with SIGKILL while they write (the store is large enough that the temporary file
 * exists for a while, and the test proves the kill landed then: the temporary file is left
 * behind). The previous backup and export stay whole and usable, and nothing half-written is ever
 * found under a final name: a listing, a restore or an import sees the old whole file or none.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTemporaryName } from '../../src/atomic-file.js';
import { listBackups, problemWithFile } from '../../src/drivers/sqlite/sqlite-recovery.js';
import { openSavepoint } from '../../src/savepoint.js';
import { type CliRun, ensureBuilt, runCli } from '../cli/cli-harness.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'savepoint-atomic-'));
  dirs.push(dir);
  return dir;
}

let dataDir: string;
/** Documents of 100 KiB: about 48 MiB in all, so each write takes long enough to be interrupted. */
const DOCUMENTS = 480;

beforeAll(async () => {
  ensureBuilt();
  dataDir = tempDir();
  const savepoint = await openSavepoint({ url: `sqlite:${join(dataDir, 'savepoint.db')}` });
  const filler = 'x'.repeat(100 * 1024);
  for (let start = 0; start < DOCUMENTS; start += 40) {
    await savepoint.store.commit(
      Array.from({ length: 40 }, (_, offset) => ({
        op: 'put' as const,
        collection: 'big',
        key: `d${start + offset}`,
        value: { n: start + offset, filler },
      })),
    );
  }
  await savepoint.close();
}, 120_000);
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

async function succeeds(args: readonly string[]): Promise<CliRun> {
  const run = runCli(args);
  expect(await run.exited, run.stderr()).toBe(0);
  return run;
}

/**
 * Starts the command and kills it with SIGKILL as soon as a temporary file appears in `directory`.
 * Resolves with the temporary files left after the kill (none when the command finished first).
 */
async function killMidWrite(args: readonly string[], directory: string): Promise<string[]> {
  const run = runCli(args);
  let finished = false;
  void run.exited.then(() => {
    finished = true;
  });
  const temporaries = (): string[] => readdirSync(directory).filter(isTemporaryName);
  while (!finished && temporaries().length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  run.child.kill('SIGKILL');
  const exit = await run.exited;
  return exit === 'SIGKILL' ? temporaries() : [];
}

/** Tries up to five times to land the kill mid-write; the test fails if it never does. */
async function landKill(args: readonly string[], directory: string): Promise<string[]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const left = await killMidWrite(args, directory);
    if (left.length > 0) return left;
  }
  throw new Error(`no kill landed while ${args[0]} was writing`);
}

describe('kill -9 mid-write', () => {
  it('during a backup: the earlier backup stays listed and valid, the torn one is never listed, and restore uses the whole one', async () => {
    const backups = join(dataDir, 'backups');
    await succeeds(['backup', '--data-dir', dataDir]);
    const [first] = listBackups(backups);
    expect(first).toBeDefined();
    const before = sha256(first as string);

    const left = await landKill(['backup', '--data-dir', dataDir], backups);
    // The kill landed while the copy was being written: its temporary file is still there.
    expect(left.length).toBeGreaterThan(0);
    expect(listBackups(backups)).toEqual([first]);
    expect(sha256(first as string)).toBe(before);
    expect(problemWithFile(first as string, { check: 'integrity' })).toBeUndefined();

    // The next backup clears what the dead one left, and the listing holds whole backups only.
    await succeeds(['backup', '--data-dir', dataDir]);
    expect(readdirSync(backups).filter(isTemporaryName)).toEqual([]);
    const listed = listBackups(backups);
    expect(listed).toHaveLength(2);
    for (const backup of listed) expect(problemWithFile(backup, { check: 'integrity' })).toBeUndefined();

    // A restore of the one that survived the kill brings every document back.
    const restoreDir = tempDir();
    await succeeds(['restore', first as string, '--data-dir', restoreDir]);
    const restored = await openSavepoint({ url: `sqlite:${join(restoreDir, 'savepoint.db')}` });
    expect((await restored.store.countRecords()).documents).toBe(DOCUMENTS);
    await restored.close();
  }, 180_000);

  it('during an export over an earlier one: the earlier export stays whole under its name and imports', async () => {
    const outDir = tempDir();
    const target = join(outDir, 'savepoint.ndjson');
    await succeeds(['export', '--data-dir', dataDir, '--out', target]);
    const before = sha256(target);

    const left = await landKill(['export', '--data-dir', dataDir, '--out', target], outDir);
    expect(left.length).toBeGreaterThan(0);
    expect(readdirSync(outDir).filter((name) => !isTemporaryName(name))).toEqual(['savepoint.ndjson']);
    expect(sha256(target)).toBe(before);

    const importDir = tempDir();
    await succeeds(['import', target, '--data-dir', importDir]);
    const imported = await openSavepoint({ url: `sqlite:${join(importDir, 'savepoint.db')}` });
    expect((await imported.store.countRecords()).documents).toBe(DOCUMENTS);
    await imported.close();
  }, 180_000);

  it('during a first export: nothing is left under the final name', async () => {
    const outDir = tempDir();
    const target = join(outDir, 'first.ndjson');
    const left = await landKill(['export', '--data-dir', dataDir, '--out', target], outDir);
    expect(left.length).toBeGreaterThan(0);
    expect(readdirSync(outDir).filter((name) => !isTemporaryName(name))).toEqual([]);
    const run = runCli(['import', target, '--data-dir', tempDir()]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^error: No such file: /m);
  }, 180_000);
});
