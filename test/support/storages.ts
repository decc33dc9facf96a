/**
 * The one list of drivers every conformance, domain and adapter test runs on: memory, SQLite (files
 * in a temporary directory), PostgreSQL (a schema per store), and the Redis layer over memory and
 * over PostgreSQL (a key prefix per store), with one clean-up for all of them.
 *
 * `SAVEPOINT_TEST_DRIVERS=memory,sqlite` runs only those (names as in {@link TEST_DRIVER_NAMES};
 * an unknown name fails the run). The drivers left out are reported as skipped, and their services
 * are not even probed. PostgreSQL and Redis go through the services gate: skipped with one line when
 * unreachable, a failure under `SAVEPOINT_REQUIRE_SERVICES=1`.
 *
 * Usage (top-level await):
 * `const { storages, cleanup } = await testStorages('sp_history'); afterAll(cleanup);`
 * then `describe.each(storages.filter((s) => s.enabled))('… on $name', (storage) => …)`, opening
 * stores with `storage.openStore({ clock })` (closed by the clean-up), `storage.url()` or
 * `storage.openDriver()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Driver } from '../../src/engine/driver.js';
import { Store, type StoreOptions } from '../../src/engine/store.js';
import type { StorageUrl } from '../../src/open.js';
import { postgresAvailable, postgresUrl, redisAvailable, redisUrl, uniqueName } from './services.js';

/** Every driver the tests know, in the order they run. */
export const TEST_DRIVER_NAMES = ['memory', 'sqlite', 'postgres', 'memory+redis', 'postgres+redis'] as const;

export type TestDriverName = (typeof TEST_DRIVER_NAMES)[number];

/** The drivers a domain or adapter test runs on: those a storage URL reaches. */
export type BaseDriverName = 'memory' | 'sqlite' | 'postgres';

/** The drivers `SAVEPOINT_TEST_DRIVERS` names (every one when unset or empty); throws on an unknown name. */
export function selectedDrivers(value = process.env.SAVEPOINT_TEST_DRIVERS): ReadonlySet<TestDriverName> {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) return new Set(TEST_DRIVER_NAMES);
  const unknown = names.filter((name) => !(TEST_DRIVER_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(
      `SAVEPOINT_TEST_DRIVERS names unknown drivers: ${unknown.join(', ')} (known: ${TEST_DRIVER_NAMES.join(', ')})`,
    );
  return new Set(names as TestDriverName[]);
}

export interface TestStorage<Name extends TestDriverName = TestDriverName> {
  readonly name: Name;
  /** False when `SAVEPOINT_TEST_DRIVERS` leaves it out, or its service is unreachable and not required. */
  readonly enabled: boolean;
  /** A fresh, empty driver on every call (a new file, schema or key prefix). */
  openDriver(): Promise<Driver>;
  /** A store on a fresh, empty driver; the clean-up closes it if the test did not. */
  openStore(options?: StoreOptions): Promise<Store>;
}

export interface UrlTestStorage extends TestStorage<BaseDriverName> {
  /** A fresh, empty store's URL on every call (a new file, a new schema). */
  url(): StorageUrl;
}

/** Whether `name` is selected and its services answer (probing only what is selected). */
async function enabled(name: TestDriverName, selected: ReadonlySet<TestDriverName>): Promise<boolean> {
  if (!selected.has(name)) return false;
  if (name.startsWith('postgres') && !(await postgresAvailable())) return false;
  if (name.endsWith('+redis') && !(await redisAvailable())) return false;
  return true;
}

/** What the storages of one test file created, for one clean-up. */
class Leftovers {
  readonly #prefix: string;
  #directory: string | undefined;
  #files = 0;
  readonly #schemas: string[] = [];
  readonly #redisPrefixes: string[] = [];
  readonly #stores: Store[] = [];

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  sqliteFile(): string {
    this.#directory ??= mkdtempSync(join(tmpdir(), `${this.#prefix.replaceAll('_', '-')}-`));
    return join(this.#directory, `store-${++this.#files}.db`);
  }

  postgresSchema(): string {
    const schema = uniqueName(this.#prefix);
    this.#schemas.push(schema);
    return schema;
  }

  redisPrefix(): string {
    const prefix = uniqueName(`${this.#prefix}_redis`);
    this.#redisPrefixes.push(prefix);
    return prefix;
  }

  async openStore(driver: Promise<Driver>, options?: StoreOptions): Promise<Store> {
    const store = new Store(await driver, options);
    this.#stores.push(store);
    return store;
  }

  async cleanup(): Promise<void> {
    // Closing twice is harmless; an open PostgreSQL pool would outlive its dropped schema.
    await Promise.all(this.#stores.splice(0).map((store) => store.close()));
    if (this.#directory !== undefined) rmSync(this.#directory, { recursive: true, force: true });
    if (this.#redisPrefixes.length > 0) {
      // Loaded here, so that a test file without Redis never loads the Redis client.
      const { deletePrefix } = await import('../cache/redis-test-support.js');
      for (const prefix of this.#redisPrefixes.splice(0)) await deletePrefix(prefix);
    }
    if (this.#schemas.length === 0) return;
    const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    try {
      for (const schema of this.#schemas.splice(0)) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    } finally {
      await sql.end();
    }
  }
}

function schemaUrl(schema: string): StorageUrl {
  return `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${schema}`;
}

async function openBase(name: BaseDriverName, leftovers: Leftovers): Promise<Driver> {
  switch (name) {
    case 'memory': {
      const { openMemoryDriver } = await import('../../src/drivers/memory/memory-driver.js');
      return openMemoryDriver();
    }
    case 'sqlite': {
      const { openSqliteDriver } = await import('../../src/drivers/sqlite/sqlite-driver.js');
      return openSqliteDriver({ path: leftovers.sqliteFile() });
    }
    case 'postgres': {
      const { openPostgresDriver } = await import('../../src/drivers/postgres/postgres-driver.js');
      return openPostgresDriver({ url: postgresUrl, schema: leftovers.postgresSchema() });
    }
  }
}

async function openLayered(name: TestDriverName, leftovers: Leftovers): Promise<Driver> {
  if (!name.endsWith('+redis')) return openBase(name as BaseDriverName, leftovers);
  const { openRedisLayer } = await import('../../src/cache/redis/redis-layer.js');
  const inner = await openBase(name.slice(0, -'+redis'.length) as BaseDriverName, leftovers);
  return openRedisLayer(inner, { url: redisUrl, prefix: leftovers.redisPrefix() });
}

/**
 * The storages a domain or adapter test runs on (memory, SQLite and PostgreSQL, each reachable by
 * URL), every one listed, the left-out ones with `enabled: false`.
 */
export async function testStorages(prefix: string): Promise<{
  readonly storages: readonly UrlTestStorage[];
  /** A fresh SQLite file's URL, for tests that open a store by URL themselves. */
  sqliteUrl(): StorageUrl;
  cleanup(): Promise<void>;
}> {
  const selected = selectedDrivers();
  const leftovers = new Leftovers(prefix);
  const sqliteUrl = (): StorageUrl => `sqlite:${leftovers.sqliteFile()}`;
  const storage = async (name: BaseDriverName, url: () => StorageUrl): Promise<UrlTestStorage> => ({
    name,
    enabled: await enabled(name, selected),
    url,
    openDriver: () => openBase(name, leftovers),
    openStore: (options) => leftovers.openStore(openBase(name, leftovers), options),
  });
  const storages = [
    await storage('memory', () => 'memory:'),
    await storage('sqlite', sqliteUrl),
    await storage('postgres', () => schemaUrl(leftovers.postgresSchema())),
  ];
  return { storages, sqliteUrl, cleanup: () => leftovers.cleanup() };
}

/**
 * One driver of the list, for its conformance test file: `openDriver` is the suite's driver
 * factory and `cleanup` its clean-up.
 */
export async function testDriver(
  name: TestDriverName,
  prefix: string,
): Promise<TestStorage & { cleanup(): Promise<void> }> {
  const leftovers = new Leftovers(prefix);
  return {
    name,
    enabled: await enabled(name, selectedDrivers()),
    openDriver: () => openLayered(name, leftovers),
    openStore: (options) => leftovers.openStore(openLayered(name, leftovers), options),
    cleanup: () => leftovers.cleanup(),
  };
}
