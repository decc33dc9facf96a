/** Databases the benchmarks write to: a SQLite file in a fresh scratch directory, removed with it. */
import { join } from 'node:path';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import { scratchDir } from './stats.js';

export interface ScratchDb<T> {
  readonly db: T;
  /** Closes the database and removes its directory. */
  close(): Promise<void>;
}

/** `open(<scratch dir>/savepoint.db)`, for a Store, a Savepoint or anything else with `close()`. */
export async function openScratch<T extends { close(): Promise<void> }>(
  name: string,
  open: (file: string) => Promise<T>,
): Promise<ScratchDb<T>> {
  const dir = scratchDir(name);
  let db: T;
  try {
    db = await open(join(dir.path, 'savepoint.db'));
  } catch (error) {
    dir.remove();
    throw error;
  }
  return {
    db,
    async close() {
      try {
        await db.close();
      } finally {
        dir.remove();
      }
    },
  };
}

/** The engine on the SQLite driver with durability `normal`, as the domain benchmarks measure it. */
export const openNormalStore = async (file: string): Promise<Store> =>
  new Store(await openSqliteDriver({ path: file, durability: 'normal' }));
