/**
 * The few assertions the conformance suite needs beyond `node:assert/strict`, with Vitest's
 * meanings kept exactly, so the suite runs under any test runner and needs no `expect`:
 * - `equal` is `toEqual`: deep, `Object.is` on primitives, properties holding `undefined` ignored,
 *   prototypes not compared;
 * - `matchObject` is `toMatchObject`: the expected properties only, arrays element by element;
 * - `like` is `expect.objectContaining` inside either.
 */
import assert from 'node:assert/strict';
import { type ErrorCode, SavepointError } from '../errors.js';

const LIKE = Symbol('like');

interface Like {
  readonly [LIKE]: Readonly<Record<string, unknown>>;
}

/** Matches any object that has these properties, each equal to the given value (other properties allowed). */
export function like(properties: Readonly<Record<string, unknown>>): never {
  return { [LIKE]: properties } satisfies Like as never;
}

function isLike(value: unknown): value is Like {
  return typeof value === 'object' && value !== null && LIKE in value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function definedKeys(value: Record<string, unknown>): string[] {
  return Object.keys(value).filter((key) => value[key] !== undefined);
}

function sameClass(actual: unknown, expected: unknown): boolean {
  return Object.prototype.toString.call(actual) === Object.prototype.toString.call(expected);
}

function containing(actual: unknown, properties: Readonly<Record<string, unknown>>): boolean {
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.keys(properties).every(
    (key) => key in actual && equals((actual as Record<string, unknown>)[key], properties[key]),
  );
}

/** `toEqual`'s equality. */
function equals(actual: unknown, expected: unknown): boolean {
  if (isLike(expected)) return containing(actual, expected[LIKE]);
  if (Object.is(actual, expected)) return true;
  if (typeof actual !== 'object' || typeof expected !== 'object' || actual === null || expected === null)
    return false;
  if (!sameClass(actual, expected)) return false;
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.length === expected.length && actual.every((item, index) => equals(item, expected[index]));
  }
  const a = actual as Record<string, unknown>;
  const b = expected as Record<string, unknown>;
  const keys = definedKeys(b);
  return definedKeys(a).length === keys.length && keys.every((key) => equals(a[key], b[key]));
}

/** `toMatchObject`'s equality. */
function matches(actual: unknown, expected: unknown): boolean {
  if (isLike(expected)) return containing(actual, expected[LIKE]);
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      actual.every((item, index) => matches(item, expected[index]))
    );
  }
  if (isPlainObject(expected) && !(expected instanceof Error)) {
    // As in Vitest, an expected object without properties matches whatever is there, even null.
    return Object.keys(expected).every(
      (key) =>
        actual !== null &&
        actual !== undefined &&
        key in Object(actual) &&
        matches((actual as Record<string, unknown>)[key], expected[key]),
    );
  }
  return equals(actual, expected);
}

function fail(actual: unknown, expected: unknown, operator: string, message: string | undefined): never {
  throw new assert.AssertionError({
    actual,
    expected,
    operator,
    message: message ?? `Expected values to be ${operator === 'matchObject' ? 'alike' : 'equal'}`,
  });
}

/** Asserts `actual` deeply equals `expected` (Vitest's `toEqual`). */
export function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!equals(actual, expected)) fail(actual, expected, 'deepEqual', message);
}

/** Asserts `actual` has `expected`'s properties, recursively (Vitest's `toMatchObject`). */
export function matchObject(actual: unknown, expected: unknown, message?: string): void {
  const comparable = typeof actual === 'object' && actual !== null;
  if (!comparable || !matches(actual, expected)) fail(actual, expected, 'matchObject', message);
}

/** Asserts some item of `items` equals `expected` (Vitest's `toContainEqual`). */
export function containEqual(items: readonly unknown[], expected: unknown, message?: string): void {
  if (!items.some((item) => equals(item, expected))) fail(items, expected, 'containEqual', message);
}

/** Awaits `promise` and asserts it rejects with exactly `error` (the same object). */
export async function rejectsWith(promise: Promise<unknown>, error: unknown): Promise<void> {
  await assert.rejects(promise, (caught: unknown) => {
    assert.equal(caught, error);
    return true;
  });
}

/** Awaits `promise`, asserts it rejects with a catalog error of `code`, and returns that error. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<SavepointError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SavepointError, `expected a ${code} error, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}
