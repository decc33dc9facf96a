import assert from 'node:assert/strict';
import { IDEMPOTENCY_COLLECTION, KeyScope, runInKeyScope } from '../engine/idempotency.js';
import type { CommitOp, DocumentWriteResult } from '../engine/types.js';
import { equal, expectCode, matchObject } from './assertions.js';
import type { ConformanceContext } from './context.js';

const inc = (collection: string, key: string): CommitOp => ({
  op: 'patch',
  collection,
  key,
  patch: { $inc: { n: 1 } },
  upsert: true,
});

export function idempotencyTests({ store, clock, unique, describe, it }: ConformanceContext): void {
  describe('idempotency keys', () => {
    it('a keyed commit applies once; repeats get the same results and apply nothing', async () => {
      const collection = unique('idem');
      const key = unique('key');
      const ops = [
        inc(collection, 'c'),
        { op: 'append', stream: collection, events: [{ type: 'x' }] },
      ] as const;
      const first = await store().commit(ops, { idempotencyKey: key });
      assert.equal(first.replayed, false);
      assert.equal(first.results.length, 2);
      const again = await store().commit(ops, { idempotencyKey: key });
      assert.equal(again.replayed, true);
      equal(again.results, first.results);
      assert.equal(again.at, first.at);
      equal((await store().get(collection, 'c'))?.value, { n: 1 });
      assert.equal(await store().streamHead(collection), 1);
    });

    it('concurrent commits with one key apply once and all get the first one results', async () => {
      const collection = unique('idem-race');
      const key = unique('key');
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => store().commit([inc(collection, 'c')], { idempotencyKey: key })),
      );
      equal((await store().get(collection, 'c'))?.value, { n: 1 });
      assert.equal(outcomes.filter((outcome) => outcome.replayed !== true).length, 1);
      for (const outcome of outcomes) {
        assert.equal((outcome.results[0] as DocumentWriteResult).document.version, 1);
      }
    });

    it('a repeat whose own condition fails now still replays the first result', async () => {
      const collection = unique('idem-cond');
      const key = unique('key');
      await store().commit([{ op: 'put', collection, key: 'k', value: 1 }]);
      const ops: CommitOp[] = [{ op: 'put', collection, key: 'k', value: 2, expectedVersion: 1 }];
      const first = await store().commit(ops, { idempotencyKey: key });
      const again = await store().commit(ops, { idempotencyKey: key });
      matchObject(again, { replayed: true, results: first.results });
    });

    it('the same key with other ops is refused, and applies nothing', async () => {
      const collection = unique('idem-reuse');
      const key = unique('key');
      await store().commit([inc(collection, 'a')], { idempotencyKey: key });
      await expectCode(
        store().commit([inc(collection, 'b')], { idempotencyKey: key }),
        'IDEMPOTENCY_KEY_REUSED',
      );
      assert.equal(await store().get(collection, 'b'), undefined);
    });

    it('a failed keyed commit stores nothing: the retry runs again', async () => {
      const collection = unique('idem-fail');
      const key = unique('key');
      const ops: CommitOp[] = [
        inc(collection, 'c'),
        { op: 'put', collection, key: 'gate', value: 1, expectedVersion: 1 },
      ];
      await expectCode(store().commit(ops, { idempotencyKey: key }), 'VERSION_CONFLICT');
      assert.equal(await store().idempotencyRecord(key), undefined);
      await store().commit([{ op: 'put', collection, key: 'gate', value: 0 }]);
      const retried = await store().commit(ops, { idempotencyKey: key });
      assert.equal(retried.replayed, false);
      equal((await store().get(collection, 'c'))?.value, { n: 1 });
    });

    it('stores an answer derived from the results in the same commit', async () => {
      const collection = unique('idem-answer');
      const key = unique('key');
      const answer = (results: readonly unknown[]) => ({
        version: (results[0] as DocumentWriteResult).document.version,
      });
      const first = await store().commit([inc(collection, 'c')], { idempotencyKey: key, answer });
      equal(first.answer, { version: 1 });
      const again = await store().commit([inc(collection, 'c')], { idempotencyKey: key, answer });
      matchObject(again, { replayed: true, answer: { version: 1 } });
      equal((await store().idempotencyRecord(key))?.answer, { version: 1 });
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
      equal(
        rerun.map((result) => result.replayed),
        [true, true],
      );
      equal(
        rerun.map((result) => result.results),
        first.map((result) => result.results),
      );
      equal((await store().get(collection, 'a'))?.value, { n: 2 });
      equal((await store().get(collection, 'b'))?.value, { n: 1 });
    });

    it('keys expire with the store TTL and are swept', async () => {
      const collection = unique('idem-ttl');
      const key = unique('key');
      await store().commit([inc(collection, 'c')], { idempotencyKey: key });
      clock.advance(store().idempotencyTtlMs + 1);
      assert.equal(await store().idempotencyRecord(key), undefined);
      const swept = await store().sweepExpired();
      assert.ok((swept.documents[IDEMPOTENCY_COLLECTION] ?? 0) >= 1);
      const after = await store().commit([inc(collection, 'c')], { idempotencyKey: key });
      assert.equal(after.replayed, false);
      equal((await store().get(collection, 'c'))?.value, { n: 2 });
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
      assert.equal(await store().get(collection, 'c'), undefined);
    });
  });
}
