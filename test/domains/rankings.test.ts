import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { RANKING_COLLECTION, type RankingEntry, Rankings } from '../../src/domains/rankings/rankings.js';
import type { Store } from '../../src/engine/store.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_rankings');
afterAll(cleanup);

/** `[name, open]` for every driver of the one list that runs. */
const drivers = storages
  .filter((storage) => storage.enabled)
  .map((storage) => [storage.name, () => storage.openStore()] as const);

/** Every document of a collection, whatever its generation. */
async function countDocuments(store: Store, collection: string): Promise<number> {
  let count = 0;
  let after: string | undefined;
  do {
    const page = await store.list(collection, { limit: 1000, ...(after ? { after } : {}) });
    count += page.items.length;
    after = page.nextCursor ?? undefined;
  } while (after !== undefined);
  return count;
}

const table = (size: number): RankingEntry[] =>
  Array.from({ length: size }, (_, i) => ({
    stateKey: `s:${Math.floor(i / 9)}.X-O@${i % 7}`,
    move: i % 9,
    // Values that need every bit of a double to round-trip.
    value: (i % 2 ? -1 : 1) * (i / 3 + Math.PI / (i + 1)),
  }));

describe.each(drivers)('rankings on %s', (_name, open) => {
  it('gets and sets values within bounds', async () => {
    const store = await open();
    const rankings = new Rankings(store, { min: -10, max: 10 });
    expect(await rankings.get('X.O', 4)).toBeUndefined();
    expect(await rankings.set('X.O', 4, 0.75)).toEqual({ stateKey: 'X.O', move: 4, value: 0.75 });
    expect(await rankings.get('X.O', 4)).toEqual({ stateKey: 'X.O', move: 4, value: 0.75 });
    await rankings.set('X.O', 4, -10);
    expect((await rankings.get('X.O', 4))?.value).toBe(-10);
    await expectCode(rankings.set('X.O', 4, 10.5), 'OUT_OF_BOUNDS');
    await expectCode(rankings.set('X.O', 4, Number.NaN), 'INVALID_INPUT');
    await expectCode(rankings.set('X.O', 4, Number.POSITIVE_INFINITY), 'INVALID_INPUT');
    await expectCode(rankings.set('X.O', -1, 1), 'INVALID_INPUT');
    await expectCode(rankings.set('X.O', 1.5, 1), 'INVALID_INPUT');
    await expectCode(rankings.set('bad key', 1, 1), 'INVALID_INPUT');
    // A state key may hold ':' and still never collide with another (stateKey, move).
    await rankings.set('a:1', 2, 1);
    await rankings.set('a', 12, 2);
    expect((await rankings.get('a:1', 2))?.value).toBe(1);
    expect((await rankings.get('a', 12))?.value).toBe(2);
    expect(await rankings.get('a:1:2', 0)).toBeUndefined();
    await store.close();
  });

  it('writes a batch all or nothing, and resets', async () => {
    const store = await open();
    const rankings = new Rankings(store);
    expect(await rankings.setMany(table(50))).toEqual({ written: 50 });
    const error = await expectCode(
      rankings.setMany([...table(10), { stateKey: 'z', move: 1, value: 2e6 }]),
      'OUT_OF_BOUNDS',
    );
    expect(error.message).toContain('entries[10]');
    await expectCode(rankings.setMany([{ stateKey: 'z', move: 1 } as RankingEntry]), 'INVALID_INPUT');
    expect((await rankings.exportDocument()).count).toBe(50);
    await rankings.reset();
    expect(await rankings.get(table(1)[0]?.stateKey as string, 0)).toBeUndefined();
    expect((await rankings.exportDocument()).entries).toEqual([]);
    await rankings.set('after', 0, 1);
    await rankings.settled();
    expect(await countDocuments(store, RANKING_COLLECTION)).toBe(1);
    await store.close();
  });

  it('leaves no hidden entries behind when writes race resets', async () => {
    const store = await open();
    const rankings = new Rankings(store);
    const writes = Array.from({ length: 200 }, (_, i) => rankings.set(`race${i % 20}`, i % 10, i));
    const resets = [rankings.reset(), rankings.reset(), rankings.reset()];
    await Promise.all([...writes, ...resets]);
    await rankings.settled();
    const live = (await rankings.exportDocument()).count;
    expect(await countDocuments(store, RANKING_COLLECTION)).toBe(live);
    await store.close();
  });

  it('round-trips 100,000 entries through export and import exactly', async () => {
    const source = await open();
    const target = await open();
    const entries = table(100_000);
    const from = new Rankings(source);
    const to = new Rankings(target);
    await to.setMany(table(20)); // replaced by the import
    expect(await from.importReplace({ version: 1, entries })).toEqual({ imported: 100_000 });
    const exported = JSON.parse(await text(from.exportStream()));
    expect(exported).toMatchObject({ version: 1, count: 100_000 });
    expect(Number.isNaN(Date.parse(exported.exportedAt))).toBe(false);
    expect(await to.importReplace(exported)).toEqual({ imported: 100_000 });
    const byPosition = (e: RankingEntry) => `${e.stateKey}\u0000${e.move}`;
    const sorted = (list: readonly RankingEntry[]) =>
      [...list].sort((a, b) => (byPosition(a) < byPosition(b) ? -1 : 1));
    expect(sorted((await to.exportDocument()).entries)).toEqual(sorted(entries));
    await to.settled();
    await Promise.all([source.close(), target.close()]);
  });

  it('deletes replaced generations from storage, not just hides them', async () => {
    const store = await open();
    const rankings = new Rankings(store);
    await rankings.setMany(table(2500));
    await rankings.importReplace({ version: 1, entries: table(1200) });
    await rankings.importReplace({ version: 1, entries: table(30) });
    await rankings.settled();
    expect(await countDocuments(store, RANKING_COLLECTION)).toBe(30);
    expect((await rankings.exportDocument()).entries).toEqual(expect.arrayContaining(table(30)));
    await store.close();
  });

  it('changes nothing when an import holds one bad entry', async () => {
    const store = await open();
    const rankings = new Rankings(store);
    await rankings.setMany(table(100));
    const before = await rankings.exportDocument();
    const bad: Array<[string, unknown, 'INVALID_INPUT' | 'OUT_OF_BOUNDS']> = [
      ['NaN', { stateKey: 'q', move: 0, value: Number.NaN }, 'INVALID_INPUT'],
      ['null value', { stateKey: 'q', move: 0, value: null }, 'INVALID_INPUT'],
      ['out of bounds', { stateKey: 'q', move: 0, value: 1e7 }, 'OUT_OF_BOUNDS'],
      ['missing move', { stateKey: 'q', value: 1 }, 'INVALID_INPUT'],
      ['missing stateKey', { move: 0, value: 1 }, 'INVALID_INPUT'],
      ['negative move', { stateKey: 'q', move: -1, value: 1 }, 'INVALID_INPUT'],
    ];
    for (const [, entry, code] of bad) {
      const entries = [...table(500), entry, ...table(3).map((e) => ({ ...e, stateKey: `t${e.stateKey}` }))];
      const error = await expectCode(rankings.importReplace({ version: 1, entries }), code);
      expect(error.message).toContain('entries[500]');
    }
    await expectCode(rankings.importReplace({ version: 2, entries: [] }), 'INVALID_INPUT');
    await expectCode(rankings.importReplace({ version: 1, count: 3, entries: table(2) }), 'INVALID_INPUT');
    await expectCode(
      rankings.importReplace({ version: 1, entries: [...table(2), ...table(1)] }),
      'INVALID_INPUT',
    );
    await expectCode(rankings.importReplace([]), 'INVALID_INPUT');
    expect((await rankings.exportDocument()).entries).toEqual(before.entries);
    await rankings.settled();
    await store.close();
  });
});
