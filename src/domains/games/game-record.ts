/**
 * The stored shape of a game and its public views. One `game` document per game holds the latest
 * snapshot; its event log is the stream `game:{gameId}`. `lastSeq` in the document is the stream
 * head the snapshot reflects: both move in the same commit, so they always agree.
 */
import { jsonTextOf, withJsonText } from '../../engine/json.js';
import type { JsonObject, JsonValue, StoredDocument, StreamEvent } from '../../engine/types.js';
import { invalidInput, SavepointError } from '../../errors.js';

/** Collection of game snapshots, keyed by game id. */
export const GAME_COLLECTION = 'game';
/** Collection of reconnect tokens, keyed by {@link seatKey}. */
export const TOKEN_COLLECTION = 'game-token';
/** Collection of failed-reconnect counters (short-lived), keyed by {@link seatKey}. */
export const FAILURE_COLLECTION = 'game-reconnect-failures';

/** The event stream of a game. */
export const streamOf = (gameId: string): string => `game:${gameId}`;

/**
 * The key of a per-seat document. `/` cannot occur in ids, so `{gameId}/` is an exact prefix:
 * with `:` as separator, game `a` would also match the seats of game `a:b`.
 */
export const seatKey = (gameId: string, playerId: string): string => `${gameId}/${playerId}`;

/** Ids of games and players: 1–200 characters of `[A-Za-z0-9._:@-]` (docs/api.md#conventions). */
export const ID_PATTERN = '^[A-Za-z0-9._:@-]{1,200}$';
const ID_REGEX = new RegExp(ID_PATTERN);

export function assertId(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || !ID_REGEX.test(value)) {
    throw invalidInput(`${what} must be 1-200 characters of A-Z a-z 0-9 . _ : @ -`);
  }
}

export type GameStatus = 'active' | 'completed';

/** The value of a `game` document. */
export interface StoredGame {
  readonly state: JsonObject;
  readonly players: readonly string[];
  /** `null` until the game server names a phase. */
  readonly phase: string | null;
  readonly status: GameStatus;
  /** The seq of the last event the snapshot reflects; 0 before the first event. */
  readonly lastSeq: number;
  /** When the game was completed (ms since the epoch), else `null`. */
  readonly completedAt: number | null;
  /** History entries written for this game (see `game-history.ts`); absent is 0. */
  readonly historyCount?: number;
}

/** A game's record as read: the stored document and its checked value. */
export interface LoadedGame {
  readonly document: StoredDocument;
  readonly game: StoredGame;
}

/** A game as `restore` answers it. */
export interface GameRecord {
  readonly gameId: string;
  readonly state: JsonObject;
  readonly players: string[];
  readonly phase: string | null;
  readonly status: GameStatus;
  /** The snapshot document's version: 1 on creation, +1 on every persist or event append. */
  readonly version: number;
  /** ISO-8601 time of the last persist or append. */
  readonly persistedAt: string;
  /** The last event seq the snapshot reflects. */
  readonly lastSeq: number;
}

/** One event of a game's log. */
export interface GameEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: JsonValue;
  /** ISO-8601 time the event was written. */
  readonly at: string;
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The value of a game's document. When the snapshot's text is known (a checked state, see
 * `checkedState`), the record's text is built around it, so the state is not serialized again.
 */
export function storedGameToJson(game: StoredGame): JsonObject {
  const { state, ...fields } = {
    state: game.state,
    players: [...game.players],
    phase: game.phase,
    status: game.status,
    lastSeq: game.lastSeq,
    completedAt: game.completedAt,
    ...(game.historyCount ? { history: game.historyCount } : {}),
  };
  const value: JsonObject = { state, ...fields };
  const stateJson = jsonTextOf(state);
  // `fields` is never empty, so its text opens with `{"players":`.
  return stateJson === undefined
    ? value
    : withJsonText(value, `{"state":${stateJson},${JSON.stringify(fields).slice(1)}`);
}

/** What is wrong with a stored game value, or `undefined` when it is sound. */
function defectOf(value: JsonValue): string | undefined {
  if (!isJsonObject(value)) return 'the value is not an object';
  if (!isJsonObject(value.state)) return 'field "state" is missing or not an object';
  const players = value.players;
  if (!Array.isArray(players) || !players.every((p) => typeof p === 'string'))
    return 'field "players" is not a list of ids';
  if (value.phase !== null && typeof value.phase !== 'string') return 'field "phase" is not a string';
  if (value.status !== 'active' && value.status !== 'completed')
    return 'field "status" is not "active" or "completed"';
  const lastSeq = value.lastSeq;
  if (typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < 0)
    return 'field "lastSeq" is not an integer >= 0';
  const completedAt = value.completedAt ?? null;
  if (completedAt !== null && typeof completedAt !== 'number') return 'field "completedAt" is not a time';
  const history = value.history ?? 0;
  if (typeof history !== 'number' || !Number.isSafeInteger(history) || history < 0)
    return 'field "history" is not an integer >= 0';
  return undefined;
}

/** Reads a stored game document, or fails with `CORRUPT_DATA` saying what is damaged and what to do. */
export function parseStoredGame(gameId: string, document: StoredDocument): StoredGame {
  const defect = defectOf(document.value);
  if (defect !== undefined) throw corruptGame(gameId, defect);
  const value = document.value as JsonObject;
  return {
    state: value.state as JsonObject,
    players: value.players as string[],
    phase: value.phase as string | null,
    status: value.status as GameStatus,
    lastSeq: value.lastSeq as number,
    completedAt: (value.completedAt as number | null | undefined) ?? null,
    historyCount: (value.history as number | undefined) ?? 0,
  };
}

/** The `CORRUPT_DATA` error for a game whose record cannot be used. */
export function corruptGame(gameId: string, defect: string, cause?: unknown): SavepointError {
  return new SavepointError(
    'CORRUPT_DATA',
    `The stored record of game "${gameId}" cannot be read (${defect}). ` +
      'Persist the game again with forceOverwrite, delete it, or restore a backup.',
    { ...(cause === undefined ? {} : { cause }), details: { gameId } },
  );
}

/** A completed game refuses events, reconnects and (without `forceOverwrite`) reopening. */
export const gameCompleted = (gameId: string): SavepointError =>
  new SavepointError('GAME_COMPLETED', `Game "${gameId}" is completed; start a new game`, {
    details: { gameId },
  });

export const toIso = (ms: number): string => new Date(ms).toISOString();

export function toGameRecord(gameId: string, game: StoredGame, document: StoredDocument): GameRecord {
  return {
    gameId,
    state: game.state,
    players: [...game.players],
    phase: game.phase,
    status: game.status,
    version: document.version,
    persistedAt: toIso(document.updatedAt),
    lastSeq: game.lastSeq,
  };
}

export const toGameEvent = (event: StreamEvent): GameEvent => ({
  seq: event.seq,
  type: event.type,
  data: event.data,
  at: toIso(event.at),
});
