/**
 * The games module's public shapes: its settings, the inputs of its calls and their answers. They
 * live apart from the `Games` class so that what only needs the shapes (the game tracker, the HTTP
 * schemas' checks) does not import the class.
 */
import type { EventInput, JsonObject } from '../../engine/types.js';
import type { GameFeedOptions } from './event-feed.js';
import type { GameEvent, GameRecord, GameStatus } from './game-record.js';

/** Settings of the games domain; every one has a default. */
export interface GamesOptions {
  /** How long a reconnect token works (`SAVEPOINT_TOKEN_TTL`). Default 30 minutes. */
  readonly tokenTtlMs?: number;
  /** How long a completed game, its events and tokens are kept (`SAVEPOINT_GAME_TTL`). Default 7 days. */
  readonly gameTtlMs?: number;
  /**
   * How long a token's record outlives the token, so that using it answers `TOKEN_EXPIRED`
   * rather than `TOKEN_INVALID`. Default 24 hours.
   */
  readonly expiredTokenRetentionMs?: number;
  /** Failed reconnects per seat within `failureWindowMs` before `RATE_LIMITED`. Default 10. */
  readonly maxReconnectFailures?: number;
  /** The window failed reconnects are counted in; it restarts with each failure. Default 60 seconds. */
  readonly failureWindowMs?: number;
  /**
   * How long after a successful reconnect the token it replaced still answers `SEAT_TAKEN` rather
   * than `TOKEN_INVALID`. Default 2,000 ms; 0 turns the window off.
   *
   * A reconnect rotates the seat's token and, in the same conditional commit, records the replaced
   * token's hash and the rotation time. A request that presents that replaced token within this
   * window is taken for a concurrent claim that lost the race for the seat (`SEAT_TAKEN`, 409): it
   * was most likely sent before the winner's answer could reach anyone. After the window it is a
   * reuse of a spent token (`TOKEN_INVALID`, 401). A request that loses the conditional commit
   * itself always gets `SEAT_TAKEN`. The rule lives in storage, so it holds across instances, and
   * nothing waits: the winner is answered at once. Times come from the store's clock, so instances
   * sharing a store should keep their clocks within a fraction of this window of each other.
   */
  readonly seatRaceWindowMs?: number;
  /**
   * Writes kept in memory while the storage is unavailable (see `outbox.ts`): persists and appends
   * that meet `STORAGE_UNAVAILABLE` are queued and answered with `durable: false`, then written in
   * order when the storage answers again. Beyond this many queued writes: `STORAGE_UNAVAILABLE`.
   * Default 10,000.
   */
  readonly outboxLimit?: number;
  /**
   * Told of a queued write that could not be applied and whose audit entry could not be written
   * either. Default: `console.error`.
   */
  readonly onError?: (error: unknown, context: JsonObject) => void;
  /**
   * Versions kept per game for point-in-time reads, rollback and forks (`SAVEPOINT_GAME_HISTORY`).
   * Default 100; 0 keeps none.
   */
  readonly historyVersions?: number;
}

/** `POST /api/game/{gameId}/persist`. */
export interface PersistInput {
  readonly state: JsonObject;
  /** The seated players; default: unchanged (`[]` for a new game). Only they can get tokens. */
  readonly players?: readonly string[];
  /** Default: unchanged (`null` for a new game). */
  readonly phase?: string;
  /**
   * Default: unchanged (`active` for a new game). `completed` makes the game read-only for events
   * and reconnects and sets it, its events and its tokens to expire after `gameTtlMs`.
   */
  readonly status?: GameStatus;
  /** The version the caller last saw; `0` means "create only". Stale: `VERSION_CONFLICT`. */
  readonly expectedVersion?: number;
  /** Write even if `expectedVersion` is stale, or the game is completed (reopening it) or unreadable. */
  readonly forceOverwrite?: boolean;
}

export interface PersistResult {
  readonly success: true;
  readonly persistedAt: string;
  readonly version: number;
  /** `false` when the write is queued in memory (storage unavailable), not yet stored. */
  readonly durable?: false;
}

/** `POST /api/game/{gameId}/events`. */
export interface AppendEventsInput {
  /** 1 to 10,000 events; `type` is 1–200 characters, `data` any JSON (default `null`). */
  readonly events: readonly EventInput[];
  /** A new snapshot, written in the same commit as the events. Default: unchanged. */
  readonly state?: JsonObject;
  /** Default: unchanged. */
  readonly phase?: string;
  /** The seq of the last event the caller knows of (0 for none). Stale: `VERSION_CONFLICT`. */
  readonly expectedSeq?: number;
}

export interface AppendEventsResult {
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The game's version after the append. */
  readonly version: number;
  /** `false` when the write is queued in memory (storage unavailable), not yet stored. */
  readonly durable?: false;
}

/** `GET /api/game/{gameId}/history`. */
export interface HistoryOptions {
  /** Only versions older than this one. Default: from the newest. */
  readonly before?: number;
  /** 1 to 1000. Default 100. */
  readonly limit?: number;
}

export interface HistoryVersionSummary {
  readonly version: number;
  readonly persistedAt: string;
  readonly lastSeq: number;
  readonly phase: string | null;
  readonly status: GameStatus;
}

export interface GameHistoryPage {
  readonly gameId: string;
  /** Newest first. */
  readonly versions: HistoryVersionSummary[];
  /** Pass as `before` for the next page; absent on the last one. */
  readonly nextBefore?: number;
}

/** `POST /api/game/{gameId}/rollback`. */
export interface RollbackInput {
  /** A retained version; its state, players, phase and status become current as a new version. */
  readonly toVersion: number;
  /** Why, for the `rollback` event (at most 1,000 characters). */
  readonly reason?: string;
  /** The version the caller last saw. Stale: `VERSION_CONFLICT`. */
  readonly expectedVersion?: number;
}

export interface RollbackResult {
  readonly success: true;
  /** The new current version (the same one when `toVersion` was already current: nothing changes). */
  readonly version: number;
  readonly restoredFrom: number;
  readonly persistedAt: string;
  readonly lastSeq: number;
}

/** `POST /api/game/{gameId}/fork`. */
export interface ForkInput {
  /** The new game; it must not exist. */
  readonly newGameId: string;
  /** A retained version. Default: the current one. */
  readonly atVersion?: number;
  /** Default: the players of that version. */
  readonly players?: readonly string[];
}

export interface ForkResult {
  readonly gameId: string;
  readonly version: 1;
  readonly forkedFrom: { readonly gameId: string; readonly version: number; readonly lastSeq: number };
}

/** How a write may be answered. */
export interface WriteOptions {
  /**
   * Whether the write may be queued in memory while the storage is unavailable (answered with
   * `durable: false`). Default true. With false, an outage, or writes of the game already queued,
   * answer `STORAGE_UNAVAILABLE`: for callers that must only acknowledge durable writes.
   */
  readonly queueWhenUnavailable?: boolean;
  /**
   * Makes the call exactly-once: a repeat with the same key (and the same game and input) applies
   * nothing and gets the first call's answer, for as long as the store keeps keys (24 hours by
   * default). The answer is stored in the same commit as the write. A keyed write is never queued
   * in memory: it answers `STORAGE_UNAVAILABLE` instead, so that a retry can find its key.
   */
  readonly idempotencyKey?: string;
}

/** How a persist may be answered, and what it checks first. */
export interface PersistOptions extends WriteOptions {
  /**
   * A check of the game's current version (`undefined` when there is no game), run on the record
   * the persist reads anyway, before it writes; it throws to refuse the write. The write is
   * conditional on that version, so the check still holds when it commits. The HTTP API's
   * `If-Match: *` and tag lists use it, so that a conditional persist reads the game once.
   */
  readonly versionCheck?: (currentVersion: number | undefined) => void;
}

/** Options of `reconnect` and `delete`. */
export interface KeyOptions {
  /**
   * Makes the call exactly-once. A reconnect's key is scoped to the (game, player): a client whose
   * answer was lost retries with the same key and input and gets the same answer, rotated token
   * included. A repeated delete answers as the first did instead of `NOT_FOUND`.
   */
  readonly idempotencyKey?: string;
}

export interface ReadEventsOptions {
  /** Events with `seq > after`. Default 0. */
  readonly after?: number;
  /** 1 to 1000. Default 100. */
  readonly limit?: number;
}

export interface ConnectionToken {
  /** The secret; show it to the player only. Savepoint keeps its hash. */
  readonly token: string;
  readonly expiresAt: string;
  readonly playerId: string;
}

/** `POST /api/game/{gameId}/reconnect`. */
export interface ReconnectInput {
  readonly playerId: string;
  readonly reconnectToken: string;
  /** The last seq the player saw; `missedEvents` holds the events after it (all when absent). */
  readonly lastEventSeq?: number;
}

export interface ReconnectResult {
  readonly success: true;
  readonly gameState: GameRecord;
  readonly reconnectedAt: string;
  /** Events after `lastEventSeq`, up to `gameState.lastSeq`, so that snapshot and events agree. */
  readonly missedEvents: GameEvent[];
  /** The rotated token; the one just used no longer works. */
  readonly reconnectToken: string;
  readonly tokenExpiresAt: string;
}

/** Who opens a feed: the server (no token) or a player with a token, which is checked but not rotated. */
export interface OpenFeedOptions extends GameFeedOptions {
  readonly playerId?: string;
  readonly token?: string;
}
