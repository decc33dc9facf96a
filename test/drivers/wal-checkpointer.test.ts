/**
 * The off-thread WAL checkpointer (src/drivers/sqlite/wal-checkpointer.ts): a busy store's WAL is
 * copied into the database by a worker before the main connection's own checkpoint would fire, and
 * closing still leaves no WAL behind and lets the process exit.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { SETTLE_AT } from '../../src/drivers/sqlite/stream-table.js';
import { CHECKPOINT_INTERVAL_MS, WORKER_AFTER_BATCHES } from '../../src/drivers/sqlite/wal-checkpointer.js';
import { Store } from '../../src/engine/store.js';

let directory: string;
let file: string;

beforeEach(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-wal-'));
  file = path.join(directory, 'store.db');
});

afterEach(() => {
  fs.rmSync(directory, { recursive: true, force: true });
});

const walBytes = () => fs.statSync(`${file}-wal`).size;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Enough commits, one at a time, for the worker to start. */
async function warmUp(store: Store): Promise<void> {
  for (let i = 0; i < WORKER_AFTER_BATCHES; i++) {
    await store.commit([{ op: 'put', collection: 'warm', key: `k${i % 10}`, value: { i } }]);
  }
}

describe('WAL checkpoints off the event loop', () => {
  it('a busy store checkpoints from the worker, before the main connection reaches its 1,000-page threshold', async () => {
    const driver = await openSqliteDriver({ path: file });
    const store = new Store(driver);
    try {
      await warmUp(store);
      // Rounds of about 700 WAL pages (500 documents of 4 KB), with pauses. The main connection checkpoints only past
      // 1,000 pages, so by itself it would let the WAL reach at least 1,400 pages (the second round)
      // before its checkpoint and restart. The worker copies each round during the pause, and the
      // next round's first commit restarts the log from its beginning.
      const value = { blob: 'x'.repeat(4000) };
      for (let round = 0; round < 6; round++) {
        for (let part = 0; part < 2; part++) {
          await store.commit(
            Array.from({ length: 250 }, (_, i) => ({
              op: 'put' as const,
              collection: 'big',
              key: `k${part}-${i}`,
              value,
            })),
          );
        }
        // Twenty ticks of the worker: a loaded machine (CI runs test files side by side) can hold one
        // copy of a round's 700 pages for several ticks.
        await sleep(20 * CHECKPOINT_INTERVAL_MS);
      }
      expect(walBytes()).toBeLessThan(1000 * 4096);
      expect(await store.get('big', 'k1-249')).toMatchObject({ value });
    } finally {
      await store.close();
    }
    // The worker closed first, so the main connection was the last one and removed the WAL.
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it("leaves a settle's pages to the worker, and the connection checkpoints by itself again afterwards", async () => {
    const driver = await openSqliteDriver({ path: file });
    const store = new Store(driver);
    try {
      await warmUp(store);
      expect(driver.connectionSettings().autoCheckpointPages).toBe(1000);
      const events = Array.from({ length: 10_000 }, (_, i) => ({ type: 'e', data: i }));
      await store.commit(
        Array.from({ length: Math.ceil(SETTLE_AT / 10_000) }, (_, i) => ({
          op: 'append' as const,
          stream: `s${i}`,
          events,
        })),
      );
      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.prepare('SELECT COUNT(*) AS n FROM recent_events').get()).toEqual({ n: 0 });
      } finally {
        raw.close();
      }
      expect(driver.connectionSettings().autoCheckpointPages).toBe(1000);
      expect((await store.readStream('s0', { after: 9_998 })).map((event) => event.seq)).toEqual([
        9_999, 10_000,
      ]);
    } finally {
      await store.close();
    }
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('a process that closes its store exits on its own, with the worker started', () => {
    const script = `
      import { openSqliteDriver } from ${JSON.stringify(path.resolve('src/drivers/sqlite/sqlite-driver.ts'))};
      import { Store } from ${JSON.stringify(path.resolve('src/engine/store.ts'))};
      const store = new Store(await openSqliteDriver({ path: ${JSON.stringify(file)} }));
      for (let i = 0; i < ${WORKER_AFTER_BATCHES + 10}; i++) await store.commit([{ op: 'put', collection: 'c', key: 'k', value: { i } }]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await store.close();
      console.log('closed');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('closed');
    // 13 is Node's "unsettled top-level await": close() waiting on a worker that cannot keep the loop alive.
    expect(child.status).toBe(0);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });
});
