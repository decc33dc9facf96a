import { describe, expect, it } from 'vitest';
import { retryOnConflict } from '../../src/engine/retry.js';
import type { CommitOp } from '../../src/engine/types.js';
import type { ConformanceContext } from './context.js';
import { expectCode } from './expect-code.js';

export function commitTests({ store, unique }: ConformanceContext): void {
  describe('conditions', () => {
    it('expectedVersion must match the stored version', async () => {
      const collection = unique('cond');
      await store().commit([{ op: 'put', collection, key: 'k', value: 1 }]);
      await store().commit([{ op: 'put', collection, key: 'k', value: 2, expectedVersion: 1 }]);
      const error = await expectCode(
        store().commit([{ op: 'put', collection, key: 'k', value: 3, expectedVersion: 1 }]),
        'VERSION_CONFLICT',
      );
      expect(error.details.opIndex).toBe(0);
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
      expect(await store().get(collection, 'k')).toMatchObject({ value: 2, version: 2 });
    });

    it('mustNotExist creates only once', async () => {
      const collection = unique('once');
      await store().commit([{ op: 'put', collection, key: 'k', value: 'first', mustNotExist: true }]);
      await expectCode(
        store().commit([{ op: 'put', collection, key: 'k', value: 'second', mustNotExist: true }]),
        'VERSION_CONFLICT',
      );
      expect((await store().get(collection, 'k'))?.value).toBe('first');
    });

    it('names the failing op and applies nothing of the commit', async () => {
      const collection = unique('atomic');
      const stream = unique('stream');
      const board = unique('board');
      await store().commit([{ op: 'put', collection, key: 'existing', value: { n: 1 } }]);
      const error = await expectCode(
        store().commit([
          { op: 'put', collection, key: 'new', value: 'should vanish' },
          { op: 'patch', collection, key: 'existing', patch: { $inc: { n: 1 } }, upsert: true },
          { op: 'append', stream, events: [{ type: 'x' }] },
          { op: 'score', board, member: 'm', score: 10, mode: 'set' },
          { op: 'delete', collection, key: 'existing' },
          { op: 'put', collection, key: 'new', value: 'conflict', mustNotExist: true },
        ]),
        'VERSION_CONFLICT',
      );
      expect(error.details.opIndex).toBe(5);
      expect(await store().get(collection, 'new')).toBeUndefined();
      expect(await store().get(collection, 'existing')).toMatchObject({ value: { n: 1 }, version: 1 });
      expect(await store().streamHead(stream)).toBe(0);
      expect(await store().boardMember(board, 'm')).toBeUndefined();
    });

    it('sees its own earlier ops within one commit', async () => {
      const collection = unique('seq');
      const result = await store().commit([
        { op: 'put', collection, key: 'k', value: { n: 1 }, mustNotExist: true },
        { op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } }, expectedVersion: 1 },
        { op: 'patch', collection, key: 'k', patch: { $inc: { n: 1 } }, expectedVersion: 2 },
      ]);
      expect(result.results[2]).toMatchObject({ document: { version: 3, value: { n: 3 } } });
      expect(await store().get(collection, 'k')).toMatchObject({ version: 3, value: { n: 3 } });
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
      expect(result.results[0]).toMatchObject({
        op: 'patch',
        created: false,
        document: { version: 2, value: expected },
      });
      expect((await store().get(collection, 'k'))?.value).toEqual(expected);
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
      expect(created.results[0]).toMatchObject({ created: true, document: { version: 1, value: { n: 1 } } });
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
      expect(await store().get(collection, 'k')).toMatchObject({
        version: 1,
        value: { n: 'text', list: 1, obj: 5 },
      });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
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
      expect(document?.value).toEqual({ n: 200, total: (199 * 200) / 2 });
      expect(document?.version).toBe(200);
    });

    it('100 concurrent create-if-absent commits have exactly one winner', async () => {
      const collection = unique('race');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 100 }, (_, i) =>
          store().commit([{ op: 'put', collection, key: 'seat', value: { holder: i }, mustNotExist: true }]),
        ),
      );
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'VERSION_CONFLICT' });
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
      expect(outcomes.map((o) => o.status)).toEqual(
        ops.map((_, i) => (i % 5 === 0 ? 'rejected' : 'fulfilled')),
      );
      const page = await store().list(collection, { prefix: 'good-', limit: 1000 });
      expect(page.items).toHaveLength(40);
      expect((await store().get(collection, 'taken'))?.value).toBe(0);
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
      expect([...final.list].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });
  });
}
