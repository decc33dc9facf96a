import { afterAll, describe, expect, it } from 'vitest';
import { Leases } from '../../src/domains/leases/leases.js';
import { ManualClock } from '../../src/engine/clock.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_leases');
afterAll(cleanup);

describe.each(
  storages.filter((storage) => storage.enabled).map((storage) => [storage.name, storage] as const),
)('leases on %s', (_name, storage) => {
  async function setup(clock = new ManualClock()) {
    const store = await storage.openStore({ clock: clock.now });
    return { store, clock, leases: new Leases(store) };
  }

  it('gives a lease to one holder and reports the holder to others', async () => {
    const { leases } = await setup();
    const lease = await leases.acquire('game:1', { holder: 'server-a' });
    expect(lease).toMatchObject({ name: 'game:1', holder: 'server-a', fence: 1 });
    const held = await expectCode(leases.acquire('game:1', { holder: 'server-b' }), 'LEASE_HELD');
    expect(held.details).toMatchObject({ holder: 'server-a' });
    expect(await leases.get('game:1')).toEqual(lease);
    expect(await leases.get('game:2')).toBeUndefined();
  });

  it('of many concurrent acquirers exactly one wins', async () => {
    const { leases } = await setup();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => leases.acquire('contended', { holder: `h${i}` })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'LEASE_HELD' });
  });

  it('expires after its TTL, and the fence grows when it changes hands', async () => {
    const { leases, clock } = await setup();
    const first = await leases.acquire('l', { holder: 'a', ttlMs: 1000 });
    clock.advance(999);
    await expectCode(leases.acquire('l', { holder: 'b' }), 'LEASE_HELD');
    clock.advance(1);
    const second = await leases.acquire('l', { holder: 'b' });
    expect(second.fence).toBe(first.fence + 1);
    await expectCode(leases.renew('l', { holder: 'a', fence: first.fence }), 'LEASE_LOST');
    await expectCode(leases.release('l', { holder: 'a', fence: first.fence }), 'LEASE_LOST');
    await leases.release('l', { holder: 'b', fence: second.fence });
    expect(await leases.get('l')).toBeUndefined();
    const third = await leases.acquire('l', { holder: 'a' });
    expect(third.fence).toBe(second.fence + 1);
  });

  it('renews and re-acquires without changing the fence', async () => {
    const { leases, clock } = await setup();
    const lease = await leases.acquire('l', { holder: 'a', ttlMs: 1000 });
    clock.advance(800);
    const renewed = await leases.renew('l', { holder: 'a', fence: lease.fence, ttlMs: 1000 });
    expect(renewed).toMatchObject({ fence: lease.fence, expiresAt: clock.now() + 1000 });
    expect((await leases.acquire('l', { holder: 'a' })).fence).toBe(lease.fence);
  });

  it('waits with backoff while another holder has it', async () => {
    const real = new Leases(await storage.openStore());
    await real.acquire('w', { holder: 'a', ttlMs: 150 });
    const started = performance.now();
    const taken = await real.acquire('w', { holder: 'b', waitMs: 2000 });
    expect(taken.holder).toBe('b');
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    await expectCode(real.acquire('w', { holder: 'c', waitMs: 50 }), 'LEASE_HELD');
    await expectCode(real.acquire('x', { holder: 'a', ttlMs: 61_000 }), 'OUT_OF_BOUNDS');
    await expectCode(real.acquire('x', { holder: '' }), 'INVALID_INPUT');
  });

  it('keepAlive renews until released, and reports a loss at once', async () => {
    const store = await storage.openStore();
    const leases = new Leases(store);
    const handle = await leases.keepAlive('k', { holder: 'a', ttlMs: 90 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await leases.get('k'))?.holder).toBe('a');
    await handle.release();
    expect(await leases.get('k')).toBeUndefined();

    const stolen = await leases.keepAlive('s', { holder: 'a', ttlMs: 90 });
    // Another holder forces its way in by rewriting the record, as a buggy or partitioned peer might.
    await store.commit([
      {
        op: 'put',
        collection: 'lease',
        key: 's',
        value: { holder: 'b', fence: 99, expiresAt: Date.now() + 10_000, held: true },
      },
    ]);
    const error = await stolen.lost;
    expect(error.code).toBe('LEASE_LOST');
  });
});
