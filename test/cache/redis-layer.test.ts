import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  openRedisLayer,
  type RedisLayer,
  type RedisLayerOptions,
} from '../../src/cache/redis/redis-layer.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Change, Driver } from '../../src/engine/driver.js';
import { type ChangeBatch, Store } from '../../src/engine/store.js';
import { redisAvailable, redisUrl, uniqueName } from '../support/services.js';
import {
  adminClient,
  deletePrefix,
  eventually,
  killConnection,
  shared,
  slowReads,
  withFeed,
} from './redis-test-support.js';

const available = await redisAvailable();
const prefix = uniqueName('sp_test_layer');
const closers: Array<() => Promise<void>> = [];
let counter = 0;
const unique = (name: string): string => `${name}-${++counter}`;

interface Instance {
  readonly layer: RedisLayer;
  readonly store: Store;
}

/** Opens a layer (and a Store on it) over `inner`; closed after each test. */
async function instance(inner: Driver, options: Partial<RedisLayerOptions> = {}, clock?: ManualClock) {
  const layer = await openRedisLayer(inner, { url: redisUrl, prefix, ...options });
  const store = new Store(layer, clock === undefined ? {} : { clock: clock.now });
  closers.push(() => store.close());
  return { layer, store } satisfies Instance;
}

/** Two instances over one inner store, as two processes over one PostgreSQL would be. */
async function pair(options: Partial<RedisLayerOptions> = {}, clock?: ManualClock) {
  const inner = await openMemoryDriver();
  closers.push(() => inner.close());
  return {
    inner,
    a: await instance(shared(inner), options, clock),
    b: await instance(shared(inner), options, clock),
  };
}

/** Collects the external changes a store hears. */
function hear(store: Store): Change[] {
  const heard: Change[] = [];
  store.subscribe((batch: ChangeBatch) => {
    if (batch.origin === 'external') heard.push(...batch.changes);
  });
  return heard;
}

describe.skipIf(!available)('redis layer', () => {
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  afterAll(async () => {
    await deletePrefix(prefix);
  });

  it('names itself after the inner driver and shares across processes', async () => {
    const { layer } = await instance(await openMemoryDriver());
    expect(layer.name).toBe('memory+redis');
    expect(layer.capabilities).toEqual({
      persistent: false,
      sharedAcrossProcesses: true,
      maxConcurrentBatches: 1,
    });
  });

  it('counts hits and misses in L1, Redis and the inner driver', async () => {
    // A long lease: no event-loop stall of this busy test process may lapse an L1 between two reads.
    const { a, b } = await pair({ ackTimeoutMs: 2000 });
    const collection = unique('hits');
    await a.store.commit([
      { op: 'put', collection, key: 'k1', value: { n: 1 } },
      { op: 'put', collection, key: 'k2', value: { n: 2 } },
    ]);

    expect((await a.store.get(collection, 'k1'))?.value).toEqual({ n: 1 });
    expect(a.layer.stats()).toMatchObject({
      reads: 1,
      l1Hits: 0,
      l1Misses: 1,
      redisMisses: 1,
      innerReads: 1,
    });
    const first = await a.store.get(collection, 'k1');
    expect(a.layer.stats()).toMatchObject({ reads: 2, l1Hits: 1, innerReads: 1 });

    // Every read is a fresh copy, even from the L1.
    (first?.value as { n: number }).n = 99;
    expect((await a.store.get(collection, 'k1'))?.value).toEqual({ n: 1 });

    // B finds in Redis what A filled, then keeps it in its own L1.
    expect((await b.store.get(collection, 'k1'))?.value).toEqual({ n: 1 });
    expect(b.layer.stats()).toMatchObject({ reads: 1, l1Misses: 1, redisHits: 1, innerReads: 0 });
    await b.store.get(collection, 'k1');
    expect(b.layer.stats()).toMatchObject({ reads: 2, l1Hits: 1, redisHits: 1, innerReads: 0 });

    // getMany: one key from L1, one from the inner driver, one missing (then cached as missing).
    const many = await b.store.getMany(collection, ['k1', 'k2', 'nope', 'k1']);
    expect(many.map((document) => document.key)).toEqual(['k1', 'k2']);
    expect(b.layer.stats()).toMatchObject({ reads: 5, l1Hits: 2, redisMisses: 2, innerReads: 2 });
    expect(await b.store.getMany(collection, ['nope', 'k2'])).toMatchObject([{ key: 'k2' }]);
    expect(b.layer.stats()).toMatchObject({ reads: 7, l1Hits: 4, innerReads: 2 });
    expect(await a.store.get(collection, 'nope')).toBeUndefined();
    expect(a.layer.stats()).toMatchObject({ redisHits: 1, innerReads: 1 });
  });

  it('keeps documents under <prefix>:doc:<collection>:<key> with their version and expiry', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { store } = await instance(await openMemoryDriver(), { tiers: { 'a:b': 'computed' } }, clock);
    const collection = 'a:b';
    const key = unique('x:y');
    await store.commit([{ op: 'put', collection, key, value: 'v', ttlMs: 90_000 }]);
    await store.get(collection, key);
    const admin = adminClient();
    try {
      const redisKey = `${prefix}:doc:a%3Ab:${key}`;
      const raw = await admin.get(redisKey);
      expect(raw).toMatch(/^\d+ \{/);
      const document = JSON.parse(String(raw).slice(String(raw).indexOf(' ') + 1));
      expect(document).toMatchObject({
        collection,
        key,
        value: 'v',
        version: 1,
        expiresAt: clock.now() + 90_000,
      });
      // The TTL is the document's remaining life, under the computed tier's 5 minutes.
      const ttl = await admin.pttl(redisKey);
      expect(ttl).toBeGreaterThan(80_000);
      expect(ttl).toBeLessThanOrEqual(90_000);
      await store.commit([{ op: 'put', collection, key, value: 'w' }]);
      expect(await admin.exists(redisKey)).toBe(0);
      await store.get(collection, key);
      const pttl = await admin.pttl(redisKey);
      expect(pttl).toBeGreaterThan(4 * 60_000);
      expect(pttl).toBeLessThanOrEqual(5 * 60_000);
    } finally {
      await admin.quit();
    }
  });

  it('never serves an expired document from either cache', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { a, b } = await pair({}, clock);
    const collection = unique('ttl');
    await a.store.commit([
      { op: 'put', collection, key: 'short', value: 1, ttlMs: 1000 },
      { op: 'put', collection, key: 'long', value: 2, ttlMs: 5000 },
    ]);
    expect((await a.store.get(collection, 'short'))?.value).toBe(1);
    expect((await a.store.get(collection, 'short'))?.value).toBe(1);
    clock.advance(999);
    expect((await a.store.getMany(collection, ['short', 'long'])).map((d) => d.value)).toEqual([1, 2]);
    clock.advance(1);
    expect(await a.store.get(collection, 'short')).toBeUndefined();
    expect(await b.store.get(collection, 'short')).toBeUndefined();
    expect((await b.store.getMany(collection, ['short', 'long'])).map((d) => d.value)).toEqual([2]);
    // Expiry was decided from the cached expiresAt: the inner driver was asked only on the first misses.
    expect(a.layer.stats().innerReads).toBe(2);
    clock.advance(4000);
    expect(await b.store.getMany(collection, ['short', 'long'])).toEqual([]);
    // Recreated after expiry, version 1 again: the write invalidated the cached entries.
    await a.store.commit([{ op: 'put', collection, key: 'short', value: 3, mustNotExist: true }]);
    expect(await b.store.get(collection, 'short')).toMatchObject({ value: 3, version: 1, expiresAt: null });
  });

  it('a write through A is never stale through B once the commit resolved', async () => {
    const { a, b } = await pair();
    const collection = unique('fresh');
    for (let round = 1; round <= 40; round++) {
      await a.store.commit([{ op: 'put', collection, key: 'k', value: round }]);
      expect((await b.store.get(collection, 'k'))?.value).toBe(round);
      expect((await b.store.get(collection, 'k'))?.value).toBe(round);
      expect((await b.store.getMany(collection, ['k']))[0]?.value).toBe(round);
      expect((await a.store.get(collection, 'k'))?.value).toBe(round);
    }
    await b.store.commit([{ op: 'delete', collection, key: 'k' }]);
    expect(await a.store.get(collection, 'k')).toBeUndefined();
    expect(b.layer.stats().l1Hits).toBeGreaterThan(0);
  });

  it('B hears A’s document, stream and board changes, in order, as external changes', async () => {
    const { a, b } = await pair();
    const heard = hear(b.store);
    const heardByA = hear(a.store);
    const collection = unique('feed');
    const stream = unique('feed');
    const board = unique('feed');
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 1 }]);
    await a.store.commit([{ op: 'append', stream, events: [{ type: 'a', data: 1 }, { type: 'b' }] }]);
    await a.store.commit([{ op: 'append', stream, events: [{ type: 'c' }] }]);
    await a.store.commit([{ op: 'score', board, member: 'm', score: 5, mode: 'set' }]);
    await a.store.commit([
      { op: 'delete', collection, key: 'k' },
      { op: 'deleteStream', stream },
    ]);
    await eventually(() => heard.length >= 6);
    expect(heard).toEqual([
      { kind: 'document', collection, key: 'k', document: expect.objectContaining({ value: 1, version: 1 }) },
      {
        kind: 'stream',
        stream,
        events: [
          expect.objectContaining({ seq: 1, type: 'a', data: 1 }),
          expect.objectContaining({ seq: 2, type: 'b' }),
        ],
      },
      { kind: 'stream', stream, events: [expect.objectContaining({ seq: 3, type: 'c' })] },
      { kind: 'board', board },
      { kind: 'document', collection, key: 'k', document: null },
      { kind: 'streamDeleted', stream },
    ]);
    // A hears its own commits as local changes only.
    expect(heardByA).toEqual([]);
  });

  it('publishes changes too large for a message as unknown, and still invalidates', async () => {
    const { a, b } = await pair({ maxMessageChars: 2048 });
    const heard = hear(b.store);
    const collection = unique('big');
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 'x' }]);
    expect((await b.store.get(collection, 'k'))?.value).toBe('x');
    const big = 'y'.repeat(10_000);
    await a.store.commit([{ op: 'put', collection, key: 'k', value: big }]);
    expect((await b.store.get(collection, 'k'))?.value).toBe(big);
    await eventually(() => heard.length >= 2);
    expect(heard[0]).toMatchObject({ kind: 'document', key: 'k' });
    expect(heard[1]).toEqual({ kind: 'unknown' });
  });

  it('forwards the inner driver’s own changes once, invalidating what they name', async () => {
    const inner = await openMemoryDriver();
    closers.push(() => inner.close());
    const feed = withFeed(shared(inner));
    const a = await instance(shared(inner));
    const b = await instance(feed.driver);
    const heard = hear(b.store);
    const collection = unique('inner');
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 1 }]);
    await eventually(() => heard.length === 1);
    // The inner feed reports the same commit (as PostgreSQL NOTIFY would): not delivered twice.
    const committed = heard[0] as Change;
    feed.notify([committed]);
    expect(heard).toHaveLength(1);

    // A change made behind the layer's back, reported only by the inner feed.
    expect((await b.store.get(collection, 'k'))?.value).toBe(1);
    const [result] = await inner.applyBatch([
      {
        ops: [{ op: 'put', collection, key: 'k', value: 2, json: '2', expiresAt: null }],
        at: Date.now(),
        maxValueBytes: 1 << 20,
      },
    ]);
    const document = result !== undefined && 'results' in result ? result.results[0] : undefined;
    expect(document).toMatchObject({ op: 'put', document: { value: 2, version: 2 } });
    const change: Change = {
      kind: 'document',
      collection,
      key: 'k',
      document: document !== undefined && 'document' in document ? document.document : null,
    };
    feed.notify([change]);
    expect(heard).toHaveLength(2);
    expect((await b.store.get(collection, 'k'))?.value).toBe(2);
    // B also dropped the Redis entry, so A (no inner feed) reads the new value too.
    await eventually(async () => (await a.store.get(collection, 'k'))?.value === 2);

    // `unknown` from the inner feed: B drops everything (its L1 and, by a new generation, Redis).
    await a.store.get(collection, 'k');
    const before = b.layer.stats();
    feed.notify([{ kind: 'unknown' }]);
    await eventually(() => b.layer.stats().l1Entries === 0);
    await eventually(async () => {
      await b.store.get(collection, 'k');
      return b.layer.stats().innerReads > before.innerReads;
    });
    expect(heard.at(-1)).toEqual({ kind: 'unknown' });
  });

  it('keeps reading and writing through the inner driver when Redis is unreachable', async () => {
    const errors: string[] = [];
    const inner = await openMemoryDriver();
    const started = performance.now();
    const { layer, store } = await instance(inner, {
      url: 'redis://127.0.0.1:1',
      startTimeoutMs: 500,
      onError: (error, context) => errors.push(`${context}: ${error.message}`),
    });
    expect(performance.now() - started).toBeLessThan(1500);
    const collection = unique('down');
    for (let round = 1; round <= 5; round++) {
      await store.commit([{ op: 'put', collection, key: 'k', value: round }]);
      expect((await store.get(collection, 'k'))?.value).toBe(round);
      expect((await store.getMany(collection, ['k', 'none'])).map((d) => d.value)).toEqual([round]);
    }
    expect(layer.stats()).toMatchObject({ redisReady: false, busLive: false, l1Hits: 0, redisHits: 0 });
    expect(layer.stats().innerReads).toBe(15);
    expect(errors.length).toBeGreaterThan(0);
    // Each connection reports its outage once, not every reconnect attempt.
    expect(errors.length).toBeLessThanOrEqual(4);
    await store.close();
    await store.close();
    await expect(inner.getDocument(collection, 'k', Date.now())).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
  });

  it('never reads stale after its own write while its Redis connection is down, and repairs Redis after', async () => {
    const errors: string[] = [];
    const { a, b } = await pair({
      reconnect: { minDelayMs: 1500, maxDelayMs: 1500 },
      onError: (error, context) => errors.push(`${context}: ${error.message}`),
    });
    const collection = unique('outage');
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 1 }]);
    expect((await a.store.get(collection, 'k'))?.value).toBe(1);
    expect((await b.store.get(collection, 'k'))?.value).toBe(1);

    await killConnection(prefix, 'cmd', a.layer.instanceId);
    await eventually(() => !a.layer.stats().redisReady);
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 2 }]);
    expect(a.layer.stats().dirtyKeys).toBe(1);
    expect((await a.store.get(collection, 'k'))?.value).toBe(2);
    expect((await a.store.getMany(collection, ['k']))[0]?.value).toBe(2);

    // Once A is back, it deletes the stale entry and tells B, which then reads the new value.
    await eventually(() => a.layer.stats().redisReady && a.layer.stats().dirtyKeys === 0, 10_000);
    expect((await a.store.get(collection, 'k'))?.value).toBe(2);
    await eventually(async () => (await b.store.get(collection, 'k'))?.value === 2);
    expect(errors.some((line) => line.includes('redis connection'))).toBe(true);
  });

  it('drops its L1 while its subscription is down and tells listeners it may have missed changes', async () => {
    const { a, b } = await pair({ reconnect: { minDelayMs: 300, maxDelayMs: 300 } });
    const heard = hear(b.store);
    const collection = unique('resub');
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 1 }]);
    await b.store.get(collection, 'k');
    expect(b.layer.stats().l1Entries).toBe(1);

    await killConnection(prefix, 'sub', b.layer.instanceId);
    await eventually(() => !b.layer.stats().busLive);
    expect(b.layer.stats().l1Entries).toBe(0);
    // A's commit is not heard by B's bus, but B's reads go to Redis, which A invalidated.
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 2 }]);
    expect((await b.store.get(collection, 'k'))?.value).toBe(2);
    expect(b.layer.stats().l1Entries).toBe(0);

    await eventually(() => b.layer.stats().busLive);
    await eventually(() => heard.some((change) => change.kind === 'unknown'));
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 3 }]);
    expect((await b.store.get(collection, 'k'))?.value).toBe(3);
    await eventually(() =>
      heard.some((change) => change.kind === 'document' && change.document?.value === 3),
    );
  });

  it('waits for a silent instance no longer than its lease, then not at all, and never for a foreign subscriber', async () => {
    const errors: string[] = [];
    // A long lease for A and B, so that only the ghost below (100 ms) can be late, even on a busy machine.
    const { a, b } = await pair({ ackTimeoutMs: 1000, onError: (error) => errors.push(error.message) });
    // A foreign subscriber on the channel sends no heartbeats: nobody waits for it.
    const eavesdropper = adminClient();
    const ghost = adminClient();
    closers.push(async () => {
      await Promise.all([eavesdropper.quit(), ghost.quit()]);
    });
    await eavesdropper.subscribe(`${prefix}:changes`);
    const collection = unique('ack');
    await eventually(() => a.layer.stats().peers === 1 && b.layer.stats().peers === 1);
    // Past the first lease of A's subscription, A knows every instance that may serve an L1.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 1 }]);
    expect(a.layer.stats().ackTimeouts).toBe(0);

    // An instance that sends one heartbeat and then stalls (it never acknowledges anything).
    await ghost.publish(
      `${prefix}:changes`,
      JSON.stringify({ beat: 'alive', from: 'ghost', id: 1, leaseMs: 100 }),
    );
    await eventually(() => a.layer.stats().peers === 2);
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 2 }]);
    expect(a.layer.stats().ackTimeouts).toBe(1);
    expect(errors).toEqual([expect.stringMatching(/^instance ghost did not acknowledge a commit within/)]);
    // Its lease has run out: later commits do not wait for it, and B (alive) still acknowledges.
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 3 }]);
    expect(a.layer.stats()).toMatchObject({ ackTimeouts: 1, peers: 1 });
    expect((await b.store.get(collection, 'k'))?.value).toBe(3);
    // An instance that says it is leaving is dropped at once.
    await ghost.publish(
      `${prefix}:changes`,
      JSON.stringify({ beat: 'alive', from: 'ghost', id: 2, leaseMs: 100 }),
    );
    await eventually(() => a.layer.stats().peers === 2);
    await ghost.publish(
      `${prefix}:changes`,
      JSON.stringify({ beat: 'leaving', from: 'ghost', id: 3, leaseMs: 100 }),
    );
    await eventually(() => a.layer.stats().peers === 1);
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 4 }]);
    expect(a.layer.stats().ackTimeouts).toBe(1);
  });

  it('serves no L1 entry after its event loop was blocked longer than the lease, until a heartbeat comes back', async () => {
    const { a, b } = await pair({ ackTimeoutMs: 40 });
    const collection = unique('lapse');
    await a.store.commit([{ op: 'put', collection, key: 'k', value: 1 }]);
    await b.store.get(collection, 'k');
    await eventually(async () => {
      const hits = b.layer.stats().l1Hits;
      await b.store.get(collection, 'k');
      return b.layer.stats().l1Hits > hits;
    });
    const before = b.layer.stats();
    // Blocks this thread past the lease, as a long GC pause would: no heartbeat can come back meanwhile.
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // spin
    }
    // The read runs before any bus message queued meanwhile is handled.
    expect((await b.store.get(collection, 'k'))?.value).toBe(1);
    expect(b.layer.stats()).toMatchObject({ l1Hits: before.l1Hits, l1Lapsed: before.l1Lapsed + 1 });
    // Once its next heartbeat is back, the L1 serves again.
    await eventually(async () => {
      await b.store.get(collection, 'k');
      return b.layer.stats().l1Hits > before.l1Hits;
    });
  });

  it('ends with the last committed version under concurrent writes and reads on hot keys', async () => {
    const inner = await openMemoryDriver();
    closers.push(() => inner.close());
    const a = await instance(slowReads(shared(inner), 2));
    const b = await instance(slowReads(shared(inner), 2));
    const collection = unique('race');
    const keys = ['h0', 'h1', 'h2'];
    const committed = new Map<string, number>(keys.map((key) => [key, 0]));
    let writing = true;
    const violations: string[] = [];

    const writer = async (store: Store, rounds: number): Promise<void> => {
      for (let round = 0; round < rounds; round++) {
        const key = keys[round % keys.length] as string;
        const op =
          round % 7 === 6
            ? ({ op: 'put', collection, key, value: { n: 0 } } as const)
            : ({ op: 'patch', collection, key, patch: { $inc: { n: 1 } }, upsert: true } as const);
        const result = await store.commit([op]);
        const outcome = result.results[0];
        const version = outcome !== undefined && 'document' in outcome ? outcome.document.version : 0;
        committed.set(key, Math.max(committed.get(key) ?? 0, version));
      }
    };
    const reader = async (store: Store): Promise<void> => {
      while (writing) {
        const key = keys[Math.floor(Math.random() * keys.length)] as string;
        // Whatever committed before this read started must be visible to it.
        const floor = committed.get(key) ?? 0;
        const document =
          Math.random() < 0.5
            ? await store.get(collection, key)
            : (await store.getMany(collection, [key]))[0];
        const version = document?.version ?? 0;
        if (version < floor) violations.push(`${key}: read v${version} after v${floor} committed`);
      }
    };

    const readers = [a.store, b.store, a.store, b.store].map(reader);
    await Promise.all([writer(a.store, 150), writer(b.store, 150), writer(a.store, 100)]);
    writing = false;
    await Promise.all(readers);
    expect(violations).toEqual([]);
    for (const key of keys) {
      const last = committed.get(key);
      expect((await a.store.get(collection, key))?.version).toBe(last);
      expect((await b.store.get(collection, key))?.version).toBe(last);
      expect((await inner.getDocument(collection, key, Date.now()))?.version).toBe(last);
    }
    const stats = [a.layer.stats(), b.layer.stats()];
    expect(stats.reduce((sum, s) => sum + s.l1Hits + s.redisHits, 0)).toBeGreaterThan(0);
  });
});
