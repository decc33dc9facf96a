/**
 * Structural deltas between two JSON values: what must be set or removed, by path, to turn one
 * into the other. Game history stores one delta per version instead of a full copy, since a game
 * action changes a few fields of a state that is otherwise the same.
 *
 * A delta is a list of changes. `[path, value]` sets the value at `path`; `[path]` removes it.
 * Paths are arrays of object keys, so keys may hold any character (a dot path could not tell
 * `"a.b"` from `a` → `b`). Arrays are compared whole and replaced whole when they differ: game
 * states keep small arrays, and an index-level delta would cost more than it saves.
 */
import type { JsonObject, JsonValue } from './types.js';

/** Mutable tuples, so that a delta is itself a JSON value and can be stored as one. */
export type DeltaChange = [path: string[], value: JsonValue] | [path: string[]];
export type JsonDelta = readonly DeltaChange[];

const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether two JSON values are equal, ignoring the order of object keys. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] as JsonValue, b[i] as JsonValue)) return false;
    return true;
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key) || !jsonEqual(a[key] as JsonValue, b[key] as JsonValue)) return false;
  }
  return true;
}

/** The changes that turn the object `from` into the object `to`. Empty when they are equal. */
export function diffJson(from: JsonObject, to: JsonObject): DeltaChange[] {
  const changes: DeltaChange[] = [];
  const visit = (a: JsonObject, b: JsonObject, path: string[]): void => {
    for (const key of Object.keys(b)) {
      const next = b[key] as JsonValue;
      if (!Object.hasOwn(a, key)) {
        changes.push([[...path, key], next]);
        continue;
      }
      const previous = a[key] as JsonValue;
      if (isObject(previous) && isObject(next)) visit(previous, next, [...path, key]);
      else if (!jsonEqual(previous, next)) changes.push([[...path, key], next]);
    }
    for (const key of Object.keys(a)) if (!Object.hasOwn(b, key)) changes.push([[...path, key]]);
  };
  visit(from, to, []);
  return changes;
}

/**
 * `base` with `delta` applied. `base` is not changed: objects along each changed path are copied,
 * the rest is shared, so the result must be treated as read-only like `base`.
 */
export function applyJsonDelta(base: JsonObject, delta: JsonDelta): JsonObject {
  const root: JsonObject = { ...base };
  for (const change of delta) {
    const [path] = change;
    if (path.length === 0) continue;
    let parent = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i] as string;
      const child = parent[key];
      const copy: JsonObject = isObject(child) ? { ...child } : {};
      define(parent, key, copy);
      parent = copy;
    }
    const last = path[path.length - 1] as string;
    if (change.length === 2) define(parent, last, change[1]);
    else delete parent[last];
  }
  return root;
}

/** Sets an own property, `__proto__` included, as `JSON.parse` would make it. */
function define(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Whether a stored value has the shape of a {@link JsonDelta}. */
export function isJsonDelta(value: JsonValue | undefined): value is DeltaChange[] {
  return (
    Array.isArray(value) &&
    value.every(
      (change) =>
        Array.isArray(change) &&
        (change.length === 1 || change.length === 2) &&
        Array.isArray(change[0]) &&
        change[0].every((key) => typeof key === 'string'),
    )
  );
}
