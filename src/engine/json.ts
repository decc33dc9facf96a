import { invalidInput, SavepointError } from '../errors.js';
import type { JsonObject, JsonValue } from './types.js';

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

/**
 * {@link assertJsonValue} and {@link copyJson} in one walk: the copy of a value the caller may go on
 * changing, checked as it is copied. Throws what `assertJsonValue` throws, with the same messages.
 */
export function checkedCopy(value: unknown, what: string): JsonValue {
  const seen = new Set<object>();
  // The path is built only for a message: building it at every node cost more than the walk itself.
  const keys: Array<string | number> = [];
  const path = (last?: string | number): string => {
    let text = '$';
    for (const key of last === undefined ? keys : [...keys, last])
      text += typeof key === 'number' ? `[${key}]` : `.${key}`;
    return text;
  };
  const visit = (node: unknown, depth: number, key: string | number | undefined): JsonValue => {
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return node;
      case 'number':
        if (!Number.isFinite(node))
          throw invalidInput(`${what}: ${path(key)} is ${node}; only finite numbers are JSON`);
        // JSON has no -0 (it is written "0"): the copy holds what a read of the stored text gives.
        return node === 0 ? 0 : node;
      case 'object': {
        if (node === null) return null;
        if (depth >= MAX_JSON_DEPTH)
          throw invalidInput(`${what}: nested deeper than ${MAX_JSON_DEPTH} levels`);
        if (seen.has(node)) throw invalidInput(`${what}: ${path(key)} refers back to itself (a cycle)`);
        seen.add(node);
        if (key !== undefined) keys.push(key);
        let copy: JsonValue;
        if (Array.isArray(node)) {
          const items = new Array<JsonValue>(node.length);
          for (let i = 0; i < node.length; i++) items[i] = visit(node[i], depth + 1, i);
          copy = items;
        } else {
          const proto = Object.getPrototypeOf(node);
          if (proto !== Object.prototype && proto !== null) {
            throw invalidInput(
              `${what}: ${path()} is a ${proto?.constructor?.name ?? 'non-plain'} object, not JSON`,
            );
          }
          const object: { [key: string]: JsonValue } = {};
          for (const name in node) {
            const child = (node as Record<string, unknown>)[name];
            // An undefined property is left out, as JSON.stringify does; in an array it would become null.
            if (child === undefined) continue;
            const item = visit(child, depth + 1, name);
            // Assigning `__proto__` would set the copy's prototype instead of an own property, as JSON.parse makes.
            if (name === '__proto__')
              Object.defineProperty(object, name, {
                value: item,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            else object[name] = item;
          }
          copy = object;
        }
        if (key !== undefined) keys.pop();
        seen.delete(node);
        return copy;
      }
      default:
        throw invalidInput(`${what}: ${path(key)} is ${typeof node}, which JSON cannot hold`);
    }
  };
  return visit(value, 0, undefined);
}

/**
 * The texts of values built around JSON already checked and serialized (a game's snapshot inside
 * its record, say), by value: a put of such a value, or an event with it as data, stores its text
 * as it is instead of checking and serializing the value again. Only the size limit still applies.
 */
const knownTexts = new WeakMap<object, string>();

/**
 * Gives `value` its serialization `json`. The caller vouches that `json` is `JSON.stringify` of
 * `value` and that both passed the checks of {@link assertJsonValue}, and that nothing changes
 * `value` afterwards (it is a copy the caller owns, or built for one commit).
 */
export function withJsonText<T extends JsonObject | JsonValue[]>(value: T, json: string): T {
  knownTexts.set(value, json);
  return value;
}

/** The text {@link withJsonText} gave `value`, if any. */
export function jsonTextOf(value: JsonValue): string | undefined {
  return typeof value === 'object' && value !== null ? knownTexts.get(value) : undefined;
}

/** Enforces the size limit on a serialized value (counted in UTF-8 bytes). */
export function assertJsonSize(json: string, maxBytes: number, what: string): string {
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

/** Serializes a checked JSON value and enforces the size limit (counted in UTF-8 bytes). */
export function serializeJson(value: JsonValue, maxBytes: number, what: string): string {
  return assertJsonSize(JSON.stringify(value), maxBytes, what);
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
