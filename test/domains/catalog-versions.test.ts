/**
 * Catalog versions: every changing load is kept, read back by version with its own ETag, diffed
 * and rolled back (atomic, idempotent, audited, seen by another process's cache), over the
 * library, HTTP and `savepoint seed --rollback`, on memory, SQLite and PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit.js';
import { parseKindAtVersion, seedCommand } from '../../src/cli/commands/seed.js';
import { applySeed, CATALOG_ITEM_COLLECTION, Catalog } from '../../src/domains/catalog/catalog.js';
import { catalogModule } from '../../src/domains/catalog/catalog.module.js';
import {
  CATALOG_VERSION_COLLECTION,
  CATALOG_VERSION_DATA_COLLECTION,
} from '../../src/domains/catalog/catalog-versions.js';
import { parseSeedFile } from '../../src/domains/catalog/seed-files.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import { type ErrorCode, isSavepointError } from '../../src/errors.js';
import { openSavepoint } from '../../src/savepoint.js';
import { startTestServer } from '../support/http.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_catalog_versions');
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-catalog-versions-'));
afterAll(async () => {
  fs.rmSync(directory, { recursive: true, force: true });
  await cleanup();
});
const open = async (url: string) => (await openSavepoint({ url })).store;

const items = (version: string, data: unknown[]) =>
  parseSeedFile('items.json', { version, updated_at: '2026-11-01T00:00:00Z', data });

const v1 = items('1.0.0', [
  { id: 'sword', damage: 5, price: 10 },
  { id: 'shield', armor: 3, price: 8 },
  { id: 7, name: 'potion', heal: 20 },
]);
const v2 = items('1.1.0', [
  { id: 'sword', damage: 9, price: 10 },
  { id: 'shield', armor: 3, price: 12, weight: 4 },
  { id: 'bow', damage: 4 },
]);

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!isSavepointError(error)) throw new Error(`expected ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
  return error;
}

describe.each(storages.filter((storage) => storage.enabled))('catalog versions on $name', (storage) => {
  it('keeps each load, reads it back, diffs two and rolls back as a new, audited load', async () => {
    const store = await open(storage.url());
    const catalog = new Catalog(store);
    try {
      await applySeed(store, [v1]);
      await applySeed(store, [v2]);
      expect((await catalog.versions('items')).versions).toMatchObject([
        { version: '1.1.0', count: 3, sha256: v2.hash, current: true },
        { version: '1.0.0', count: 3, sha256: v1.hash, current: false },
      ]);
      const old = await catalog.kindAt('items', '1.0.0');
      expect(old.data).toEqual(v1.data);
      expect(old.etag).not.toBe((await catalog.kind('items'))?.etag);
      expect(await catalog.diff('items', '1.0.0', '1.1.0')).toEqual({
        kind: 'items',
        from: '1.0.0',
        to: '1.1.0',
        added: ['bow'],
        removed: ['7'],
        changed: [
          { id: 'sword', fields: ['damage'] },
          { id: 'shield', fields: ['price', 'weight'] },
        ],
      });

      const rolled = await catalog.rollback('items', '1.0.0');
      expect(rolled).toEqual({ kind: 'items', version: '1.0.0', changed: true });
      const current = await catalog.kind('items');
      expect(current).toMatchObject({ version: '1.0.0', revision: 3, data: v1.data });
      expect(current?.etag).toBe(old.etag);
      expect((await catalog.versions('items')).versions.map((v) => [v.version, v.current])).toEqual([
        ['1.0.0', true],
        ['1.1.0', false],
        ['1.0.0', false],
      ]);
      const audit = await readAudit(store);
      expect(audit.filter((entry) => entry.type === 'catalog-rollback')).toMatchObject([
        { data: { kind: 'items', fromVersion: '1.1.0', toVersion: '1.0.0', revision: 3 } },
      ]);
      // Idempotent: the same rollback again writes nothing.
      expect(await catalog.rollback('items', '1.0.0')).toMatchObject({ changed: false });
      expect((await catalog.versions('items')).versions).toHaveLength(3);
      expect((await readAudit(store)).filter((entry) => entry.type === 'catalog-rollback')).toHaveLength(1);

      await rejection(catalog.kindAt('items', '9.9.9'), 'NOT_FOUND');
      await rejection(catalog.diff('items', '1.0.0', '9.9.9'), 'NOT_FOUND');
      await rejection(catalog.rollback('items', '9.9.9'), 'NOT_FOUND');
      await rejection(catalog.versions('nothing'), 'NOT_FOUND');
      expect((await catalog.kind('items'))?.revision).toBe(3);
    } finally {
      catalog.close();
      await store.close();
    }
  });

  it('keeps a large kind in chunks and reads it back whole and in order', async () => {
    const store = await open(storage.url());
    const catalog = new Catalog(store);
    try {
      const big = (version: string, hp: number) =>
        parseSeedFile('monsters.json', {
          version,
          updated_at: '2026-11-01T00:00:00Z',
          data: Array.from({ length: 2_500 }, (_, i) => ({
            id: `m${i}`,
            hp: i === 1_234 ? hp : i,
            lore: 'x'.repeat(40),
          })),
        });
      await applySeed(store, [big('1.0.0', 1)]);
      await applySeed(store, [big('2.0.0', 2)]);
      expect(
        (await store.list(CATALOG_VERSION_DATA_COLLECTION, { prefix: 'monsters:', limit: 1000 })).items,
      ).toHaveLength(6);
      const old = await catalog.kindAt('monsters', '1.0.0');
      expect(old.data).toEqual(big('1.0.0', 1).data);
      expect(await catalog.diff('monsters', '1.0.0', '2.0.0')).toMatchObject({
        added: [],
        removed: [],
        changed: [{ id: 'm1234', fields: ['hp'] }],
      });
    } finally {
      catalog.close();
      await store.close();
    }
  });

  it('archives content loaded before versions were kept when a load first replaces it', async () => {
    const store = await open(storage.url());
    const catalog = new Catalog(store);
    try {
      await applySeed(store, [v1]);
      // As a store from before: the load's archive is not there.
      const archived = await store.list(CATALOG_VERSION_COLLECTION, { prefix: 'items:' });
      await store.commit(
        archived.items.map((doc) => ({ op: 'delete', collection: CATALOG_VERSION_COLLECTION, key: doc.key })),
      );
      expect((await catalog.versions('items')).versions).toMatchObject([{ version: '1.0.0', current: true }]);
      await applySeed(store, [v2]);
      expect((await catalog.kindAt('items', '1.0.0')).data).toEqual(v1.data);
      expect((await store.list(CATALOG_ITEM_COLLECTION, { prefix: 'items:' })).items).toHaveLength(3);
    } finally {
      catalog.close();
      await store.close();
    }
  });
});

describe('catalog versions over HTTP and the CLI', () => {
  it('serves versions, ?version= with its own ETag, diff and rollback with catalog errors', async () => {
    const server = await startTestServer({ modules: [catalogModule] });
    try {
      await applySeed(server.savepoint.store, [v1]);
      await applySeed(server.savepoint.store, [v2]);
      const anonymous = { anonymous: true } as const;
      const versions = await server.request({
        method: 'GET',
        url: '/v1/catalog-versions/items',
        ...anonymous,
      });
      expect(versions.statusCode).toBe(200);
      expect(versions.json()).toMatchObject({
        kind: 'items',
        versions: [{ version: '1.1.0' }, { version: '1.0.0' }],
      });

      const old = await server.request({
        method: 'GET',
        url: '/v1/catalog/items?version=1.0.0',
        ...anonymous,
      });
      expect(old.statusCode).toBe(200);
      expect(old.json()).toMatchObject({ kind: 'items', version: '1.0.0', data: v1.data });
      const etag = old.headers.etag as string;
      const latest = await server.request({ method: 'GET', url: '/v1/catalog/items', ...anonymous });
      expect(latest.headers.etag).not.toBe(etag);
      const cached = await server.request({
        method: 'GET',
        url: '/v1/catalog/items?version=1.0.0',
        headers: { 'if-none-match': etag },
        ...anonymous,
      });
      expect(cached.statusCode).toBe(304);

      const diff = await server.request({
        method: 'GET',
        url: '/v1/catalog-versions/items/diff?from=1.0.0&to=1.1.0',
        ...anonymous,
      });
      expect(diff.json()).toMatchObject({ added: ['bow'], removed: ['7'] });

      const problem = (response: { statusCode: number; json(): unknown }, status: number, code: string) => {
        expect(response.statusCode).toBe(status);
        expect(response.json()).toMatchObject({ status, code });
      };
      problem(
        await server.request({ method: 'GET', url: '/v1/catalog/items?version=2.0.0', ...anonymous }),
        404,
        'NOT_FOUND',
      );
      problem(
        await server.request({ method: 'GET', url: '/v1/catalog-versions/nope', ...anonymous }),
        404,
        'NOT_FOUND',
      );
      problem(
        await server.request({
          method: 'GET',
          url: '/v1/catalog-versions/items/diff?from=1.0.0',
          ...anonymous,
        }),
        400,
        'INVALID_INPUT',
      );
      problem(
        await server.request({
          method: 'POST',
          url: '/v1/catalog-versions/items/rollback',
          payload: { toVersion: '1.0.0' },
          ...anonymous,
        }),
        401,
        'UNAUTHORIZED',
      );
      problem(
        await server.request({
          method: 'POST',
          url: '/v1/catalog-versions/items/rollback',
          payload: { toVersion: '3.0.0' },
        }),
        404,
        'NOT_FOUND',
      );
      problem(
        await server.request({ method: 'POST', url: '/v1/catalog-versions/items/rollback', payload: {} }),
        400,
        'INVALID_INPUT',
      );

      const rollback = await server.request({
        method: 'POST',
        url: '/v1/catalog-versions/items/rollback',
        payload: { toVersion: '1.0.0' },
      });
      expect(rollback.statusCode).toBe(200);
      expect(rollback.json()).toEqual({ kind: 'items', version: '1.0.0' });
      const now = await server.request({ method: 'GET', url: '/v1/catalog/items', ...anonymous });
      expect(now.json()).toMatchObject({ version: '1.0.0', data: v1.data });
      expect(now.headers.etag).toBe(etag);
    } finally {
      await server.close();
    }
  });

  it('savepoint seed --rollback KIND@VERSION rolls back what a running server then serves', async () => {
    const file = path.join(directory, 'cli.db');
    const server = new Store(await openSqliteDriver({ path: file }));
    const catalog = new Catalog(server);
    try {
      await applySeed(server, [v1]);
      await applySeed(server, [v2]);
      expect((await catalog.kind('items'))?.version).toBe('1.1.0');
      const run = async (args: string[]) => {
        const out = new PassThrough();
        const command = seedCommand({ out, err: new PassThrough() }).exitOverride();
        await command.parseAsync(args, { from: 'user' });
        out.end();
        return text(out);
      };
      expect(await run(['--rollback', 'items@1.0.0', '--database', `sqlite:${file}`])).toMatch(
        /items rolled back to version 1\.0\.0/,
      );
      let version = (await catalog.kind('items'))?.version;
      const started = performance.now();
      while (version !== '1.0.0' && performance.now() - started < 1000) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        version = (await catalog.kind('items'))?.version;
      }
      expect(version).toBe('1.0.0');
      expect(await run(['--rollback', 'items@1.0.0', '--database', `sqlite:${file}`])).toMatch(
        /nothing written/,
      );
      await expect(run(['--rollback', 'items', '--database', `sqlite:${file}`])).rejects.toThrow(
        /KIND@VERSION/,
      );
      await expect(run(['--rollback', 'items@9', '--database', `sqlite:${file}`])).rejects.toThrow(
        /no version 9/,
      );
      await expect(run(['--database', `sqlite:${file}`])).rejects.toThrow(/one of the two/);
    } finally {
      catalog.close();
      await server.close();
    }
  });

  it('parses KIND@VERSION', () => {
    expect(parseKindAtVersion('items@1.2.0')).toEqual({ kind: 'items', version: '1.2.0' });
    expect(parseKindAtVersion('a@b@2')).toEqual({ kind: 'a@b', version: '2' });
    for (const bad of ['items', '@1.0', 'items@', 'it ems@1', `items@${'9'.repeat(101)}`]) {
      expect(() => parseKindAtVersion(bad)).toThrow(/KIND@VERSION/);
    }
  });
});
