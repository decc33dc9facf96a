import assert from 'node:assert/strict';
import { retryOnConflict } from '../engine/retry.js';
import type { CommitOp } from '../engine/types.js';
import { equal, expectCode, matchObject } from './assertions.js';
import type { ConformanceContext } from './context.js';

export function commitTests({ store, unique, runs, describe, it }: ConformanceContext): void {
  describe('conditions', () => {
    it('expectedVersion must match the stored version', async () => {
      const collection = unique('cond');
      await store().commit([{ op: 'put', collection, key: 'k', value: 1 }]);
      await store().commit([{ op: 'put', collection, key: 'k', value: 2, expectedVersion: 1 }]);
      const error = await expectCode(
        store().commit([{ op: 'put', collection, key: 'k', value: 3, expectedVersion: 1 }]),
        'VERSION_CONFLICT',
      );
      assert.equal(error.details.opIndex, 0);
      await expectCode(
        store().commit([{ op: 'put', collection, key: 'absent', value: 1, expectedVersion: 1 }]),
        'VERSION_CONFLICT',
      );
      await expectCode(
        store().commit([
          { op: 'patch', collection, key: 'k', patch: { $set: { a: 1 } }, expectedVersion: 5 },
        ]),
        'VERSION_CONFLICT',
      );
      await expectCode(
        store().commit([{ op: 'delete', collection, key: 'k', expectedVersion: 1 }]),
        'VERSION_CONFLICT',
      );
      matchObject(await store().get(collection, 'k'), { value: 2, version: 2 });
    });

    it('mustNotExist creates only once', async () => {
      const collection = unique('once');
      await store().commit([{ op: 'put', collection, key: 'k', value: 'first', mustNotExist: true }]);
      await expectCode(
        store().commit([{ op: 'put', collection, key: 'k', value: 'second', mustNotExist: true }]),
        'VERSION_CONFLICT',
      );
      assert.equal((await store().get(collection, 'k'))?.value, 'first');
    });

    it('names the failing op and applies nothing of the commit', async () => {
      const collection = unique('atomic');
      const stream = unique('stream');
      const board = unique('board');
      await store().commit([{ op: 'put', collection, key: 'existing', value: { n: 1 } }]);
      const boards = runs('boards');
      const ops: CommitOp[] = [
        { op: 'put', collection, key: 'new', value: 'should vanish' },
        { op: 'patch', collection, key: 'existing', patch: { $inc: { n: 1 } }, upsert: true },
        { op: 'append', stream, events: [{ type: 'x' }] },
        ...(boards ? [{ op: 'score', board, member: 'm', score: 10, mode: 'set' } as const] : []),
        { op: 'delete', collection, key: 'existing' },
        { op: 'put', collection, key: 'new', value: 'conflict', mustNotExist: true },
      ];
      const error = await expectCode(store().commit(ops), 'VERSION_CONFLICT');
      assert.equal(error.details.opIndex, boards ? 5 : 4);
      assert.equal(await store().get(collection, 'new'), undefined);
      matchObject(await store().get(collection, 'existing'), { value: { n: 1 }, version: 1 });
      assert.equal(await store().streamHead(stream), 0);
      if (boards) assert.equal(await store().boardMember(board, 'm'), undefined);
    });

    it('sees its own earlier ops within one commit', async () => {
      const collection = unique('seq');
      const result = await store().commit([
        { op: 'put', collection, key: 'k', value: { n: 1 }, mustNotExist: true },
        { op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } }, expectedVersion: 1 },
        { op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } }, expectedVersion: 2 },
      ]);
      matchObject(result.results[2], { document: { version: 3, value: { n: 3 } } });
      matchObject(await store().get(collection, 'k'), { version: 3, value: { n: 3 } });
    });
  });

  describe('patch', () => {
    it('applies $set $unset $inc $max $min $push with dot paths', async () => {
      const collection = unique('patch');
      await store().commit([
        {
          op: 'put',
          collection,
          key: 'k',
          value: { stats: { wins: 1, best: 10, worst: 5 }, tags: ['a'], drop: true },
        },
      ]);
      const result = await store().commit([
        {
          op: 'patch',
          collection,
          key: 'k',
          patch: {
            $set: { 'profile.name': 'Ada', 'stats.rank': 'gold' },
            $unset: { drop: true, 'no.such.path': true },
            $inc: { 'stats.wins': 2, 'stats.losses': 1 },
            $max: { 'stats.best': 8, 'stats.high': 3 },
            $min: { 'stats.worst': 2 },
            $push: { tags: 'b', trophies: { $each: ['gold', 'silver'] } },
          },
        },
      ]);
      const expected = {
        stats: { wins: 3, losses: 1, best: 10, high: 3, worst: 2, rank: 'gold' },
        tags: ['a', 'b'],
        trophies: ['gold', 'silver'],
        profile: { name: 'Ada' },
      };
      matchObject(result.results[0], {
        op: 'patch',
        created: false,
        document: { version: 2, value: expected },
      });
      equal((await store().get(collection, 'k'))?.value, expected);
    });

    it('needs upsert to create, and fails with NOT_FOUND otherwise', async () => {
      const collection = unique('upsert');
      await expectCode(
        store().commit([{ op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } } }]),
        'NOT_FOUND',
      );
      const created = await store().commit([
        { op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } }, upsert: true },
      ]);
      matchObject(created.results[0], { created: true, document: { version: 1, value: { n: 1 } } });
    });

    it('rejects type mismatches and bad operators without writing', async () => {
      const collection = unique('patchbad');
      await store().commit([{ op: 'put', collection, key: 'k', value: { n: 'text', list: 1, obj: 5 } }]);
      await expectCode(
        store().commit([{ op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } } }]),
        'INVALID_INPUT',
      );
      await expectCode(
        store().commit([{ op: 'patch', collection, key: 'k', patch: { $push: { list: 1 } } }]),
        'INVALID_INPUT',
      );
      await expectCode(
        store().commit([{ op: 'patch', collection, key: 'k', patch: { $set: { 'obj.inner': 1 } } }]),
        'INVALID_INPUT',
      );
      const invalid: unknown[] = [
        { $rename: { a: 'b' } },
        { $inc: { n: 'one' } },
        { $inc: { n: Number.NaN } },
        { $set: { '': 1 } },
        { $set: { 'a..b': 1 } },
        { $set: { '__proto__.polluted': 1 } },
        { $set: { a: 1 }, $inc: { a: 1 } },
        'not an object',
      ];
      for (const patch of invalid) {
        await expectCode(
          store().commit([{ op: 'patch', collection, key: 'k', patch: patch as never }]),
          'INVALID_INPUT',
        );
      }
      matchObject(await store().get(collection, 'k'), {
        version: 1,
        value: { n: 'text', list: 1, obj: 5 },
      });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      await store().commit([{ op: 'put', collection, key: 'array', value: [1, 2] }]);
      await expectCode(
        store().commit([{ op: 'patch', collection, key: 'array', patch: { $set: { a: 1 } } }]),
        'INVALID_INPUT',
      );
    });
  });

  describe('concurrency and group commit', () => {
    it('200 concurrent $inc commits on one document give the exact total', async () => {
      const collection = unique('inc');
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store().commit([
            { op: 'patch', collection, key: 'counter', patch: { $inc: { n: 1, total: i } }, upsert: true },
          ]),
        ),
      );
      const document = await store().get(collection, 'counter');
      equal(document?.value, { n: 200, total: (199 * 200) / 2 });
      assert.equal(document?.version, 200);
    });

    it('100 concurrent create-if-absent commits have exactly one winner', async () => {
      const collection = unique('race');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 100 }, (_, i) =>
          store().commit([{ op: 'put', collection, key: 'seat', value: { holder: i }, mustNotExist: true }]),
        ),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(winners.length, 1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') matchObject(outcome.reason, { code: 'VERSION_CONFLICT' });
      }
    });

    it('a failing commit in a group does not fail its neighbours', async () => {
      const collection = unique('group');
      await store().commit([{ op: 'put', collection, key: 'taken', value: 0 }]);
      const ops: CommitOp[][] = Array.from({ length: 50 }, (_, i) =>
        i % 5 === 0
          ? [
              { op: 'put', collection, key: `good-${i}`, value: i },
              { op: 'put', collection, key: 'taken', value: i, mustNotExist: true },
            ]
          : [{ op: 'put', collection, key: `good-${i}`, value: i }],
      );
      const outcomes = await Promise.allSettled(ops.map((commit) => store().commit(commit)));
      equal(
        outcomes.map((o) => o.status),
        ops.map((_, i) => (i % 5 === 0 ? 'rejected' : 'fulfilled')),
      );
      const page = await store().list(collection, { prefix: 'good-', limit: 1000 });
      assert.equal(page.items.length, 40);
      assert.equal((await store().get(collection, 'taken'))?.value, 0);
    });

    it('read-compute-commit with retryOnConflict loses no update', async () => {
      const collection = unique('retry');
      await store().commit([{ op: 'put', collection, key: 'k', value: { list: [] } }]);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          retryOnConflict(
            async () => {
              const current = await store().get(collection, 'k');
              const list = [...((current?.value ?? { list: [] }) as { list: number[] }).list, i];
              await store().commit([
                {
                  op: 'put',
                  collection,
                  key: 'k',
                  value: { list },
                  expectedVersion: current?.version as number,
                },
              ]);
            },
            { attempts: 100 },
          ),
        ),
      );
      const final = (await store().get(collection, 'k'))?.value as { list: number[] };
      equal(
        [...final.list].sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i),
      );
    });
  });
}
