/**
 * Turns a storage URL into a driver. Optional drivers are imported lazily, so a SQLite-only user
 * never loads the PostgreSQL or Redis clients.
 */

import type { Driver } from './engine/driver.js';
import { invalidInput } from './errors.js';

/** Where a store lives: `memory:`, `sqlite:<path>` or `postgres://…`. */
export type StorageUrl = string;

export const DEFAULT_STORAGE_URL = 'sqlite:./data/savepoint.db';

export interface DriverOptions {
  /** `sqlite` only: `normal` (default) survives process crashes; `full` also survives power loss. */
  readonly durability?: 'normal' | 'full';
  /** Wraps the driver in the Redis layer (cache, invalidation, cross-instance change feed). */
  readonly redisUrl?: string;
  /** Redis key prefix; default `savepoint`. */
  readonly redisPrefix?: string;
}

export type DriverKind = 'memory' | 'sqlite' | 'postgres';

/** Which driver a URL selects, or `INVALID_INPUT` naming the accepted forms. */
export function driverKindOf(url: StorageUrl): DriverKind {
  if (url === 'memory:' || url === 'memory') return 'memory';
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  throw invalidInput(
    `Unsupported storage URL "${url.replace(/\/\/[^@/]*@/, '//***@')}": use memory:, sqlite:<path> or postgres://user@host/db`,
  );
}

/** The file path of a `sqlite:` URL (`sqlite:./data/x.db`, `sqlite:///abs/x.db` or `sqlite::memory:`). */
export function sqlitePathOf(url: StorageUrl): string {
  const rest = url.slice('sqlite:'.length);
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path.length === 0)
    throw invalidInput('A sqlite: URL needs a file path, as in sqlite:./data/savepoint.db');
  return path;
}

export async function openDriver(url: StorageUrl, options: DriverOptions = {}): Promise<Driver> {
  const base = await openBaseDriver(url, options);
  if (options.redisUrl === undefined) return base;
  const { openRedisLayer } = await import('./cache/redis/redis-layer.js');
  return openRedisLayer(base, { url: options.redisUrl, prefix: options.redisPrefix ?? 'savepoint' });
}

async function openBaseDriver(url: StorageUrl, options: DriverOptions): Promise<Driver> {
  switch (driverKindOf(url)) {
    case 'memory': {
      const { openMemoryDriver } = await import('./drivers/memory/memory-driver.js');
      return openMemoryDriver();
    }
    case 'sqlite': {
      const { openSqliteDriver } = await import('./drivers/sqlite/sqlite-driver.js');
      return openSqliteDriver({
        path: sqlitePathOf(url),
        durability: options.durability ?? 'normal',
        // A corrupt file is quarantined and replaced by a backup or an empty store (sqlite-recovery.ts).
        recover: true,
      });
    }
    case 'postgres': {
      const { openPostgresDriver } = await import('./drivers/postgres/postgres-driver.js');
      return openPostgresDriver({ url });
    }
  }
}
