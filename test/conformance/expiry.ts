import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './context.js';

export function expiryTests({ store, clock, unique }: ConformanceContext): void {
  describe('expiry and sweep', () => {
    it('hides expired documents at once and sweeps them later', async () => {
      const collection = unique('ttl');
      await store().commit([
        { op: 'put', collection, key: 'short', value: 1, ttlMs: 1000 },
        { op: 'put', collection, key: 'absolute', value: 2, expiresAt: clock.now() + 5000 },
        { op: 'put', collection, key: 'forever', value: 3 },
      ]);
      expect((await store().get(collection, 'short'))?.expiresAt).toBe(clock.now() + 1000);
      clock.advance(1000);
      expect(await store().get(collection, 'short')).toBeUndefined();
      expect((await store().list(collection)).items.map((d) => d.key)).toEqual(['absolute', 'forever']);
      expect((await store().getMany(collection, ['short', 'forever'])).map((d) => d.key)).toEqual([
        'forever',
      ]);
      clock.advance(4000);
      const swept = await store().sweepExpired();
      expect(swept.documents[collection]).toBe(2);
      expect((await store().list(collection)).items.map((d) => d.key)).toEqual(['forever']);
    });

    it('treats an expired document as absent for conditions and versions', async () => {
      const collection = unique('ttlcond');
      await store().commit([{ op: 'put', collection, key: 'k', value: 'old', ttlMs: 10 }]);
      clock.advance(10);
      const result = await store().commit([
        { op: 'put', collection, key: 'k', value: 'new', mustNotExist: true },
      ]);
      expect(result.results[0]).toMatchObject({ created: true, document: { version: 1, expiresAt: null } });
    });

    it('patch keeps the expiry unless told otherwise; put replaces it', async () => {
      const collection = unique('ttlpatch');
      await store().commit([{ op: 'put', collection, key: 'k', value: { n: 0 }, ttlMs: 1000 }]);
      const expiresAt = clock.now() + 1000;
      await store().commit([{ op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } } }]);
      expect((await store().get(collection, 'k'))?.expiresAt).toBe(expiresAt);
      await store().commit([{ op: 'patch', collection, key: 'k', patch: {}, expiresAt: null }]);
      expect((await store().get(collection, 'k'))?.expiresAt).toBeNull();
      await store().commit([{ op: 'patch', collection, key: 'k', patch: {}, ttlMs: 50 }]);
      expect((await store().get(collection, 'k'))?.expiresAt).toBe(clock.now() + 50);
      await store().commit([{ op: 'put', collection, key: 'k', value: { n: 9 } }]);
      expect((await store().get(collection, 'k'))?.expiresAt).toBeNull();
    });

    it('expires whole streams, and an append to an expired stream starts afresh', async () => {
      const stream = unique('ttlstream');
      await store().commit([
        { op: 'append', stream, events: [{ type: 'a' }, { type: 'b' }], expiresAt: clock.now() + 100 },
      ]);
      expect(await store().streamHead(stream)).toBe(2);
      clock.advance(100);
      expect(await store().streamHead(stream)).toBe(0);
      expect(await store().readStream(stream)).toEqual([]);
      await store().commit([{ op: 'append', stream, events: [{ type: 'fresh' }] }]);
      expect((await store().readStream(stream)).map((e) => [e.seq, e.type])).toEqual([[1, 'fresh']]);
      const later = unique('ttlstream');
      await store().commit([{ op: 'append', stream: later, events: [{ type: 'x' }] }]);
      expect(
        (await store().commit([{ op: 'expireStream', stream: later, expiresAt: clock.now() + 10 }]))
          .results[0],
      ).toEqual({
        op: 'expireStream',
        found: true,
      });
      expect(
        (await store().commit([{ op: 'expireStream', stream: unique('none'), expiresAt: 1 }])).results[0],
      ).toEqual({
        op: 'expireStream',
        found: false,
      });
      clock.advance(10);
      const swept = await store().sweepExpired();
      expect(swept.streams).toBeGreaterThanOrEqual(1);
      expect(await store().streamHead(later)).toBe(0);
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
        expect(removed).toBeLessThanOrEqual(10);
        total += swept.documents[collection] ?? 0;
        if (!swept.more) break;
      }
      expect(total).toBe(25);
    });
  });
}
