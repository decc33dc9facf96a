/**
 * The SQLite integrity check off the event loop: `PRAGMA integrity_check` reads
 * every page, so it runs in a worker thread on a read-only connection. These tests prove that a
 * timer keeps ticking while a large file is checked (on the main thread it stops for the whole
 * check), that a server goes on committing meanwhile, that the answers are word for word the ones
 * the same check gives on the main thread, damaged files included, and that the compiled package
 * finds its worker as well as the TypeScript sources do.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  integrityProblemsOffThread,
  problemWithFileOffThread,
} from '../../src/drivers/sqlite/integrity-off-thread.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { integrityProblems, problemWithFile } from '../../src/drivers/sqlite/sqlite-recovery.js';
import { Store } from '../../src/engine/store.js';
import { ensureBuilt, ROOT } from '../cli/cli-harness.js';
import { type Damage, damagedStore } from '../recovery/corrupt-fixtures.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-integrity-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

/** Documents in the large file: its integrity check takes a few hundred ms (about 0.35 s here, unloaded). */
const LARGE_DOCUMENTS = 300_000;
/** A responsive event loop: no gap between timer ticks longer than this while the check runs. */
const MAX_GAP_MS = 50;

/** A store with the driver's own schema, filled in one transaction (about a second). */
async function largeStore(file: string): Promise<void> {
  const driver = await openSqliteDriver({ path: file, reserveBytes: 0 });
  await driver.close();
  const db = new Database(file);
  try {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO documents (collection, key, value, version, created_at, updated_at, expires_at)
       SELECT 'things', printf('k%07d', i), printf('{"i":%d,"pad":"%s"}', i, hex(zeroblob(40))), 1, 0, 0,
              CASE WHEN i % 3 = 0 THEN 4102444800000 END
       FROM n`,
    ).run(LARGE_DOCUMENTS);
  } finally {
    db.close();
  }
}

/** Runs `work` while a 5 ms timer ticks; the longest gap between ticks (or since the start). */
async function withTicker<T>(
  work: () => Promise<T> | T,
): Promise<{ value: T; ms: number; maxGapMs: number }> {
  const started = performance.now();
  let last = started;
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  try {
    // Let the timer start before the work, so that a blocked loop shows as one long gap.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const workStarted = performance.now();
    const value = await work();
    const ms = performance.now() - workStarted;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { value, ms, maxGapMs: Math.max(maxGapMs, performance.now() - last) };
  } finally {
    clearInterval(timer);
  }
}

/**
 * On 2 shared cores another process can keep this thread off the CPU for longer than the bound,
 * whatever the check does: up to 3 tries, the best one counts. A check on this thread fails all 3.
 */
async function bestOfThree<T>(
  run: () => Promise<{ value: T; ms: number; maxGapMs: number }>,
): Promise<{ value: T; ms: number; maxGapMs: number; gaps: number[] }> {
  const gaps: number[] = [];
  let best: { value: T; ms: number; maxGapMs: number } | undefined;
  for (let attempt = 0; attempt < 3 && (best === undefined || best.maxGapMs >= MAX_GAP_MS); attempt++) {
    const result = await run();
    gaps.push(Math.round(result.maxGapMs));
    if (best === undefined || result.maxGapMs < best.maxGapMs) best = result;
  }
  return { ...(best as { value: T; ms: number; maxGapMs: number }), gaps };
}

describe('the integrity check of a large file', () => {
  const file = path.join(directory, 'large', 'savepoint.db');
  beforeAll(async () => {
    const started = performance.now();
    await largeStore(file);
    console.info(
      `[integrity] built ${LARGE_DOCUMENTS} documents, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB, in ${(performance.now() - started).toFixed(0)} ms`,
    );
  });

  it('runs in a worker thread: the event loop keeps ticking, with the same answer as on the main thread', async () => {
    const blocked = await withTicker(() => problemWithFile(file, { check: 'integrity' }));
    const offThread = await bestOfThree(() =>
      withTicker(() => problemWithFileOffThread(file, { check: 'integrity' })),
    );
    console.info(
      `[integrity] main thread: check ${blocked.ms.toFixed(0)} ms, longest event-loop gap ${blocked.maxGapMs.toFixed(0)} ms; ` +
        `worker: check ${offThread.ms.toFixed(0)} ms (thread start included), longest gap ${offThread.maxGapMs.toFixed(0)} ms (tries: ${offThread.gaps.join(', ')} ms)`,
    );
    expect(blocked.value).toBeUndefined();
    expect(offThread.value).toBeUndefined();
    // The file is big enough for the difference to show: the main-thread check stalls the loop.
    expect(blocked.maxGapMs).toBeGreaterThan(3 * MAX_GAP_MS);
    expect(offThread.maxGapMs).toBeLessThan(MAX_GAP_MS);
  });

  it("checks a running store's file while the store goes on committing", async () => {
    const driver = await openSqliteDriver({ path: file, reserveBytes: 0 });
    const store = new Store(driver);
    try {
      let commits = 0;
      const checkWhileWriting = async (): Promise<{ value: string[]; ms: number; maxGapMs: number }> => {
        let checking = true;
        const writer = (async () => {
          while (checking) {
            await store.commit([{ op: 'put', collection: 'live', key: `w${commits}`, value: { commits } }]);
            commits++;
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        })();
        try {
          return await withTicker(async () => {
            try {
              return await driver.checkIntegrity();
            } finally {
              checking = false;
            }
          });
        } finally {
          await writer;
        }
      };
      const checked = await bestOfThree(checkWhileWriting);
      console.info(
        `[integrity] driver.checkIntegrity: ${checked.ms.toFixed(0)} ms, ${commits} commits meanwhile, longest gap ${checked.maxGapMs.toFixed(0)} ms (tries: ${checked.gaps.join(', ')} ms)`,
      );
      expect(checked.value).toEqual([]);
      expect(commits).toBeGreaterThan(10);
      expect(checked.maxGapMs).toBeLessThan(MAX_GAP_MS);
      expect((await store.get('live', 'w0'))?.value).toEqual({ commits: 0 });
    } finally {
      await store.close();
    }
  });

  it('a closed driver stops its check', async () => {
    const driver = await openSqliteDriver({ path: file, reserveBytes: 0 });
    const checking = driver.checkIntegrity();
    await driver.close();
    await expect(checking).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});

describe('damaged files are reported off the main thread word for word', () => {
  const DAMAGES: readonly Damage[] = ['page-garbage', 'truncated', 'zero-length', 'random-bytes'];

  it.each(DAMAGES)('%s', async (damage) => {
    const dir = path.join(directory, damage);
    await damagedStore(dir, damage);
    const file = path.join(dir, 'savepoint.db');
    const onMainThread = problemWithFile(file, { check: 'integrity' });
    expect(onMainThread).toBeDefined();
    expect(await problemWithFileOffThread(file, { check: 'integrity' })).toBe(onMainThread);
  });

  it('every problem of a page overwritten with garbage, as integrityProblems lists them', async () => {
    const dir = path.join(directory, 'problems');
    await damagedStore(dir, 'page-garbage');
    const file = path.join(dir, 'savepoint.db');
    let expected: string[] | Error;
    const db = new Database(file, { readonly: true });
    try {
      expected = integrityProblems(db, true);
    } catch (error) {
      expected = error as Error;
    } finally {
      db.close();
    }
    if (expected instanceof Error) {
      await expect(integrityProblemsOffThread(file)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    } else {
      expect(expected.length).toBeGreaterThan(0);
      expect(await integrityProblemsOffThread(file)).toEqual(expected);
    }
  });
});

describe('the compiled package', () => {
  it('finds its worker beside the compiled module', async () => {
    ensureBuilt();
    const dir = path.join(directory, 'dist');
    await damagedStore(dir, 'page-garbage');
    const damaged = path.join(dir, 'savepoint.db');
    const sound = path.join(directory, 'large', 'savepoint.db');
    const module = pathToFileURL(
      path.join(ROOT, 'dist', 'drivers', 'sqlite', 'integrity-off-thread.js'),
    ).href;
    const script = `
      const { problemWithFileOffThread } = await import(${JSON.stringify(module)});
      const answers = [];
      for (const file of process.argv.slice(1)) answers.push(await problemWithFileOffThread(file, { check: 'integrity' }) ?? null);
      process.stdout.write(JSON.stringify(answers));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, sound, damaged], {
      cwd: os.tmpdir(),
      encoding: 'utf8',
    });
    // The fallback to the main thread warns on stderr: no warning, so the worker ran.
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([null, problemWithFile(damaged, { check: 'integrity' })]);
  });
});
