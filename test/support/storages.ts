/**
 * The storages a domain or adapter test runs on: memory, SQLite (files in a temporary directory)
 * and PostgreSQL (a schema per URL), with one clean-up for all of them. PostgreSQL goes through the
 * services gate: skipped with one line when unreachable, a failure under
 * `SAVEPOINT_REQUIRE_SERVICES=1`.
 *
 * Usage (top-level await):
 * `const { storages, cleanup } = await testStorages('sp_history'); afterAll(cleanup);`
 * then `describe.each(storages.filter((s) => s.enabled))('… on $name', (storage) => …)`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { StorageUrl } from '../../src/open.js';
import { postgresAvailable, postgresUrl, uniqueName } from './services.js';

export interface TestStorage {
  readonly name: 'memory' | 'sqlite' | 'postgres';
  /** False when PostgreSQL is unreachable and not required. */
  readonly enabled: boolean;
  /** A fresh, empty store's URL on every call (a new file, a new schema). */
  url(): StorageUrl;
}

export async function testStorages(prefix: string): Promise<{
  readonly storages: readonly TestStorage[];
  /** A fresh SQLite file's URL, for tests that open a store by URL themselves. */
  sqliteUrl(): StorageUrl;
  cleanup(): Promise<void>;
}> {
  const directory = mkdtempSync(join(tmpdir(), `${prefix.replaceAll('_', '-')}-`));
  const schemas: string[] = [];
  let files = 0;
  const sqliteUrl = (): StorageUrl => `sqlite:${join(directory, `store-${++files}.db`)}`;
  const storages: TestStorage[] = [
    { name: 'memory', enabled: true, url: () => 'memory:' },
    { name: 'sqlite', enabled: true, url: sqliteUrl },
    {
      name: 'postgres',
      enabled: await postgresAvailable(),
      url: () => {
        const schema = uniqueName(prefix);
        schemas.push(schema);
        return `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${schema}`;
      },
    },
  ];
  return {
    storages,
    sqliteUrl,
    async cleanup() {
      rmSync(directory, { recursive: true, force: true });
      if (schemas.length === 0) return;
      const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      try {
        for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
      } finally {
        await sql.end();
      }
    },
  };
}
