/**
 * Property tests against a plain model, with fast-check. fast-check is an optional peer dependency
 * of `savepoint/testing` (its shrinking turns a failure into the smallest commit sequence that
 * shows it, which is what a driver author needs), loaded only when this group runs; without it the
 * group fails saying so, unless `skip: ['properties']` leaves it out.
 */
import assert from 'node:assert/strict';
import type * as FastCheck from 'fast-check';
import type { BoardOrder, JsonObject } from '../engine/types.js';
import { equal } from './assertions.js';
import { modelRanking } from './boards.js';
import type { ConformanceContext } from './context.js';

type Fc = typeof FastCheck;

async function loadFastCheck(): Promise<Fc> {
  try {
    const loaded = (await import('fast-check')) as Fc & { readonly default?: Fc };
    return loaded.default ?? loaded;
  } catch (error) {
    throw new Error(
      "the conformance property tests need fast-check: npm install --save-dev fast-check, or pass skip: ['properties']",
      { cause: error },
    );
  }
}

/** The patch operators on flat numeric fields, modelled plainly. */
const numericPatch = (fc: Fc) => {
  const field = fc.constantFrom('a', 'b', 'c', 'n.x', 'n.y');
  return fc
    .record(
      {
        $inc: fc.dictionary(field, fc.integer({ min: -100, max: 100 }), { maxKeys: 2 }),
        $max: fc.dictionary(field, fc.integer({ min: -100, max: 100 }), { maxKeys: 2 }),
        $min: fc.dictionary(field, fc.integer({ min: -100, max: 100 }), { maxKeys: 2 }),
        $set: fc.dictionary(field, fc.integer({ min: -100, max: 100 }), { maxKeys: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((patch) => {
      // One path per patch: a path under two operators is refused by design.
      const used = new Set<string>();
      const result: Record<string, Record<string, number>> = {};
      for (const [operator, fields] of Object.entries(patch)) {
        for (const [path, value] of Object.entries(fields)) {
          if (used.has(path)) continue;
          used.add(path);
          result[operator] = { ...result[operator], [path]: value };
        }
      }
      return result;
    });
};

function modelApply(state: Map<string, number>, patch: Record<string, Record<string, number>>): void {
  for (const [path, value] of Object.entries(patch.$set ?? {})) state.set(path, value);
  for (const [path, value] of Object.entries(patch.$inc ?? {}))
    state.set(path, (state.get(path) ?? 0) + value);
  for (const [path, value] of Object.entries(patch.$max ?? {}))
    state.set(path, Math.max(state.get(path) ?? -Infinity, value));
  for (const [path, value] of Object.entries(patch.$min ?? {}))
    state.set(path, Math.min(state.get(path) ?? Infinity, value));
}

function read(value: JsonObject, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
}

export function propertyTests({ store, clock, unique, runs, describe, it }: ConformanceContext): void {
  describe('properties (fast-check)', () => {
    it('patch operators agree with a model', async () => {
      const fc = await loadFastCheck();
      await fc.assert(
        fc.asyncProperty(fc.array(numericPatch(fc), { minLength: 1, maxLength: 8 }), async (patches) => {
          const collection = unique('prop');
          const model = new Map<string, number>();
          for (const patch of patches) {
            await store().commit([{ op: 'patch', collection, key: 'k', patch, upsert: true }]);
            modelApply(model, patch);
          }
          const stored = (await store().get(collection, 'k'))?.value as JsonObject;
          for (const [path, value] of model) assert.equal(read(stored, path), value);
          assert.equal((await store().get(collection, 'k'))?.version, patches.length);
        }),
        { numRuns: 40 },
      );
    });

    // Reported skipped with the boards group when a driver leaves boards out.
    if (!runs('boards')) return;
    it('board ranks agree with a sort, for both orders and any mix of ties', async () => {
      const fc = await loadFastCheck();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<BoardOrder>('desc', 'asc'),
          fc.array(
            fc.record({
              member: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'é', '🎲', 'ab'),
              score: fc.oneof(
                fc.integer({ min: -3, max: 3 }),
                fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
              ),
              tick: fc.boolean(),
            }),
            { minLength: 1, maxLength: 30 },
          ),
          async (order, writes) => {
            const board = unique('propboard');
            const model = new Map<string, { member: string; score: number; reachedAt: number }>();
            for (const write of writes) {
              if (write.tick) clock.advance(1);
              await store().commit([
                { op: 'score', board, member: write.member, score: write.score, mode: 'set', order },
              ]);
              const previous = model.get(write.member);
              const score = write.score === 0 ? 0 : write.score;
              const changed = previous === undefined || previous.score !== score;
              model.set(write.member, {
                member: write.member,
                score,
                reachedAt: changed ? clock.now() : previous.reachedAt,
              });
            }
            const expected = modelRanking(order, [...model.values()]);
            equal(
              (await store().boardRange(board, { limit: 100 })).map((e) => e.member),
              expected,
            );
            for (const [index, member] of expected.entries()) {
              assert.equal((await store().boardMember(board, member))?.rank, index + 1);
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
