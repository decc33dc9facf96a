import { type Clock, Store } from './engine/store.js';
import { DEFAULT_STORAGE_URL, type DriverOptions, openDriver, type StorageUrl } from './open.js';

export interface SavepointOptions extends DriverOptions {
  /** `memory:`, `sqlite:<path>` or `postgres://…`. Default `sqlite:./data/savepoint.db`. */
  readonly url?: StorageUrl;
  /** Largest serialized value accepted, in bytes. Default 16 MiB. */
  readonly maxValueBytes?: number;
  /** Source of "now"; tests pass a manual clock. Default `Date.now`. */
  readonly clock?: Clock;
}

/** An open Savepoint: the engine (`store`) and, as they are added, the game modules built on it. */
export class Savepoint {
  /** Documents, streams and boards behind one atomic `commit`. */
  readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /** Finishes queued commits and closes the storage. */
  async close(): Promise<void> {
    await this.store.close();
  }
}

/**
 * Opens Savepoint on a storage URL.
 *
 * @example
 * const savepoint = await openSavepoint({ url: 'sqlite:./data/game.db' });
 * await savepoint.store.commit([{ op: 'patch', collection: 'stats', key: 'p1', patch: { $inc: { wins: 1 } }, upsert: true }]);
 * await savepoint.close();
 */
export async function openSavepoint(options: SavepointOptions = {}): Promise<Savepoint> {
  const driver = await openDriver(options.url ?? DEFAULT_STORAGE_URL, options);
  const store = new Store(driver, {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.maxValueBytes === undefined ? {} : { maxValueBytes: options.maxValueBytes }),
  });
  return new Savepoint(store);
}
