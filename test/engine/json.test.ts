/**
 * The engine's JSON checks: `checkedCopy` refuses exactly what `assertJsonValue` refuses, with the
 * same messages, and copies the rest; a value given its text with `withJsonText` is stored as that
 * text, under the same size limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { assertJsonValue, checkedCopy, MAX_JSON_DEPTH, withJsonText } from '../../src/engine/json.js';
import { Store } from '../../src/engine/store.js';
import type { JsonObject } from '../../src/engine/types.js';
import { isSavepointError } from '../../src/errors.js';

/** The message `check` throws, or `undefined` when it accepts the value. */
function refusal(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (!isSavepointError(error, 'INVALID_INPUT')) throw error;
    return error.message;
  }
}

/** `levels` arrays and objects, one inside the other. */
const nested = (levels: number): unknown =>
  levels === 0 ? 1 : levels % 2 === 0 ? [nested(levels - 1)] : { a: nested(levels - 1) };
const cyclic: Record<string, unknown> = { a: { b: [1] } };
(cyclic.a as Record<string, unknown>).self = cyclic;

describe('checkedCopy', () => {
  it.each([
    ['NaN in an array', { a: [1, Number.NaN] }],
    ['Infinity in an object', { a: { b: Number.POSITIVE_INFINITY } }],
    ['a cycle', cyclic],
    ['a class instance', { at: new Date(0) }],
    ['a function', { f: () => 1 }],
    ['a bigint', { n: [{ m: 1n }] }],
    ['undefined in an array', [1, undefined, { x: Symbol('s') }]],
    ['too deep', nested(MAX_JSON_DEPTH + 1)],
  ])('refuses %s with the message assertJsonValue gives', (_name, value) => {
    const message = refusal(() => assertJsonValue(value, 'state'));
    expect(message).toBeDefined();
    expect(refusal(() => checkedCopy(value, 'state'))).toBe(message);
  });

  it('copies what it accepts: equal, not shared, undefined properties left out, __proto__ kept as data', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const copy = checkedCopy(value, 'v');
        expect(copy).toEqual(JSON.parse(JSON.stringify(value)));
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
    );
    const withProto = JSON.parse('{"__proto__": {"x": 1}, "y": {"z": 2}}') as JsonObject;
    const copy = checkedCopy(withProto, 'v') as JsonObject;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(withProto));
    expect(copy.y).not.toBe(withProto.y);
    expect(checkedCopy({ a: undefined, b: 1 }, 'v')).toEqual({ b: 1 });
    expect(checkedCopy(nested(MAX_JSON_DEPTH), 'v')).toEqual(nested(MAX_JSON_DEPTH));
  });
});

describe('withJsonText', () => {
  it('stores the text the value was given, and the size limit still applies to it', async () => {
    const store = new Store(await openMemoryDriver(), { maxValueBytes: 64 });
    try {
      const value = withJsonText({ a: 1 }, '{"a":1}');
      await store.commit([{ op: 'put', collection: 'c', key: 'k', value }]);
      expect((await store.get('c', 'k'))?.value).toEqual({ a: 1 });
      const big = 'x'.repeat(100);
      const refused = store.commit([
        { op: 'put', collection: 'c', key: 'big', value: withJsonText({ big }, JSON.stringify({ big })) },
      ]);
      await expect(refused).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    } finally {
      await store.close();
    }
  });
});
