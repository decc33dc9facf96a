import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockIndex } from '../../src/drivers/sqlite/block-index.js';

/** A plain model of the same blocks: low keys and counts, summed and searched the slow way. */
interface Model {
  los: Buffer[];
  counts: number[];
}

const keyOf = (n: number): Buffer => (n === 0 ? Buffer.alloc(0) : Buffer.from([n >> 8, n & 255]));

function expectSame(index: BlockIndex, model: Model): void {
  expect(index.size).toBe(model.los.length);
  let passed = 0;
  for (let i = 0; i < model.los.length; i++) {
    expect(index.lo(i)).toBe(model.los[i]);
    expect(index.count(i)).toBe(model.counts[i]);
    expect(index.before(i)).toBe(passed);
    const count = model.counts[i] as number;
    for (const offset of [passed, passed + count - 1]) {
      if (count > 0) expect(index.locate(offset)).toEqual({ index: i, first: passed });
    }
    expect(index.find(model.los[i] as Buffer)).toBe(i);
    passed += count;
  }
  expect(index.locate(passed)).toBeUndefined();
}

describe('BlockIndex', () => {
  it('finds, sums and locates as a plain scan does through adjustments, splits and merges', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ kind: fc.constantFrom('adjust', 'split', 'merge'), at: fc.nat(), amount: fc.nat(50) }),
          { maxLength: 60 },
        ),
        (steps) => {
          const model: Model = { los: [keyOf(0)], counts: [5] };
          const index = new BlockIndex([...model.los], [...model.counts]);
          let nextKey = 1;
          for (const step of steps) {
            const at = step.at % model.los.length;
            if (step.kind === 'adjust') {
              index.adjust(at, step.amount);
              model.counts[at] = (model.counts[at] as number) + step.amount;
            } else if (step.kind === 'split') {
              // New keys grow, so a block is only ever split after the last one (keys stay sorted).
              const last = model.los.length - 1;
              const lo = keyOf(nextKey++ * 16);
              index.split(last, step.amount, lo, 3);
              model.counts[last] = step.amount;
              model.los.push(lo);
              model.counts.push(3);
            } else if (at > 0) {
              index.merge(at, at - 1);
              model.counts[at - 1] = (model.counts[at - 1] as number) + (model.counts[at] as number);
              model.los.splice(at, 1);
              model.counts.splice(at, 1);
            }
            expectSame(index, model);
          }
        },
      ),
    );
  });

  it('puts a key between two low keys in the block of the lower one', () => {
    const index = new BlockIndex([keyOf(0), keyOf(10), keyOf(20)], [2, 3, 4]);
    expect(index.find(keyOf(9))).toBe(0);
    expect(index.find(keyOf(10))).toBe(1);
    expect(index.find(keyOf(15))).toBe(1);
    expect(index.find(keyOf(999))).toBe(2);
    expect(index.before(2)).toBe(5);
    expect(index.locate(4)).toEqual({ index: 1, first: 2 });
    expect(index.locate(9)).toBeUndefined();
  });
});
