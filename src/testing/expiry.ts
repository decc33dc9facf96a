import assert from 'node:assert/strict';
import { equal, matchObject } from './assertions.js';
import type { ConformanceContext } from './context.js';

export function expiryTests({ store, clock, unique, describe, it }: ConformanceContext): void {
  describe('expiry and sweep', () => {
    it('hides expired documents at once and sweeps them later', async () => {
      const collection = unique('ttl');
      await store().commit([
        { op: 'put', collection, key: 'short', value: 1, ttlMs: 1000 },
        { op: 'put', collection, key: 'absolute', value: 2, expiresAt: clock.now() + 5000 },
        { op: 'put', collection, key: 'forever', value: 3 },
      ]);
      assert.equal((await store().get(collection, 'short'))?.expiresAt, clock.now() + 1000);
      clock.advance(1000);
      assert.equal(await store().get(collection, 'short'), undefined);
      equal(
        (await store().list(collection)).items.map((d) => d.key),
        ['absolute', 'forever'],
      );
      equal(
        (await store().getMany(collection, ['short', 'forever'])).map((d) => d.key),
        ['forever'],
      );
      clock.advance(4000);
      const swept = await store().sweepExpired();
      assert.equal(swept.documents[collection], 2);
      equal(
        (await store().list(collection)).items.map((d) => d.key),
        ['forever'],
      );
    });

    it('treats an expired document as absent for conditions and versions', async () => {
      const collection = unique('ttlcond');
      await store().commit([{ op: 'put', collection, key: 'k', value: 'old', ttlMs: 10 }]);
      clock.advance(10);
      const result = await store().commit([
        { op: 'put', collection, key: 'k', value: 'new', mustNotExist: true },
      ]);
      matchObject(result.results[0], { created: true, document: { version: 1, expiresAt: null } });
    });

    it('patch keeps the expiry unless told otherwise; put replaces it', async () => {
      const collection = unique('ttlpatch');
      await store().commit([{ op: 'put', collection, key: 'k', value: { n: 0 }, ttlMs: 1000 }]);
      const expiresAt = clock.now() + 1000;
      await store().commit([{ op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } } }]);
      assert.equal((await store().get(collection, 'k'))?.expiresAt, expiresAt);
      await store().commit([{ op: 'patch', collection, key: 'k', patch: {}, expiresAt: null }]);
      assert.equal((await store().get(collection, 'k'))?.expiresAt, null);
      await store().commit([{ op: 'patch', collection, key: 'k', patch: {}, ttlMs: 50 }]);
      assert.equal((await store().get(collection, 'k'))?.expiresAt, clock.now() + 50);
      await store().commit([{ op: 'put', collection, key: 'k', value: { n: 9 } }]);
      assert.equal((await store().get(collection, 'k'))?.expiresAt, null);
    });

    it('expires whole streams, and an append to an expired stream starts afresh', async () => {
      const stream = unique('ttlstream');
      await store().commit([
        { op: 'append', stream, events: [{ type: 'a' }, { type: 'b' }], expiresAt: clock.now() + 100 },
      ]);
      assert.equal(await store().streamHead(stream), 2);
      clock.advance(100);
      assert.equal(await store().streamHead(stream), 0);
      equal(await store().readStream(stream), []);
      await store().commit([{ op: 'append', stream, events: [{ type: 'fresh' }] }]);
      equal(
        (await store().readStream(stream)).map((e) => [e.seq, e.type]),
        [[1, 'fresh']],
      );
      const later = unique('ttlstream');
      await store().commit([{ op: 'append', stream: later, events: [{ type: 'x' }] }]);
      equal(
        (await store().commit([{ op: 'expireStream', stream: later, expiresAt: clock.now() + 10 }]))
          .results[0],
        {
          op: 'expireStream',
          found: true,
        },
      );
      equal(
        (await store().commit([{ op: 'expireStream', stream: unique('none'), expiresAt: 1 }])).results[0],
        {
          op: 'expireStream',
          found: false,
        },
      );
      clock.advance(10);
      const swept = await store().sweepExpired();
      assert.ok(swept.streams >= 1);
      assert.equal(await store().streamHead(later), 0);
    });

    it('sweeps in bounded batches', async () => {
      const collection = unique('batches');
      await store().commit(
        Array.from({ length: 25 }, (_, i) => ({
          op: 'put' as const,
          collection,
          key: `k${i}`,
          value: i,
          ttlMs: 1,
        })),
      );
      clock.advance(1);
      let total = 0;
      for (let round = 0; round < 100; round++) {
        const swept = await store().sweepExpired(10);
        const removed = Object.values(swept.documents).reduce((a, b) => a + b, 0) + swept.streams;
        assert.ok(removed <= 10);
        total += swept.documents[collection] ?? 0;
        if (!swept.more) break;
      }
      assert.equal(total, 25);
    });
  });
}
