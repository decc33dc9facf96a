import { afterAll, describe, expect, it } from 'vitest';
import { Saves } from '../../src/domains/saves/saves.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_saves');
afterAll(cleanup);

/** `[name, open]` for every driver of the one list that runs. */
const drivers = storages
  .filter((storage) => storage.enabled)
  .map((storage) => [storage.name, () => storage.openStore()] as const);

describe.each(drivers)('saves on %s', (_name, open) => {
  it('writes, lists, reads and deletes slots', async () => {
    const store = await open();
    const saves = new Saves(store);
    expect(await saves.list('ana')).toEqual({ slots: [], maxSlots: 3 });
    const first = await saves.put('ana', 2, { floor: 3, hp: 20 });
    expect(first.created).toBe(true);
    expect(first.save).toMatchObject({ user: 'ana', slot: 2, state: { floor: 3, hp: 20 }, version: 1 });
    const second = await saves.put('ana', 2, { floor: 4, hp: 11 });
    expect(second).toMatchObject({ created: false, save: { version: 2, state: { floor: 4, hp: 11 } } });
    await saves.put('ana', 1, { floor: 1 });
    const list = await saves.list('ana');
    expect(list.slots.map((s) => [s.slot, s.version])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(list.slots[1]?.updatedAt).toBe(second.save.updatedAt);
    expect(await saves.get('ana', 2)).toEqual(second.save);
    expect(await saves.get('ana', 3)).toBeUndefined();
    await saves.delete('ana', 1);
    await expectCode(saves.delete('ana', 1), 'NOT_FOUND');
    expect((await saves.list('ana')).slots.map((s) => s.slot)).toEqual([2]);
    await store.close();
  });

  it('keeps slots within bounds, and users apart', async () => {
    const store = await open();
    const saves = new Saves(store, { slots: 5 });
    await saves.put('p', 5, {});
    for (const slot of [0, 6, -1, 1.5, Number.NaN]) {
      await expectCode(saves.put('p', slot, {}), 'OUT_OF_BOUNDS');
      await expectCode(saves.get('p', slot), 'OUT_OF_BOUNDS');
      await expectCode(saves.delete('p', slot), 'OUT_OF_BOUNDS');
    }
    await expectCode(saves.put('bad user', 1, {}), 'INVALID_INPUT');
    await expectCode(saves.put('p', 1, [] as never), 'INVALID_INPUT');
    // "p:1" is a valid user id, and its slots are not p's.
    await saves.put('p:1', 1, { mine: true });
    expect((await saves.list('p')).slots.map((s) => s.slot)).toEqual([5]);
    expect((await saves.get('p:1', 1))?.state).toEqual({ mine: true });
    expect(() => new Saves(store, { slots: 0 })).toThrow();
    await store.close();
  });

  it('honours expected versions and create-only writes', async () => {
    const store = await open();
    const saves = new Saves(store);
    await saves.put('u', 1, { a: 1 }, { mustNotExist: true });
    await expectCode(saves.put('u', 1, { a: 2 }, { mustNotExist: true }), 'VERSION_CONFLICT');
    await expectCode(saves.put('u', 1, { a: 2 }, { expectedVersion: 2 }), 'VERSION_CONFLICT');
    expect((await saves.put('u', 1, { a: 2 }, { expectedVersion: 1 })).save.version).toBe(2);
    await expectCode(saves.delete('u', 1, { expectedVersion: 1 }), 'VERSION_CONFLICT');
    // Of two devices saving over the same version at once, exactly one wins.
    const outcomes = await Promise.allSettled([
      saves.put('u', 1, { device: 'a' }, { expectedVersion: 2 }),
      saves.put('u', 1, { device: 'b' }, { expectedVersion: 2 }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    await saves.delete('u', 1, { expectedVersion: 3 });
    expect(await saves.get('u', 1)).toBeUndefined();
    await store.close();
  });
});
