import { invalidInput } from '../errors.js';
import { assertJsonValue } from './json.js';
import type { JsonObject, JsonValue, Patch } from './types.js';

const OPERATORS = ['$set', '$unset', '$inc', '$max', '$min', '$push'] as const;
type Operator = (typeof OPERATORS)[number];

/** Path segments that would reach into an object's prototype instead of its data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

function splitPath(path: string): string[] {
  const segments = path.split('.');
  if (path.length === 0 || segments.some((s) => s.length === 0)) {
    throw invalidInput(`Patch path "${path}" is empty or has an empty segment`);
  }
  for (const segment of segments) {
    if (FORBIDDEN_SEGMENTS.has(segment))
      throw invalidInput(`Patch path "${path}" uses the reserved name "${segment}"`);
  }
  return segments;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a patch's shape before it reaches a driver, so a bad patch never opens a transaction. */
export function assertPatch(patch: unknown): asserts patch is Patch {
  if (!isPlainObject(patch))
    throw invalidInput('A patch must be an object of operators such as { "$inc": { "wins": 1 } }');
  const seenPaths = new Map<string, Operator>();
  for (const name of Object.keys(patch)) {
    if (!(OPERATORS as readonly string[]).includes(name)) {
      throw invalidInput(`Unknown patch operator "${name}"; use one of ${OPERATORS.join(', ')}`);
    }
    const operator = name as Operator;
    const fields = patch[operator];
    if (!isPlainObject(fields))
      throw invalidInput(`Patch operator ${operator} takes an object of { path: value }`);
    for (const [path, operand] of Object.entries(fields)) {
      splitPath(path);
      const earlier = seenPaths.get(path);
      if (earlier !== undefined)
        throw invalidInput(`Patch path "${path}" appears in both ${earlier} and ${operator}`);
      seenPaths.set(path, operator);
      if (operator === '$inc' || operator === '$max' || operator === '$min') {
        if (typeof operand !== 'number' || !Number.isFinite(operand)) {
          throw invalidInput(
            `${operator} "${path}" needs a finite number, got ${JSON.stringify(operand) ?? String(operand)}`,
          );
        }
      } else if (operator === '$push' && isPlainObject(operand) && '$each' in operand) {
        if (!Array.isArray(operand.$each)) throw invalidInput(`$push "${path}" { $each } needs an array`);
        assertJsonValue(operand.$each, `$push "${path}"`);
      } else if (operator !== '$unset') {
        assertJsonValue(operand, `${operator} "${path}"`);
      }
    }
  }
}

/** Walks to the object holding the path's last segment, creating missing objects on the way. */
function parentOf(
  root: JsonObject,
  segments: readonly string[],
  path: string,
  create: boolean,
): JsonObject | undefined {
  let node: JsonObject = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    const next = node[segment];
    if (next === undefined) {
      if (!create) return undefined;
      const fresh: JsonObject = {};
      node[segment] = fresh;
      node = fresh;
    } else if (isPlainObject(next)) {
      node = next;
    } else {
      throw invalidInput(`Patch path "${path}" goes through "${segment}", which is not an object`);
    }
  }
  return node;
}

function numberAt(parent: JsonObject, field: string, path: string, operator: Operator): number | undefined {
  const current = parent[field];
  if (current === undefined) return undefined;
  if (typeof current !== 'number')
    throw invalidInput(`${operator} "${path}": the current value is not a number`);
  return current;
}

/**
 * Applies a patch to `current` (or to `{}` when it is undefined) and returns it. `current` is
 * changed in place: drivers pass a value freshly parsed from storage and discard it if this throws,
 * so no copy is needed on the hot path. The result is serialized at once, so it may share operand
 * values with `patch`.
 */
export function applyPatch(current: JsonValue | undefined, patch: Patch): JsonObject {
  if (current !== undefined && !isPlainObject(current)) {
    throw invalidInput('Only documents whose value is an object can be patched');
  }
  const result: JsonObject = current === undefined ? {} : current;
  for (const [path, value] of Object.entries(patch.$set ?? {})) {
    const segments = splitPath(path);
    const parent = parentOf(result, segments, path, true) as JsonObject;
    parent[segments.at(-1) as string] = value;
  }
  for (const path of Object.keys(patch.$unset ?? {})) {
    const segments = splitPath(path);
    const parent = parentOf(result, segments, path, false);
    if (parent !== undefined) delete parent[segments.at(-1) as string];
  }
  for (const [path, amount] of Object.entries(patch.$inc ?? {})) {
    const segments = splitPath(path);
    const parent = parentOf(result, segments, path, true) as JsonObject;
    const field = segments.at(-1) as string;
    const sum = (numberAt(parent, field, path, '$inc') ?? 0) + amount;
    if (!Number.isFinite(sum)) throw invalidInput(`$inc "${path}" overflows to a non-finite number`);
    parent[field] = sum;
  }
  for (const operator of ['$max', '$min'] as const) {
    for (const [path, candidate] of Object.entries(patch[operator] ?? {})) {
      const segments = splitPath(path);
      const parent = parentOf(result, segments, path, true) as JsonObject;
      const field = segments.at(-1) as string;
      const existing = numberAt(parent, field, path, operator);
      const better =
        operator === '$max' ? candidate > (existing ?? -Infinity) : candidate < (existing ?? Infinity);
      if (better) parent[field] = candidate;
    }
  }
  for (const [path, operand] of Object.entries(patch.$push ?? {})) {
    const segments = splitPath(path);
    const parent = parentOf(result, segments, path, true) as JsonObject;
    const field = segments.at(-1) as string;
    const existing = parent[field];
    if (existing !== undefined && !Array.isArray(existing))
      throw invalidInput(`$push "${path}": the current value is not an array`);
    const items: readonly JsonValue[] =
      isPlainObject(operand) && Array.isArray(operand.$each) ? operand.$each : [operand as JsonValue];
    parent[field] = [...(existing ?? []), ...items];
  }
  return result;
}
