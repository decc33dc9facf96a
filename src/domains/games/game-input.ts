/**
 * Checks of what callers hand the games domain. The HTTP schemas check the same shapes first; the
 * library checks again, because Node game servers call it directly.
 */

import { assertJsonValue, checkedCopy, withJsonText } from '../../engine/json.js';
import { codePointLength } from '../../engine/text.js';
import type { EventInput, JsonObject, JsonValue } from '../../engine/types.js';
import { invalidInput } from '../../errors.js';
import { assertId, type GameStatus, isJsonObject } from './game-record.js';

export const MAX_PLAYERS = 1000;
export const MAX_EVENT_TYPE_LENGTH = 200;
export const MAX_EVENTS = 10_000;

/** Not a type guard on purpose: narrowing a typed input to `JsonObject` would lose its field types. */
export const isObject = (value: unknown): boolean => isJsonObject(value);

export function assertWholeNumber(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalidInput(`${what} must be an integer >= 0`);
}

export function assertState(value: unknown, what: string): asserts value is JsonObject {
  if (!isJsonObject(value)) throw invalidInput(`${what} must be a JSON object`);
  assertJsonValue(value, what);
}

/**
 * A snapshot checked and copied in one walk (the caller may go on changing its own), and
 * serialized once: the record that stores it reuses that text (see `storedGameToJson`).
 */
export function checkedState(value: unknown, what: string): JsonObject {
  if (!isJsonObject(value)) throw invalidInput(`${what} must be a JSON object`);
  const copy = checkedCopy(value, what) as JsonObject;
  return withJsonText(copy, JSON.stringify(copy));
}

/**
 * {@link assertEvents}, answering copies of the events (data `null` when left out), each checked as
 * it is copied and serialized once (the append stores that text).
 */
export function checkedEvents(value: unknown): Array<{ readonly type: string; readonly data: JsonValue }> {
  assertEventShapes(value);
  return value.map(({ type, data }, index) => {
    if (data === undefined) return { type, data: null };
    const copy = checkedCopy(data, `event ${index} data`);
    return {
      type,
      data: typeof copy === 'object' && copy !== null ? withJsonText(copy, JSON.stringify(copy)) : copy,
    };
  });
}

export function assertPhase(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || codePointLength(value) > 200)
    throw invalidInput('phase must be a string of 1-200 characters');
}

export function assertPlayers(value: unknown): asserts value is readonly string[] {
  if (!Array.isArray(value) || value.length > MAX_PLAYERS)
    throw invalidInput(`players must be a list of at most ${MAX_PLAYERS} player ids`);
  for (const player of value) assertId(player, 'each player id');
  if (new Set(value).size !== value.length) throw invalidInput('players must not repeat an id');
}

export function assertStatus(value: unknown): asserts value is GameStatus {
  if (value !== 'active' && value !== 'completed')
    throw invalidInput('status must be "active" or "completed"');
}

export function assertEvents(value: unknown): asserts value is readonly EventInput[] {
  assertEventShapes(value);
  value.forEach((event, index) => {
    if (event.data !== undefined) assertJsonValue(event.data, `event ${index} data`);
  });
}

/** The list and each event's type, but not the data. */
function assertEventShapes(value: unknown): asserts value is readonly EventInput[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EVENTS)
    throw invalidInput(`events must be a list of 1 to ${MAX_EVENTS} events`);
  value.forEach((event: unknown, index) => {
    if (!isJsonObject(event)) throw invalidInput(`event ${index} must be an object { type, data? }`);
    const type = event.type;
    if (typeof type !== 'string' || type.length === 0 || codePointLength(type) > MAX_EVENT_TYPE_LENGTH)
      throw invalidInput(`event ${index} type must be a string of 1-${MAX_EVENT_TYPE_LENGTH} characters`);
  });
}
