/**
 * The suite's own assertions mean what Vitest's did when the suite used `expect`: for each pair,
 * `equal`, `matchObject` and `containEqual` fail exactly when `toEqual`, `toMatchObject` and
 * `toContainEqual` do, `like` standing for `expect.objectContaining`.
 */
import { describe, expect, it } from 'vitest';
import { SavepointError } from '../../src/errors.js';
import { containEqual, equal, expectCode, like, matchObject } from '../../src/testing/assertions.js';

const nullPrototype = Object.assign(Object.create(null) as object, { a: 1 });

/** [actual, expected]: equal and unequal, deep and shallow, with the corners toEqual has. */
const pairs: Array<[unknown, unknown]> = [
  [1, 1],
  [1, 2],
  [0, -0],
  [Number.NaN, Number.NaN],
  ['a', 'a'],
  [null, undefined],
  [undefined, undefined],
  [{ a: 1 }, { a: 1 }],
  [{ a: 1, b: undefined }, { a: 1 }],
  [{ a: 1 }, { a: 1, b: undefined }],
  [{ a: 1, b: 2 }, { a: 1 }],
  [{ a: 1 }, { a: 1, b: 2 }],
  [nullPrototype, { a: 1 }],
  [
    [1, 2],
    [1, 2],
  ],
  [
    [1, 2],
    [1, 2, 3],
  ],
  [
    [1, 2, 3],
    [1, 2],
  ],
  [[], {}],
  [{ a: [{ b: 1, c: 2 }] }, { a: [{ b: 1 }] }],
  [{ a: [{ b: 1 }] }, { a: [{ b: 1 }] }],
  [{ a: { b: { c: [1, { d: 'x' }] } } }, { a: { b: { c: [1, { d: 'x' }] } } }],
  [{ a: { b: { c: [1, { d: 'x' }] } } }, { a: { b: { c: [1, { d: 'y' }] } } }],
  [{ a: null }, { a: {} }],
  [{ a: {} }, { a: null }],
  [
    { documents: { x: 1 }, streams: 0 },
    { documents: {}, streams: 0 },
  ],
];

const containing: Array<[unknown, Record<string, unknown>]> = [
  [
    { kind: 'document', key: 'k', document: { v: 1 } },
    { kind: 'document', key: 'k' },
  ],
  [
    { kind: 'document', key: 'k' },
    { kind: 'document', key: 'other' },
  ],
  [
    { seq: 1, data: { n: 1, m: 2 } },
    { seq: 1, data: { n: 1 } },
  ],
  [{ seq: 1 }, { seq: 1, type: undefined }],
  [null, { a: 1 }],
];

function throws(check: () => void): boolean {
  try {
    check();
    return false;
  } catch {
    return true;
  }
}

describe('the conformance assertions', () => {
  it.each(pairs)(
    'equal and matchObject agree with toEqual and toMatchObject: %j vs %j',
    (actual, expected) => {
      expect(throws(() => equal(actual, expected))).toBe(throws(() => expect(actual).toEqual(expected)));
      if (typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected !== null)
        expect(throws(() => matchObject(actual, expected))).toBe(
          throws(() => expect(actual).toMatchObject(expected)),
        );
      expect(throws(() => containEqual([0, actual], expected))).toBe(
        throws(() => expect([0, actual]).toContainEqual(expected)),
      );
    },
  );

  it.each(containing)('like agrees with expect.objectContaining: %j has %j', (actual, properties) => {
    expect(throws(() => equal([actual], [like(properties)]))).toBe(
      throws(() => expect([actual]).toEqual([expect.objectContaining(properties)])),
    );
    expect(throws(() => matchObject({ x: actual }, { x: like(properties) }))).toBe(
      throws(() => expect({ x: actual }).toMatchObject({ x: expect.objectContaining(properties) })),
    );
  });

  it('fails some pairs and passes others, so the comparisons above are not vacuous', () => {
    expect(pairs.filter(([a, b]) => throws(() => equal(a, b))).length).toBeGreaterThan(5);
    expect(pairs.filter(([a, b]) => !throws(() => equal(a, b))).length).toBeGreaterThan(5);
  });

  it('expectCode passes on the code, and fails on another code, another error or none', async () => {
    const error = new SavepointError('NOT_FOUND', 'gone');
    expect(await expectCode(Promise.reject(error), 'NOT_FOUND')).toBe(error);
    await expect(expectCode(Promise.reject(error), 'VERSION_CONFLICT')).rejects.toThrow();
    await expect(expectCode(Promise.reject(new Error('plain')), 'NOT_FOUND')).rejects.toThrow(/NOT_FOUND/);
    await expect(expectCode(Promise.resolve(1), 'NOT_FOUND')).rejects.toThrow(/NOT_FOUND/);
  });
});
