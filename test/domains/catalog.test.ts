import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CATALOG_COLLECTION,
  CATALOG_ITEM_COLLECTION,
  Catalog,
  seedCatalogFromDirectory,
} from '../../src/domains/catalog/catalog.js';
import { canonicalJson, readSeedDirectory } from '../../src/domains/catalog/seed-files.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import type { Change } from '../../src/engine/driver.js';
import { Store } from '../../src/engine/store.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/seeds');
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-catalog-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));
const { storages, cleanup } = await testStorages('sp_catalog');
afterAll(cleanup);

/** `[name, open]` for every driver of the one list that runs. */
const drivers = storages
  .filter((storage) => storage.enabled)
  .map((storage) => [storage.name, () => storage.openStore()] as const);

interface SeedContent {
  version: string;
  updated_at: string;
  data: Array<Record<string, unknown>>;
}

/** A private copy of the example seeds, to change freely. */
function copyOfExamples(): string {
  const dir = fs.mkdtempSync(path.join(directory, 'seeds-'));
  for (const name of fs.readdirSync(EXAMPLES))
    fs.copyFileSync(path.join(EXAMPLES, name), path.join(dir, name));
  return dir;
}

const readSeed = (dir: string, kind: string): SeedContent =>
  JSON.parse(fs.readFileSync(path.join(dir, `${kind}.json`), 'utf8'));
const writeSeed = (dir: string, kind: string, content: unknown): void =>
  fs.writeFileSync(path.join(dir, `${kind}.json`), JSON.stringify(content));

/** Document changes to the catalog's collections, as the change feed reports them. */
function watchCatalog(store: Store): Change[] {
  const seen: Change[] = [];
  store.subscribe(({ changes }) => {
    for (const change of changes) {
      if (
        change.kind === 'document' &&
        (change.collection === CATALOG_COLLECTION || change.collection === CATALOG_ITEM_COLLECTION)
      )
        seen.push(change);
    }
  });
  return seen;
}

describe.each(drivers)('catalog on %s', (_name, open) => {
  it('seeds the example files and serves them', async () => {
    const store = await open();
    const catalog = new Catalog(store);
    expect(await catalog.overview()).toEqual({ version: 0, kinds: [] });
    const report = await seedCatalogFromDirectory(store, EXAMPLES);
    expect(report.committed).toBe(true);
    expect(report.version).toBe(1);
    const overview = await catalog.overview();
    expect(overview.version).toBe(1);
    expect(overview.kinds.map((k) => k.kind)).toEqual([
      'bosses',
      'classes',
      'enemies',
      'items',
      'races',
      'themes',
    ]);
    const enemiesFile = readSeed(EXAMPLES, 'enemies');
    expect(overview.kinds.find((k) => k.kind === 'enemies')).toMatchObject({
      version: enemiesFile.version,
      updatedAt: enemiesFile.updated_at,
      count: enemiesFile.data.length,
      revision: 1,
    });
    const enemies = await catalog.kind('enemies');
    expect(enemies?.data).toEqual(enemiesFile.data); // file order kept
    expect(enemies?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await catalog.record('enemies', 'goblin')).toEqual(
      enemiesFile.data.find((e) => e.id === 'goblin'),
    );
    expect(await catalog.record('enemies', 'dragon')).toBeUndefined();
    expect(await catalog.kind('nothing')).toBeUndefined();
    catalog.close();
    await store.close();
  });

  it('writes nothing when seeding unchanged content again', async () => {
    const store = await open();
    const catalog = new Catalog(store);
    const dir = copyOfExamples();
    await seedCatalogFromDirectory(store, dir);
    const before = await catalog.overview();
    const changes = watchCatalog(store);
    // Reformatted, same content: still unchanged.
    writeSeed(dir, 'items', readSeed(dir, 'items'));
    const again = await seedCatalogFromDirectory(store, dir);
    expect(again).toMatchObject({ committed: false, version: 1, changed: [] });
    expect(again.unchanged).toHaveLength(6);
    expect(changes).toEqual([]);
    expect(await catalog.overview()).toEqual(before);
    catalog.close();
    await store.close();
  });

  it('replaces a changed kind, and only that kind', async () => {
    const store = await open();
    const catalog = new Catalog(store);
    const dir = copyOfExamples();
    await seedCatalogFromDirectory(store, dir);
    expect((await catalog.kind('items'))?.count).toBe(40); // cached now
    const etag = (await catalog.kind('items'))?.etag;
    const items = readSeed(dir, 'items');
    const kept = items.data.slice(0, 30);
    (kept[0] as Record<string, unknown>).value = 999;
    kept.push({ id: 'phoenix_feather', name: 'Phoenix Feather', category: 'relic', rarity: 'epic' });
    writeSeed(dir, 'items', { ...items, version: '2.2.0', data: kept });
    const changes = watchCatalog(store);
    const report = await seedCatalogFromDirectory(store, dir);
    expect(report).toMatchObject({
      committed: true,
      version: 2,
      changed: [{ kind: 'items', revision: 2, added: 1, updated: 1, removed: 10 }],
    });
    // The kind document, the catalog version, and exactly the records that changed.
    expect(changes).toHaveLength(1 + 1 + 1 + 1 + 10);
    const served = await catalog.kind('items');
    expect(served).toMatchObject({ version: '2.2.0', count: 31, revision: 2 });
    expect(served?.etag).not.toBe(etag);
    expect(served?.data).toEqual(kept);
    expect(await catalog.record('items', items.data[35]?.id as string)).toBeUndefined();
    expect((await catalog.overview()).kinds.find((k) => k.kind === 'enemies')?.revision).toBe(1);
    catalog.close();
    await store.close();
  });

  it('changes nothing for a bad file, and names the file and record', async () => {
    const store = await open();
    const catalog = new Catalog(store);
    const dir = copyOfExamples();
    await seedCatalogFromDirectory(store, dir);
    const before = await catalog.overview();
    const classes = readSeed(dir, 'classes');
    // A valid change to one file must not land while another file is bad.
    writeSeed(dir, 'classes', { ...classes, data: classes.data.slice(1) });

    const enemies = readSeed(dir, 'enemies');
    writeSeed(dir, 'enemies', { ...enemies, data: [...enemies.data, { ...enemies.data[2] }] });
    const duplicate = await expectCode(seedCatalogFromDirectory(store, dir), 'INVALID_INPUT');
    expect(duplicate.message).toContain('enemies.json');
    expect(duplicate.message).toContain(`data[${enemies.data.length}]`);
    expect(duplicate.message).toContain(String(enemies.data[2]?.id));
    expect(duplicate.details).toMatchObject({ file: 'enemies.json', record: enemies.data.length });

    writeSeed(dir, 'enemies', { ...enemies, data: [...enemies.data, { name: 'no id' }] });
    expect((await expectCode(seedCatalogFromDirectory(store, dir), 'INVALID_INPUT')).message).toMatch(
      /enemies\.json: data\[36\] needs an "id"/,
    );
    writeSeed(dir, 'enemies', { version: '1', data: [] });
    expect((await expectCode(seedCatalogFromDirectory(store, dir), 'INVALID_INPUT')).message).toContain(
      'updated_at',
    );
    fs.writeFileSync(path.join(dir, 'enemies.json'), '{ "version": "1", ');
    expect((await expectCode(seedCatalogFromDirectory(store, dir), 'INVALID_INPUT')).message).toMatch(
      /^enemies\.json: is not valid JSON/,
    );
    await expectCode(seedCatalogFromDirectory(store, path.join(dir, 'missing')), 'INVALID_INPUT');
    expect(await catalog.overview()).toEqual(before);
    expect((await catalog.kind('classes'))?.count).toBe(classes.data.length);
    catalog.close();
    await store.close();
  });

  it('hashes content, not formatting', async () => {
    const dir = copyOfExamples();
    const [first] = await readSeedDirectory(dir);
    const content = readSeed(dir, first?.kind as string);
    fs.writeFileSync(path.join(dir, `${first?.kind}.json`), JSON.stringify(content, null, 8));
    const [again] = await readSeedDirectory(dir);
    expect(again?.hash).toBe(first?.hash);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
  });
});

describe('catalog across processes (sqlite)', () => {
  it('serves a seeding made by another process within a second', async () => {
    const file = path.join(directory, 'shared.db');
    const server = new Store(await openSqliteDriver({ path: file }));
    const cli = new Store(await openSqliteDriver({ path: file })); // plays `savepoint seed`
    const dir = copyOfExamples();
    await seedCatalogFromDirectory(server, dir);
    const catalog = new Catalog(server);
    expect((await catalog.kind('themes'))?.version).toBe('1.3.1'); // now cached

    const themes = readSeed(dir, 'themes');
    const changed = { ...themes, version: '1.4.0', data: themes.data.slice(0, 5) };
    writeSeed(dir, 'themes', changed);
    await seedCatalogFromDirectory(cli, dir);
    const seededAt = performance.now();
    let served = await catalog.kind('themes');
    while (served?.version !== '1.4.0' && performance.now() - seededAt < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      served = await catalog.kind('themes');
    }
    expect(performance.now() - seededAt).toBeLessThan(1000);
    expect(served).toMatchObject({ version: '1.4.0', count: 5, data: changed.data });
    expect((await catalog.overview()).version).toBe(2);
    catalog.close();
    await Promise.all([cli.close(), server.close()]);
  });
});
