import { invalidInput, SavepointError } from '../errors.js';
import type { JsonValue } from './types.js';

/** JSON nested deeper than this is refused (the HTTP contract's limit, applied everywhere). */
export const MAX_JSON_DEPTH = 64;

/**
 * Checks that `value` is plain JSON (finite numbers, no cycles, no `undefined` except as an object
 * property, which is left out as usual, no
 * functions, symbols, bigints or class instances other than plain objects and arrays) and at most
 * {@link MAX_JSON_DEPTH} deep. `JSON.stringify` alone would silently turn NaN into `null` and drop
 * `undefined`, which would store something other than what the caller sent.
 */
export function assertJsonValue(value: unknown, what: string): asserts value is JsonValue {
  const seen = new Set<object>();
  const visit = (node: unknown, path: string, depth: number): void => {
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(node))
          throw invalidInput(`${what}: ${path} is ${node}; only finite numbers are JSON`);
        return;
      case 'object': {
        if (node === null) return;
        if (depth >= MAX_JSON_DEPTH)
          throw invalidInput(`${what}: nested deeper than ${MAX_JSON_DEPTH} levels`);
        if (seen.has(node)) throw invalidInput(`${what}: ${path} refers back to itself (a cycle)`);
        seen.add(node);
        if (Array.isArray(node)) {
          for (let i = 0; i < node.length; i++) visit(node[i], `${path}[${i}]`, depth + 1);
        } else {
          const proto = Object.getPrototypeOf(node);
          if (proto !== Object.prototype && proto !== null) {
            throw invalidInput(
              `${what}: ${path} is a ${proto?.constructor?.name ?? 'non-plain'} object, not JSON`,
            );
          }
          for (const key in node) {
            const child = (node as Record<string, unknown>)[key];
            // An undefined property is left out, as JSON.stringify does; in an array it would become null.
            if (child !== undefined) visit(child, `${path}.${key}`, depth + 1);
          }
        }
        seen.delete(node);
        return;
      }
      default:
        throw invalidInput(`${what}: ${path} is ${typeof node}, which JSON cannot hold`);
    }
  };
  visit(value, '$', 0);
}

/**
 * A deep copy of a value that has passed {@link assertJsonValue} (so it has no cycles and a bounded
 * depth). `structuredClone` measured 3-4 times the cost of `JSON.stringify` on a 1 KB game state;
 * this walk is a fraction of it, and game writes copy every state they are handed.
 */
export function copyJson<T extends JsonValue>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) items[i] = copyJson(value[i] as JsonValue);
    return items as T;
  }
  const copy: { [key: string]: JsonValue } = {};
  for (const key in value) {
    const child = value[key];
    if (child === undefined) continue;
    // Assigning `__proto__` would set the copy's prototype instead of an own property, as JSON.parse makes.
    if (key === '__proto__')
      Object.defineProperty(copy, key, {
        value: copyJson(child),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else copy[key] = copyJson(child);
  }
  return copy as T;
}

/** Serializes a checked JSON value and enforces the size limit (counted in UTF-8 bytes). */
export function serializeJson(value: JsonValue, maxBytes: number, what: string): string {
  const json = JSON.stringify(value);
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit, so most values skip the exact count.
  if (json.length * 3 > maxBytes && Buffer.byteLength(json, 'utf8') > maxBytes) {
    throw new SavepointError(
      'PAYLOAD_TOO_LARGE',
      `${what} is ${Buffer.byteLength(json, 'utf8')} bytes serialized; the limit is ${maxBytes}`,
      { details: { limit: maxBytes } },
    );
  }
  return json;
}

/** Parses JSON read back from storage; a failure means the stored bytes were damaged. */
export function parseStoredJson(json: string, where: string): JsonValue {
  try {
    return JSON.parse(json) as JsonValue;
  } catch (cause) {
    throw new SavepointError('CORRUPT_DATA', `Stored record ${where} is not valid JSON; it cannot be read`, {
      cause,
    });
  }
}
