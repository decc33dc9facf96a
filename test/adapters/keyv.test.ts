/**
 * The Keyv adapter against Keyv's own test suite, unmodified, on memory, SQLite and PostgreSQL,
 * plus what the suite does not cover: native expiry, batches, construction from a URL.
 */
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import Keyv from 'keyv';
import * as vitest from 'vitest';
import { KeyvSavepoint } from '../../src/adapters/keyv/index.js';
import { ManualClock, openSavepoint, type Savepoint } from '../../src/index.js';
import { testStorages } from '../support/storages.js';

const { afterAll, beforeAll, describe, expect, it } = vitest;

const { storages, sqliteUrl, cleanup } = await testStorages('sp_keyv');
afterAll(cleanup);

/** One store per storage, shared by that storage's tests. */
const drivers = storages.map((storage) => ({
  name: storage.name,
  url: storage.url(),
  skip: !storage.enabled,
}));

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`Keyv on ${driver.name}`, () => {
    let savepoint: Savepoint;
    beforeAll(async () => {
      savepoint = await openSavepoint({ url: driver.url });
    });
    afterAll(async () => {
      await savepoint?.close();
    });
    const store = (): KeyvSavepoint => new KeyvSavepoint(savepoint);

    describe('@keyv/test-suite', () => {
      keyvTestSuite(vitest, Keyv, store);
      keyvIteratorTests(vitest, Keyv, store);
    });

    it('keeps entries in the chosen collection, one document per namespaced key', async () => {
      const keyv = new Keyv({
        store: new KeyvSavepoint(savepoint, { collection: 'cache' }),
        namespace: 'pages',
      });
      await keyv.set('home', { html: '<h1>hi</h1>' });
      const document = await savepoint.store.get('cache', 'pages:home');
      expect(typeof document?.value).toBe('string');
      expect(JSON.parse(document?.value as string)).toEqual({ value: { html: '<h1>hi</h1>' } });
      await keyv.clear();
      expect(await savepoint.store.get('cache', 'pages:home')).toBeUndefined();
    });

    it('setMany, getMany, hasMany and deleteMany work in batches past the engine read limit', async () => {
      const keyv = new Keyv({ store: new KeyvSavepoint(savepoint, { collection: 'bulk' }) });
      const entries = Array.from({ length: 1203 }, (_, i) => ({ key: `k${i}`, value: i }));
      await keyv.setMany(entries);
      const keys = entries.map((entry) => entry.key);
      expect(await keyv.getMany([...keys, 'missing'])).toEqual([
        ...entries.map((entry) => entry.value),
        undefined,
      ]);
      expect(await keyv.hasMany(['k0', 'k1202', 'missing'])).toEqual([true, true, false]);
      expect(await keyv.deleteMany(keys)).toBe(true);
      expect(await keyv.deleteMany(keys)).toBe(false);
      expect((await savepoint.store.list('bulk')).items).toEqual([]);
    });
  });
}

describe('Keyv TTL on the documents own expiry', () => {
  it('gives the document an expiry, so the store itself hides and sweeps it', async () => {
    const clock = new ManualClock(1_000_000);
    const savepoint = await openSavepoint({ url: 'memory:', clock: () => clock.now() });
    try {
      const adapter = new KeyvSavepoint(savepoint);
      await adapter.set('keyv:a', '"raw"', 5000);
      await adapter.set('keyv:b', '"raw"');
      expect((await savepoint.store.get('keyv', 'keyv:a'))?.expiresAt).toBe(1_005_000);
      expect((await savepoint.store.get('keyv', 'keyv:b'))?.expiresAt).toBeNull();
      clock.advance(5001);
      expect(await adapter.get('keyv:a')).toBeUndefined();
      expect(await adapter.has('keyv:a')).toBe(false);
      expect((await savepoint.store.sweepExpired()).documents).toEqual({ keyv: 1 });
      // A later write without a TTL clears an earlier expiry.
      await adapter.set('keyv:c', '1', 10);
      await adapter.set('keyv:c', '2');
      clock.advance(100);
      expect(await adapter.get('keyv:c')).toBe('2');
    } finally {
      await savepoint.close();
    }
  });
});

describe('KeyvSavepoint({ url })', () => {
  it('opens its own store, keeps data across instances and closes it on disconnect', async () => {
    const url = sqliteUrl();
    const first = new Keyv({ store: new KeyvSavepoint({ url }), namespace: 'sessions', throwOnErrors: true });
    await first.set('s1', { user: 'ada' });
    await first.disconnect();
    await expect(first.get('s1')).rejects.toThrow(/closed/i);

    const second = new Keyv({ store: new KeyvSavepoint({ url }), namespace: 'sessions' });
    expect(await second.get('s1')).toEqual({ user: 'ada' });
    await second.disconnect();
  });

  it('leaves a store it was given open on disconnect', async () => {
    const savepoint = await openSavepoint({ url: 'memory:' });
    const keyv = new Keyv({ store: new KeyvSavepoint(savepoint) });
    await keyv.set('x', 1);
    await keyv.disconnect();
    expect(await savepoint.store.get('keyv', 'keyv:x')).toBeDefined();
    await savepoint.close();
  });

  it('reports a store that cannot open through Keyv error event and a rejected call', async () => {
    const keyv = new Keyv({ store: new KeyvSavepoint({ url: 'nosuch:x' }), throwOnErrors: true });
    const errors: unknown[] = [];
    keyv.on('error', (error: unknown) => errors.push(error));
    await expect(keyv.set('x', 1)).rejects.toThrow(/Unsupported storage URL/);
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('Keyv keys outside the name rules', () => {
  it('fail that call with INVALID_INPUT and store nothing', async () => {
    const savepoint = await openSavepoint({ url: 'memory:' });
    try {
      const keyv = new Keyv({ store: new KeyvSavepoint(savepoint), throwOnErrors: true });
      await expect(keyv.set('k'.repeat(600), 1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(keyv.set('line\nbreak', 1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect((await savepoint.store.list('keyv')).items).toEqual([]);
    } finally {
      await savepoint.close();
    }
  });
});
