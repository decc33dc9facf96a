import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_COLLECTION, KeyScope, runInKeyScope } from '../../src/engine/idempotency.js';
import type { CommitOp, DocumentWriteResult } from '../../src/engine/types.js';
import type { ConformanceContext } from './context.js';
import { expectCode } from './expect-code.js';

const inc = (collection: string, key: string): CommitOp => ({
  op: 'patch',
  collection,
  key,
  patch: { $inc: { n: 1 } },
  upsert: true,
});

export function idempotencyTests({ store, clock, unique }: ConformanceContext): void {
  describe('idempotency keys', () => {
    it('a keyed commit applies once; repeats get the same results and apply nothing', async () => {
      const collection = unique('idem');
      const key = unique('key');
      const ops = [
        inc(collection, 'c'),
        { op: 'append', stream: collection, events: [{ type: 'x' }] },
      ] as const;
      const first = await store().commit(ops, { idempotencyKey: key });
      expect(first.replayed).toBe(false);
      expect(first.results).toHaveLength(2);
      const again = await store().commit(ops, { idempotencyKey: key });
      expect(again.replayed).toBe(true);
      expect(again.results).toEqual(first.results);
      expect(again.at).toBe(first.at);
      expect((await store().get(collection, 'c'))?.value).toEqual({ n: 1 });
      expect(await store().streamHead(collection)).toBe(1);
    });

    it('concurrent commits with one key apply once and all get the first one results', async () => {
      const collection = unique('idem-race');
      const key = unique('key');
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => store().commit([inc(collection, 'c')], { idempotencyKey: key })),
      );
      expect((await store().get(collection, 'c'))?.value).toEqual({ n: 1 });
      expect(outcomes.filter((outcome) => outcome.replayed !== true)).toHaveLength(1);
      for (const outcome of outcomes) {
        expect((outcome.results[0] as DocumentWriteResult).document.version).toBe(1);
      }
    });

    it('a repeat whose own condition fails now still replays the first result', async () => {
      const collection = unique('idem-cond');
      const key = unique('key');
      await store().commit([{ op: 'put', collection, key: 'k', value: 1 }]);
      const ops: CommitOp[] = [{ op: 'put', collection, key: 'k', value: 2, expectedVersion: 1 }];
      const first = await store().commit(ops, { idempotencyKey: key });
      const again = await store().commit(ops, { idempotencyKey: key });
      expect(again).toMatchObject({ replayed: true, results: first.results });
    });

    it('the same key with other ops is refused, and applies nothing', async () => {
      const collection = unique('idem-reuse');
      const key = unique('key');
      await store().commit([inc(collection, 'a')], { idempotencyKey: key });
      await expectCode(
        store().commit([inc(collection, 'b')], { idempotencyKey: key }),
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await store().get(collection, 'b')).toBeUndefined();
    });

    it('a failed keyed commit stores nothing: the retry runs again', async () => {
      const collection = unique('idem-fail');
      const key = unique('key');
      const ops: CommitOp[] = [
        inc(collection, 'c'),
        { op: 'put', collection, key: 'gate', value: 1, expectedVersion: 1 },
      ];
      await expectCode(store().commit(ops, { idempotencyKey: key }), 'VERSION_CONFLICT');
      expect(await store().idempotencyRecord(key)).toBeUndefined();
      await store().commit([{ op: 'put', collection, key: 'gate', value: 0 }]);
      const retried = await store().commit(ops, { idempotencyKey: key });
      expect(retried.replayed).toBe(false);
      expect((await store().get(collection, 'c'))?.value).toEqual({ n: 1 });
    });

    it('stores an answer derived from the results in the same commit', async () => {
      const collection = unique('idem-answer');
      const key = unique('key');
      const answer = (results: readonly unknown[]) => ({
        version: (results[0] as DocumentWriteResult).document.version,
      });
      const first = await store().commit([inc(collection, 'c')], { idempotencyKey: key, answer });
      expect(first.answer).toEqual({ version: 1 });
      const again = await store().commit([inc(collection, 'c')], { idempotencyKey: key, answer });
      expect(again).toMatchObject({ replayed: true, answer: { version: 1 } });
      expect((await store().idempotencyRecord(key))?.answer).toEqual({ version: 1 });
    });

    it('commits in a key scope are keyed by ordinal: a re-run applies nothing again', async () => {
      const collection = unique('idem-scope');
      const scopeKey = unique('scope');
      const work = async () => {
        const a = await store().commit([inc(collection, 'a')]);
        const b = await store().commit([inc(collection, 'b'), inc(collection, 'a')]);
        return [a, b];
      };
      const first = await runInKeyScope(new KeyScope(scopeKey, 'f'), work);
      const rerun = await runInKeyScope(new KeyScope(scopeKey, 'f'), work);
      expect(rerun.map((result) => result.replayed)).toEqual([true, true]);
      expect(rerun.map((result) => result.results)).toEqual(first.map((result) => result.results));
      expect((await store().get(collection, 'a'))?.value).toEqual({ n: 2 });
      expect((await store().get(collection, 'b'))?.value).toEqual({ n: 1 });
    });

    it('keys expire with the store TTL and are swept', async () => {
      const collection = unique('idem-ttl');
      const key = unique('key');
      await store().commit([inc(collection, 'c')], { idempotencyKey: key });
      clock.advance(store().idempotencyTtlMs + 1);
      expect(await store().idempotencyRecord(key)).toBeUndefined();
      const swept = await store().sweepExpired();
      expect(swept.documents[IDEMPOTENCY_COLLECTION] ?? 0).toBeGreaterThanOrEqual(1);
      const after = await store().commit([inc(collection, 'c')], { idempotencyKey: key });
      expect(after.replayed).toBe(false);
      expect((await store().get(collection, 'c'))?.value).toEqual({ n: 2 });
    });

    it('a malformed key is refused before anything is applied', async () => {
      const collection = unique('idem-bad');
      await expectCode(
        store().commit([inc(collection, 'c')], { idempotencyKey: 'no spaces' }),
        'INVALID_INPUT',
      );
      await expectCode(
        store().commit([inc(collection, 'c')], { idempotencyKey: 'x'.repeat(201) }),
        'INVALID_INPUT',
      );
      expect(await store().get(collection, 'c')).toBeUndefined();
    });
  });
}
