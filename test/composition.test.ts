/**
 * The Savepoint as the composition root (docs/architecture.md): it creates each module once, on
 * first use, keeps the modules' state per instance (reserved collections, the games outbox), walks
 * the descriptors' hooks, and closes what it created.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gamesModule } from '../src/domains/games/games.module.js';
import { openMemoryDriver } from '../src/drivers/memory/memory-driver.js';
import { Store } from '../src/engine/store.js';
import type { SavepointModule } from '../src/module.js';
import { savepointModules } from '../src/modules.js';
import { openSavepoint, Savepoint } from '../src/savepoint.js';
import { flakyDriver } from './support/flaky-driver.js';

const opened: Savepoint[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const savepoint of opened.splice(0)) await savepoint.close();
});

async function open(): Promise<Savepoint> {
  const savepoint = await openSavepoint({ url: 'memory:' });
  opened.push(savepoint);
  return savepoint;
}

/** A module that records what the Savepoint does with it. */
function probeModule(name: string, log: string[]): SavepointModule<string, { readonly name: string }> {
  return {
    name,
    collections: { owner: `the ${name} module`, readOnly: [`${name}-data`], hidden: [`${name}-secrets`] },
    create: () => {
      log.push(`create ${name}`);
      return { name };
    },
    sweep: async () => 2,
    check: async () => [`${name}: one problem`],
    queuedWrites: () => 3,
    close: async () => {
      log.push(`close ${name}`);
    },
  };
}

describe('the Savepoint as composition root', () => {
  it('creates a module once, on first use, and the getter and use() share it', async () => {
    const create = vi.spyOn(gamesModule, 'create');
    const savepoint = await open();
    expect(create).not.toHaveBeenCalled();
    // Asking for queued writes creates nothing: only a created module can hold any.
    expect(savepoint.queuedWrites).toBe(0);
    expect(create).not.toHaveBeenCalled();
    const games = savepoint.games;
    expect(savepoint.use(gamesModule)).toBe(games);
    expect(savepoint.games).toBe(games);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('passes each module its settings from the options, by module name', async () => {
    const savepoint = await openSavepoint({
      url: 'memory:',
      saves: { slots: 7 },
      rankings: { min: -2, max: 2 },
    });
    opened.push(savepoint);
    expect(savepoint.saves.slotCount).toBe(7);
    expect(savepoint.rankings.bounds).toEqual({ min: -2, max: 2 });
  });

  it('keeps reserved collections per instance, with every module of the list reserved from the start', async () => {
    const [a, b] = [await open(), await open()];
    expect(a.reservedCollections.reservationOf('game-token')).toEqual({
      owner: 'the games module',
      hidden: true,
    });
    expect(a.reservedCollections.reservationOf('save')).toEqual({ owner: 'the saves module', hidden: false });
    a.reservedCollections.reserve(['only-in-a'], { owner: 'a test' });
    expect(a.reservedCollections.reservationOf('only-in-a')?.owner).toBe('a test');
    expect(b.reservedCollections.reservationOf('only-in-a')).toBeUndefined();
    expect(() => b.reservedCollections.assertWritable('only-in-a')).not.toThrow();
  });

  it('walks the hooks of every module it knows, a module used beside the list included', async () => {
    const log: string[] = [];
    const savepoint = await open();
    const probe = probeModule('probe', log);
    expect(savepoint.modules).toBe(savepointModules);
    expect(savepoint.use(probe)).toEqual({ name: 'probe' });
    expect(savepoint.use(probe)).toBe(savepoint.use(probe));
    expect(log).toEqual(['create probe']);
    expect(savepoint.reservedCollections.reservationOf('probe-secrets')).toEqual({
      owner: 'the probe module',
      hidden: true,
    });
    expect(savepoint.queuedWrites).toBe(3);
    // The matches module's sweep finds no board on an empty store; the probe's says 2.
    expect(await savepoint.sweepModules()).toBe(2);
    expect(await savepoint.checkModules()).toEqual(['probe: one problem']);
  });

  it('close() closes the modules it created, newest first, then the store', async () => {
    const log: string[] = [];
    const savepoint = new Savepoint(new Store(await openMemoryDriver()));
    savepoint.use(probeModule('first', log));
    savepoint.use(probeModule('second', log));
    const storeClose = vi.spyOn(savepoint.store, 'close').mockImplementation(async () => {
      log.push('close store');
    });
    await savepoint.close();
    expect(log).toEqual(['create first', 'create second', 'close second', 'close first', 'close store']);
    storeClose.mockRestore();
    await savepoint.store.close();
  });

  it('close() closes the store even when a module fails to stop, then throws that failure', async () => {
    const savepoint = new Savepoint(new Store(await openMemoryDriver()));
    const failing: SavepointModule<'failing', null> = {
      name: 'failing',
      create: () => null,
      close: () => {
        throw new Error('cannot stop');
      },
    };
    savepoint.use(failing);
    await expect(savepoint.close()).rejects.toThrow('cannot stop');
    await expect(savepoint.store.get('things', 'a')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('close() stops the games outbox: no retry of the queued writes reaches the store afterwards', async () => {
    const flaky = flakyDriver(await openMemoryDriver());
    const savepoint = new Savepoint(new Store(flaky.driver));
    const { games } = savepoint;
    await games.persist('g1', { state: { round: 0 }, players: ['p1'] });
    flaky.outage.down = true;
    expect((await games.persist('g1', { state: { round: 1 } })).durable).toBe(false);
    expect(savepoint.queuedWrites).toBe(1);
    flaky.outage.down = false;
    // A replay starts by reading the game: no read after close means no retry ran.
    const reads = vi.spyOn(savepoint.store, 'get');
    await savepoint.close();
    // Longer than the outbox's first retry delay (100 ms).
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(reads).not.toHaveBeenCalled();
    expect(games.pendingWrites).toBe(1);
  });
});
