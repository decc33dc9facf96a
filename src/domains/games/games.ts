/**
 * Games that survive kill -9: snapshots, an append-only event log, reconnect tokens, and a live
 * event feed, all on the engine. The HTTP side is `games.routes.ts` (see `docs/api.md#games`).
 *
 * Records:
 * - `game/{gameId}`: the snapshot ({@link StoredGame}); its `version` is the game's version.
 * - stream `game:{gameId}`: the event log, seq 1, 2, 3, ... without gaps.
 * - `game-token/{gameId}/{playerId}`: a seat's reconnect token, hashed ({@link TokenRecord}).
 * - `game-reconnect-failures/{gameId}/{playerId}`: failed attempts in the current window.
 *
 * Every write is one commit with conditions, so the snapshot and the stream head move together or
 * not at all, and a seat claim holds across instances (no in-process lock). Nothing is loaded at
 * start: the first call for a game reads it.
 *
 * Beside this file: the seats (tokens, reconnect races, rate limits) in `seats.ts`, the writes
 * queued during an outage in `outbox.ts`, live feeds in `event-feed.ts`, point-in-time versions in
 * `game-history.ts`, what a full storage gets back in `space-reclaim.ts`, and the public shapes in
 * `games.types.ts`.
 */
import {
  assertIdempotencyKey,
  currentKeyScope,
  fingerprintOf,
  KeyScope,
  keyReused,
  recordKeyOf,
  runInKeyScope,
} from '../../engine/idempotency.js';
import { retryOnConflict } from '../../engine/retry.js';
import type { Store } from '../../engine/store.js';
import type {
  AppendResult,
  CommitOp,
  DocumentWriteResult,
  JsonValue,
  OpResult,
  StoredDocument,
} from '../../engine/types.js';
import {
  invalidInput,
  isSavepointError,
  notFound,
  SavepointError,
  toSavepointError,
  versionConflict,
} from '../../errors.js';
import { FeedHub, GameEventFeed, type GameFeedOptions } from './event-feed.js';
import { readEventRange } from './event-range.js';
import {
  DEFAULT_HISTORY_VERSIONS,
  GameHistory,
  type GameVersion,
  type VersionedFields,
  versionedFields,
} from './game-history.js';
import {
  assertPhase,
  assertPlayers,
  assertStatus,
  assertWholeNumber,
  checkedEvents,
  checkedState,
  isObject,
} from './game-input.js';
import {
  assertId,
  corruptGame,
  GAME_COLLECTION,
  type GameEvent,
  type GameRecord,
  gameCompleted,
  type LoadedGame,
  parseStoredGame,
  type StoredGame,
  storedGameToJson,
  streamOf,
  toGameEvent,
  toGameRecord,
  toIso,
} from './game-record.js';
import { GameTracker, type TrackedGame, type TrackerOptions } from './game-tracker.js';
import type {
  AppendEventsInput,
  AppendEventsResult,
  ConnectionToken,
  ForkInput,
  ForkResult,
  GameHistoryPage,
  GamesOptions,
  HistoryOptions,
  KeyOptions,
  OpenFeedOptions,
  PersistInput,
  PersistOptions,
  PersistResult,
  ReadEventsOptions,
  ReconnectInput,
  ReconnectResult,
  RollbackInput,
  RollbackResult,
  WriteOptions,
} from './games.types.js';
import {
  type AppendWrite,
  DEFAULT_OUTBOX_LIMIT,
  GameOutbox,
  type KnownGame,
  type PersistWrite,
  type QueuedWrite,
} from './outbox.js';
import { GameSeats } from './seats.js';
import { removeOldestCompleted } from './space-reclaim.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** What a keyed delete stores, so that its repeat finds an answer. */
interface DeleteAnswer {
  readonly deleted: true;
}

/** A game call's answer, stored with an idempotency key (answers are plain JSON objects). */
const asJson = (answer: PersistResult | AppendEventsResult): JsonValue => answer as unknown as JsonValue;

/** Carries an error through `retryOnConflict` without another attempt. */
class StopRetry extends Error {
  readonly error: SavepointError;
  constructor(error: SavepointError) {
    super(error.message);
    this.error = error;
  }
}

async function retryUnlessStopped<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await retryOnConflict(step);
  } catch (error) {
    throw error instanceof StopRetry ? error.error : error;
  }
}

/** Games whose last known state is kept, for writes queued while even reads fail. */
const LAST_KNOWN_GAMES = 10_000;

/**
 * The games domain: construct once per store and share it (`savepoint.games` is that instance). It
 * owns its outbox and its feed hub; `close()` stops the outbox's retry loop.
 */
export class Games {
  readonly #store: Store;
  readonly #gameTtlMs: number;
  readonly #seats: GameSeats;
  readonly #feeds: FeedHub;
  readonly #outbox: GameOutbox;
  readonly #history: GameHistory;
  /** The last state read or written per game (most recent last): the base of writes queued when reads fail too. */
  readonly #lastKnown = new Map<string, KnownGame>();

  constructor(store: Store, options: GamesOptions = {}) {
    this.#store = store;
    const tokenTtlMs = positive(options.tokenTtlMs, 30 * MINUTE, 'tokenTtlMs');
    this.#gameTtlMs = positive(options.gameTtlMs, 7 * DAY, 'gameTtlMs');
    this.#seats = new GameSeats(
      store,
      {
        tokenTtlMs,
        retentionMs: positive(options.expiredTokenRetentionMs, DAY, 'expiredTokenRetentionMs'),
        maxFailures: positive(options.maxReconnectFailures, 10, 'maxReconnectFailures'),
        failureWindowMs: positive(options.failureWindowMs, MINUTE, 'failureWindowMs'),
        seatRaceWindowMs: nonNegative(options.seatRaceWindowMs, 2000, 'seatRaceWindowMs'),
      },
      (gameId) => this.#load(gameId),
    );
    this.#feeds = new FeedHub(store);
    const historyVersions = nonNegative(options.historyVersions, DEFAULT_HISTORY_VERSIONS, 'historyVersions');
    if (!Number.isSafeInteger(historyVersions)) throw invalidInput('historyVersions must be a whole number');
    this.#history = new GameHistory(store, historyVersions);
    // Storage full: the engine sweeps expired records first, then asks for this (see storage-full.ts).
    store.addSpaceReclaimer('games', (context) =>
      removeOldestCompleted(store, context, (gameId) => this.#deleteOps(gameId)),
    );
    this.#outbox = new GameOutbox(store, {
      limit: positive(options.outboxLimit, DEFAULT_OUTBOX_LIMIT, 'outboxLimit'),
      gameTtlMs: this.#gameTtlMs,
      replay: (entry) => this.#replay(entry),
      onError:
        options.onError ??
        ((error, context) => console.error('[savepoint] a queued game write was dropped', context, error)),
    });
  }

  /** Writes queued in memory while the storage is unavailable. */
  get pendingWrites(): number {
    return this.#outbox.pendingWrites;
  }

  /** Writes the queued writes now, if the storage answers (the retry loop also does, with backoff). */
  flushPending(): Promise<void> {
    return this.#outbox.flush();
  }

  /** Stops the outbox's retry loop; writes still queued are not written. */
  close(): void {
    this.#outbox.stop();
  }

  /**
   * Writes a game's snapshot, creating the game if needed. `status: "completed"` completes it in
   * the same commit: the game, its events and its tokens expire after `gameTtlMs`.
   * Errors: `VERSION_CONFLICT` (stale `expectedVersion`), `GAME_COMPLETED` (reopening without
   * `forceOverwrite`), `CORRUPT_DATA` (unreadable record, without `forceOverwrite`).
   */
  async persist(gameId: string, input: PersistInput, options: PersistOptions = {}): Promise<PersistResult> {
    return this.#once('persist', gameId, input, options.idempotencyKey, () =>
      this.#persist(gameId, input, options),
    );
  }

  async #persist(gameId: string, input: PersistInput, options: PersistOptions): Promise<PersistResult> {
    assertId(gameId, 'gameId');
    if (!isObject(input)) throw invalidInput('persist takes { state, players?, phase?, status? }');
    // Checked, copied (the caller may keep mutating its state while this call awaits) and serialized once.
    const state = checkedState(input.state, 'state');
    if (input.players !== undefined) assertPlayers(input.players);
    if (input.phase !== undefined) assertPhase(input.phase);
    if (input.status !== undefined) assertStatus(input.status);
    if (input.expectedVersion !== undefined) assertWholeNumber(input.expectedVersion, 'expectedVersion');
    const force = input.forceOverwrite === true;
    const write: PersistWrite = {
      state,
      players: input.players === undefined ? undefined : [...input.players],
      phase: input.phase,
      status: input.status,
      expectedVersion: force ? undefined : input.expectedVersion,
      force,
    };
    const { versionCheck } = options;
    return this.#writeOrQueue(
      gameId,
      options,
      (onLoaded) => this.#persistDurable(gameId, write, onLoaded, versionCheck),
      (base) => {
        if (versionCheck === undefined) return this.#outbox.enqueuePersist(gameId, base, write);
        // Checked against the game as it will be when this write applies, and pinned to that version.
        const version = (this.#outbox.known(gameId) ?? base)?.version;
        versionCheck(version);
        return this.#outbox.enqueuePersist(gameId, base, { ...write, expectedVersion: version });
      },
    );
  }

  /**
   * The one path of a game write: durably, or, when the storage is unavailable and the caller
   * allows it, queued in the outbox on top of the game as last known. `durable` reports the record
   * it read (before the write could fail), which becomes the base of the queued write.
   */
  async #writeOrQueue<Durable, Queued>(
    gameId: string,
    options: WriteOptions,
    durable: (onLoaded: (loaded: LoadedGame | undefined) => void) => Promise<Durable>,
    enqueue: (base: KnownGame | undefined) => Queued,
  ): Promise<Durable | Queued> {
    // A keyed write is never queued: its retry must be able to find the key in storage.
    const queue = options.queueWhenUnavailable !== false && currentKeyScope() === undefined;
    // Writes queued behind an outage keep their order: this one queues too.
    if (this.#outbox.has(gameId)) {
      if (!queue) throw queuedAhead(gameId);
      return enqueue(undefined);
    }
    let seen: { readonly base: KnownGame | undefined } | undefined;
    try {
      return await durable((loaded) => {
        seen = { base: knownOf(loaded) };
      });
    } catch (error) {
      if (!queue || !isSavepointError(error, 'STORAGE_UNAVAILABLE')) throw error;
      // The record read before the failure or, when the read failed too, the last one this instance knew.
      const base = seen === undefined ? this.#lastKnown.get(gameId) : seen.base;
      if (seen === undefined && base === undefined) throw error;
      return enqueue(base);
    }
  }

  async #persistDurable(
    gameId: string,
    write: PersistWrite,
    onLoaded?: (loaded: LoadedGame | undefined) => void,
    versionCheck?: (currentVersion: number | undefined) => void,
  ): Promise<PersistResult> {
    const { state, players, force } = write;
    const expected = write.expectedVersion;
    const input = write;
    return retryUnlessStopped(async () => {
      const now = this.#store.now();
      let current: LoadedGame | undefined;
      let unreadable = false;
      try {
        current = await this.#load(gameId);
      } catch (error) {
        // An unreadable record can only be replaced on purpose, and has no version to check.
        if (!force || versionCheck !== undefined || !isSavepointError(error, 'CORRUPT_DATA')) throw error;
        unreadable = true;
      }
      onLoaded?.(current);
      if (versionCheck !== undefined) {
        // The write below is conditional on this very version (see #versionWrite).
        try {
          versionCheck(current?.document.version);
        } catch (error) {
          throw new StopRetry(toSavepointError(error));
        }
      }
      if (expected !== undefined && (current?.document.version ?? 0) !== expected) {
        throw new StopRetry(
          versionConflict(
            current === undefined
              ? `Game "${gameId}" does not exist, so it is not at version ${expected}`
              : `Game "${gameId}" is at version ${current.document.version}, not ${expected}; restore it and retry`,
            { gameId, expectedVersion: expected, currentVersion: current?.document.version ?? 0 },
          ),
        );
      }
      const previous = current?.game;
      const status = input.status ?? previous?.status ?? 'active';
      if (previous?.status === 'completed' && status === 'active' && !force)
        throw new StopRetry(gameCompleted(gameId));
      const fields: VersionedFields = {
        state,
        players: players ?? previous?.players ?? [],
        phase: input.phase ?? previous?.phase ?? null,
        status,
        completedAt: status === 'active' ? null : (previous?.completedAt ?? now),
      };
      const lastSeq = previous?.lastSeq ?? (await this.#store.streamHead(streamOf(gameId)));
      const { game, ops } = await this.#versionWrite(gameId, current, fields, lastSeq, now, unreadable);
      const answerOf = (results: readonly OpResult[]): PersistResult => {
        const document = (results[0] as DocumentWriteResult).document;
        return { success: true, persistedAt: toIso(document.updatedAt), version: document.version };
      };
      const result = await this.#store.commit(ops, { answer: (results) => asJson(answerOf(results)) });
      const document = (result.results[0] as DocumentWriteResult).document;
      this.#remember(gameId, knownOf({ game, document }));
      return answerOf(result.results);
    });
  }

  /**
   * Appends events, and optionally a new snapshot and phase, in one commit: the stream head and
   * the snapshot's `lastSeq` move together. Errors: `NOT_FOUND`, `GAME_COMPLETED`,
   * `VERSION_CONFLICT` (stale `expectedSeq`), `CORRUPT_DATA`.
   */
  async appendEvents(
    gameId: string,
    input: AppendEventsInput,
    options: WriteOptions = {},
  ): Promise<AppendEventsResult> {
    return this.#once('events', gameId, input, options.idempotencyKey, () =>
      this.#appendEvents(gameId, input, options),
    );
  }

  async #appendEvents(
    gameId: string,
    input: AppendEventsInput,
    options: WriteOptions,
  ): Promise<AppendEventsResult> {
    assertId(gameId, 'gameId');
    if (!isObject(input)) throw invalidInput('events takes { events, state?, phase?, expectedSeq? }');
    // Checked and copied in one walk each (the caller may keep mutating them while this call awaits).
    const events = checkedEvents(input.events);
    const state = input.state === undefined ? undefined : checkedState(input.state, 'state');
    if (input.phase !== undefined) assertPhase(input.phase);
    if (input.expectedSeq !== undefined) assertWholeNumber(input.expectedSeq, 'expectedSeq');
    const write: AppendWrite = {
      events,
      state,
      phase: input.phase,
      expectedSeq: input.expectedSeq,
    };
    return this.#writeOrQueue(
      gameId,
      options,
      (onLoaded) => this.#appendDurable(gameId, write, onLoaded),
      (base) => this.#outbox.enqueueAppend(gameId, base, write),
    );
  }

  async #appendDurable(
    gameId: string,
    write: AppendWrite,
    onLoaded?: (loaded: LoadedGame | undefined) => void,
  ): Promise<AppendEventsResult> {
    const { events, state } = write;
    const input = write;
    return retryUnlessStopped(async () => {
      const current = await this.#load(gameId);
      onLoaded?.(current);
      if (current === undefined) throw new StopRetry(notFound(`Game "${gameId}" does not exist`, { gameId }));
      const { game, document } = current;
      if (game.status === 'completed') throw new StopRetry(gameCompleted(gameId));
      if (input.expectedSeq !== undefined && input.expectedSeq !== game.lastSeq) {
        throw new StopRetry(
          versionConflict(
            `Game "${gameId}" is at seq ${game.lastSeq}, not ${input.expectedSeq}; read the new events and retry`,
            { gameId, expectedSeq: input.expectedSeq, lastSeq: game.lastSeq },
          ),
        );
      }
      const lastSeq = game.lastSeq + events.length;
      // A call that changes the state or phase makes a version of the history; one that only appends does not.
      const recorded =
        state !== undefined || input.phase !== undefined
          ? await this.#history.recordOps(gameId, {
              previous: current,
              next: {
                ...versionedFields(game),
                state: state ?? game.state,
                phase: input.phase ?? game.phase,
              },
              version: document.version + 1,
              lastSeq,
              now: this.#store.now(),
              expiresAt: document.expiresAt,
            })
          : undefined;
      const next: StoredGame = {
        ...game,
        state: state ?? game.state,
        phase: input.phase ?? game.phase,
        lastSeq,
        historyCount: recorded?.count ?? game.historyCount ?? 0,
      };
      const answerOf = (results: readonly OpResult[]): AppendEventsResult => {
        const append = results[0] as AppendResult;
        const written = (results[1] as DocumentWriteResult).document;
        return { firstSeq: append.firstSeq, lastSeq: append.lastSeq, version: written.version };
      };
      const ops: CommitOp[] = [
        { op: 'append', stream: streamOf(gameId), events, expectedHead: game.lastSeq },
        {
          op: 'put',
          collection: GAME_COLLECTION,
          key: gameId,
          value: storedGameToJson(next),
          expectedVersion: document.version,
          expiresAt: document.expiresAt,
        },
        ...(recorded?.ops ?? []),
      ];
      const result = await this.#store.commit(ops, { answer: (results) => asJson(answerOf(results)) });
      const written = (result.results[1] as DocumentWriteResult).document;
      this.#remember(gameId, knownOf({ game: next, document: written }));
      return answerOf(result.results);
    });
  }

  /**
   * Writes a queued write durably. An append keeps the seqs it was answered with (its expected seq
   * is pinned); a persist keeps the caller's own condition, if any.
   */
  async #replay(entry: QueuedWrite): Promise<unknown> {
    if (entry.kind === 'persist') return this.#persistDurable(entry.gameId, entry.write);
    return this.#appendDurable(entry.gameId, { ...entry.write, expectedSeq: entry.promised.firstSeq - 1 });
  }

  /** The stored game. Errors: `NOT_FOUND`; `CORRUPT_DATA` naming what is damaged. */
  async restore(gameId: string): Promise<GameRecord> {
    assertId(gameId, 'gameId');
    // Queued writes are newer than anything stored.
    const queued = this.#outbox.record(gameId);
    if (queued !== undefined) return queued;
    const current = await this.#load(gameId);
    if (current === undefined) throw notFound(`Game "${gameId}" does not exist`, { gameId });
    return toGameRecord(gameId, current.game, current.document);
  }

  /**
   * The game as it was at `version`, in the shape of {@link restore} (`lastSeq` as it was then).
   * Errors: `NOT_FOUND` when the game does not exist, or the version is newer, pruned or was never
   * kept (the detail says which); `CORRUPT_DATA`.
   */
  async restoreVersion(gameId: string, version: number): Promise<GameRecord> {
    assertId(gameId, 'gameId');
    assertPositiveVersion(version, 'version');
    const current = await this.#loadExisting(gameId);
    if (version === current.document.version) return toGameRecord(gameId, current.game, current.document);
    return versionRecord(gameId, await this.#history.version(gameId, current, version));
  }

  /** The game's retained versions, newest first. Errors: `NOT_FOUND`, `CORRUPT_DATA`. */
  async history(gameId: string, options: HistoryOptions = {}): Promise<GameHistoryPage> {
    assertId(gameId, 'gameId');
    if (options.before !== undefined) assertPositiveVersion(options.before, 'before');
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)
      throw invalidInput('limit must be an integer from 1 to 1000');
    const current = await this.#loadExisting(gameId);
    const before = options.before;
    const older = (await this.#history.list(gameId, current)).filter(
      (candidate) => before === undefined || candidate.version < before,
    );
    const page = older.slice(0, limit);
    const last = page[page.length - 1];
    return {
      gameId,
      versions: page.map((entry) => ({
        version: entry.version,
        persistedAt: toIso(entry.persistedAt),
        lastSeq: entry.lastSeq,
        phase: entry.fields.phase,
        status: entry.fields.status,
      })),
      ...(older.length > limit && last !== undefined ? { nextBefore: last.version } : {}),
    };
  }

  /**
   * Makes a retained version's state, players, phase and status current again as a new version,
   * and appends `{ type: "rollback", data: { fromVersion, toVersion, reason } }` in the same
   * commit, so that stream subscribers and reconnecting players see it. Nothing in the history is
   * rewritten. Rolling back to the current version changes nothing and answers that version.
   * Errors: `NOT_FOUND` (game or version), `VERSION_CONFLICT` (stale `expectedVersion`), `CORRUPT_DATA`.
   */
  async rollback(gameId: string, input: RollbackInput): Promise<RollbackResult> {
    assertId(gameId, 'gameId');
    if (!isObject(input)) throw invalidInput('rollback takes { toVersion, reason?, expectedVersion? }');
    assertPositiveVersion(input.toVersion, 'toVersion');
    if (input.expectedVersion !== undefined) assertPositiveVersion(input.expectedVersion, 'expectedVersion');
    if (input.reason !== undefined && (typeof input.reason !== 'string' || input.reason.length > 1000))
      throw invalidInput('reason must be a string of at most 1000 characters');
    const { toVersion, expectedVersion } = input;
    const reason = input.reason ?? null;
    this.#assertNothingQueued(gameId);
    return retryUnlessStopped(async () => {
      const current = await this.#loadExisting(gameId);
      const { game, document } = current;
      if (expectedVersion !== undefined && expectedVersion !== document.version) {
        throw new StopRetry(
          versionConflict(`Game "${gameId}" is at version ${document.version}, not ${expectedVersion}`, {
            gameId,
            expectedVersion,
            currentVersion: document.version,
          }),
        );
      }
      if (toVersion === document.version) {
        return {
          success: true,
          version: document.version,
          restoredFrom: toVersion,
          persistedAt: toIso(document.updatedAt),
          lastSeq: game.lastSeq,
        };
      }
      const target = await this.#history.version(gameId, current, toVersion).catch((error: unknown) => {
        throw new StopRetry(error as SavepointError);
      });
      const now = this.#store.now();
      const lastSeq = game.lastSeq + 1;
      const written = await this.#versionWrite(gameId, current, target.fields, lastSeq, now, false);
      const ops: CommitOp[] = [
        {
          op: 'append',
          stream: streamOf(gameId),
          events: [{ type: 'rollback', data: { fromVersion: document.version, toVersion, reason } }],
          expectedHead: game.lastSeq,
        },
        ...written.ops,
      ];
      const result = await this.#store.commit(ops);
      const stored = (result.results[1] as DocumentWriteResult).document;
      this.#remember(gameId, knownOf({ game: written.game, document: stored }));
      return {
        success: true,
        version: stored.version,
        restoredFrom: toVersion,
        persistedAt: toIso(stored.updatedAt),
        lastSeq,
      };
    });
  }

  /**
   * Copies the game at a retained version into a new, active game: the state, phase and players
   * (or `players`), and the events up to that version's `lastSeq` with the same seq numbers (each
   * event's time is the fork's). No tokens are copied. Errors: `NOT_FOUND` (game or version),
   * `VERSION_CONFLICT` when `newGameId` exists, `INVALID_INPUT`.
   */
  async fork(gameId: string, input: ForkInput): Promise<ForkResult> {
    assertId(gameId, 'gameId');
    if (!isObject(input)) throw invalidInput('fork takes { newGameId, atVersion?, players? }');
    assertId(input.newGameId, 'newGameId');
    if (input.newGameId === gameId) throw invalidInput('newGameId must differ from the game forked');
    if (input.atVersion !== undefined) assertPositiveVersion(input.atVersion, 'atVersion');
    if (input.players !== undefined) assertPlayers(input.players);
    const { newGameId } = input;
    const current = await this.#loadExisting(gameId);
    const source: GameVersion =
      input.atVersion === undefined || input.atVersion === current.document.version
        ? {
            version: current.document.version,
            persistedAt: current.document.updatedAt,
            lastSeq: current.game.lastSeq,
            fields: versionedFields(current.game),
          }
        : await this.#history.version(gameId, current, input.atVersion);
    const events = (await readEventRange(this.#store, gameId, 0, source.lastSeq)).map(({ type, data }) => ({
      type,
      data,
    }));
    if (events.length !== source.lastSeq) {
      throw corruptGame(
        gameId,
        `its event log holds ${events.length} of the ${source.lastSeq} events to copy`,
      );
    }
    const fields: VersionedFields = {
      ...source.fields,
      players: input.players === undefined ? [...source.fields.players] : [...input.players],
      status: 'active',
      completedAt: null,
    };
    const written = await this.#versionWrite(
      newGameId,
      undefined,
      fields,
      source.lastSeq,
      this.#store.now(),
      false,
    );
    try {
      await this.#store.commit([
        ...written.ops,
        ...(events.length === 0
          ? []
          : [{ op: 'append', stream: streamOf(newGameId), events, expectedHead: 0 } as const]),
      ]);
    } catch (error) {
      if (isSavepointError(error, 'VERSION_CONFLICT')) {
        throw versionConflict(`Game "${newGameId}" already exists; fork onto a new game id`, {
          gameId: newGameId,
        });
      }
      throw error;
    }
    return {
      gameId: newGameId,
      version: 1,
      forkedFrom: { gameId, version: source.version, lastSeq: source.lastSeq },
    };
  }

  /** A page of the game's events, ascending. Errors: `NOT_FOUND`. */
  async readEvents(gameId: string, options: ReadEventsOptions = {}): Promise<GameEvent[]> {
    assertId(gameId, 'gameId');
    const after = options.after ?? 0;
    assertWholeNumber(after, 'after');
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)
      throw invalidInput('limit must be an integer from 1 to 1000');
    if (this.#outbox.has(gameId)) return this.#readWithQueued(gameId, after, limit);
    if (!(await this.#exists(gameId))) throw notFound(`Game "${gameId}" does not exist`, { gameId });
    const events = await this.#store.readStream(streamOf(gameId), { after, limit });
    return events.map(toGameEvent);
  }

  /** Stored events, then the queued ones; from the queue alone when the storage is down and they suffice. */
  async #readWithQueued(gameId: string, after: number, limit: number): Promise<GameEvent[]> {
    const queued = [...this.#outbox.queuedEvents(gameId)];
    let events: GameEvent[];
    try {
      events = (await this.#store.readStream(streamOf(gameId), { after, limit })).map(toGameEvent);
    } catch (error) {
      const first = queued[0];
      if (!isSavepointError(error, 'STORAGE_UNAVAILABLE') || first === undefined || after < first.seq - 1)
        throw error;
      events = [];
    }
    let last = events[events.length - 1]?.seq ?? after;
    for (const event of queued) {
      if (events.length >= limit) break;
      if (event.seq === last + 1) {
        events.push(event);
        last = event.seq;
      }
    }
    return events;
  }

  /**
   * Issues a reconnect token for a seated player, replacing the seat's previous token.
   * Errors: `NOT_FOUND`, `FORBIDDEN` (not a player of the game), `GAME_COMPLETED`.
   */
  async issueToken(gameId: string, playerId: string): Promise<ConnectionToken> {
    assertId(gameId, 'gameId');
    assertId(playerId, 'playerId');
    return this.#seats.issue(gameId, playerId);
  }

  /**
   * Gives a player their seat back: checks the token, rotates it, and answers the snapshot with
   * the events the player missed. Of concurrent reconnects for one seat exactly one wins, by a
   * conditional commit on the token's record that also keeps the replaced token's hash and the
   * rotation time; the rest get `SEAT_TAKEN`, whether they lose that commit or present the replaced
   * token within `seatRaceWindowMs` of the rotation. Later, the replaced token is `TOKEN_INVALID`.
   * The winner is answered as soon as its commit is done.
   * Errors: `TOKEN_INVALID`, `TOKEN_EXPIRED`, `GAME_COMPLETED`, `SEAT_TAKEN`, `RATE_LIMITED`,
   * `INVALID_INPUT` (`lastEventSeq` negative or beyond the last event).
   */
  async reconnect(gameId: string, input: ReconnectInput, options: KeyOptions = {}): Promise<ReconnectResult> {
    assertId(gameId, 'gameId');
    if (!isObject(input)) throw invalidInput('reconnect takes { playerId, reconnectToken, lastEventSeq? }');
    assertId(input.playerId, 'playerId');
    // The key is scoped to the seat: another player's key cannot replay this player's answer.
    return this.#once(`reconnect:${input.playerId}`, gameId, input, options.idempotencyKey, () =>
      this.#reconnect(gameId, input),
    );
  }

  async #reconnect(gameId: string, input: ReconnectInput): Promise<ReconnectResult> {
    if (input.lastEventSeq !== undefined) assertWholeNumber(input.lastEventSeq, 'lastEventSeq');
    return this.#seats.reconnect(gameId, input);
  }

  /**
   * Runs a game call once per idempotency key. The key is either given (`idempotencyKey`) or
   * comes from the key scope of the work that calls (an HTTP request with `Idempotency-Key`). A
   * repeat whose call already committed gets the answer stored with that commit before any check
   * runs again: the checks would now see the call's own effect (a rotated token, a new version).
   */
  async #once<T>(
    call: string,
    gameId: string,
    input: unknown,
    key: string | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    let scope = currentKeyScope();
    let own = false;
    if (key !== undefined) {
      assertIdempotencyKey(key, 'idempotencyKey');
      scope = new KeyScope(recordKeyOf('games', call, gameId, key), fingerprintOf(call, gameId, input));
      own = true;
    }
    if (scope === undefined) return work();
    const active = scope;
    return runInKeyScope(active, async () => {
      try {
        const prior = await this.#store.nextScopedRecord();
        if (prior?.answer === undefined) return await work();
        if (prior.fingerprint !== active.fingerprint) throw keyReused(`${call} of game "${gameId}"`);
        return prior.answer as T;
      } finally {
        if (own) active.close();
      }
    });
  }

  /**
   * Checks a player's token without rotating it (for read-only access such as the event stream)
   * and answers the game. Same errors as {@link reconnect}, except `SEAT_TAKEN`.
   */
  async verifyToken(gameId: string, playerId: string, token: string): Promise<GameRecord> {
    assertId(gameId, 'gameId');
    assertId(playerId, 'playerId');
    return this.#seats.verify(gameId, playerId, token);
  }

  /**
   * Removes the game: snapshot, events, tokens and failure counters, in one commit.
   * Works on unreadable records too. Errors: `NOT_FOUND` when there is nothing to remove.
   */
  async delete(gameId: string, options: KeyOptions = {}): Promise<void> {
    assertId(gameId, 'gameId');
    // Under a key, a repeat of a delete that already applied answers as the first did, not 404.
    await this.#once('delete', gameId, null, options.idempotencyKey, () => this.#delete(gameId));
  }

  async #delete(gameId: string): Promise<DeleteAnswer> {
    const stream = streamOf(gameId);
    const [exists, head] = await Promise.all([this.#exists(gameId), this.#store.streamHead(stream)]);
    if (!exists && head === 0) {
      // Created while the storage was down and not written yet: only the queue holds it.
      if (this.#outbox.has(gameId)) {
        this.#outbox.discard(gameId);
        return { deleted: true };
      }
      throw notFound(`Game "${gameId}" does not exist`, { gameId });
    }
    await this.#store.commit(await this.#deleteOps(gameId), { answer: () => ({ deleted: true }) });
    this.#remember(gameId, undefined);
    this.#outbox.discard(gameId);
    return { deleted: true };
  }

  /** Every op that removes the game and what it owns. */
  async #deleteOps(gameId: string): Promise<CommitOp[]> {
    const ops: CommitOp[] = [
      { op: 'delete', collection: GAME_COLLECTION, key: gameId },
      { op: 'deleteStream', stream: streamOf(gameId) },
      ...(await this.#history.deleteOps(gameId)),
      ...(await this.#seats.deleteOps(gameId)),
    ];
    return ops;
  }

  /**
   * A live feed of the game's events after `options.after`: the replay first, then new events as
   * they commit (here or on another instance), with no gap and no duplicate. It checks nothing;
   * see {@link openFeed}. End it with `break`, `return()` or the signal.
   */
  subscribe(gameId: string, options: GameFeedOptions = {}): GameEventFeed {
    assertId(gameId, 'gameId');
    if (options.after !== undefined) assertWholeNumber(options.after, 'after');
    return new GameEventFeed(this.#store, this.#feeds, gameId, options);
  }

  /**
   * Checks access, then {@link subscribe}s. With `playerId` and `token`, the token is verified
   * (not rotated). Errors: `NOT_FOUND`, the token errors, `INVALID_INPUT` when `after` is beyond
   * the last event.
   */
  async openFeed(gameId: string, options: OpenFeedOptions = {}): Promise<GameEventFeed> {
    assertId(gameId, 'gameId');
    const after = options.after ?? 0;
    assertWholeNumber(after, 'after');
    let lastSeq: number;
    if (options.playerId !== undefined || options.token !== undefined) {
      if (options.playerId === undefined || options.token === undefined)
        throw invalidInput('A player stream needs both playerId and token');
      lastSeq = (await this.verifyToken(gameId, options.playerId, options.token)).lastSeq;
    } else {
      lastSeq = (await this.restore(gameId)).lastSeq;
    }
    if (after > lastSeq) {
      throw invalidInput(`Last-Event-ID ${after} is beyond the last event of game "${gameId}" (${lastSeq})`, {
        gameId,
        after,
        lastSeq,
      });
    }
    return this.subscribe(gameId, options);
  }

  /**
   * Persists a game the caller's server owns after each action and phase change: each call
   * appends its event together with the current snapshot in one commit. See {@link GameTracker}.
   */
  track(gameId: string, game: TrackedGame, options: TrackerOptions = {}): GameTracker {
    assertId(gameId, 'gameId');
    return new GameTracker(this, gameId, game, options);
  }

  // ---- internals ----

  /**
   * The ops that make `fields` the game's next version over `current` (absent, or unreadable when
   * `unreadable`): the snapshot under its condition, the history entry and, when the game is
   * completed or reopened, the new expiry of everything it owns, all for one commit.
   */
  async #versionWrite(
    gameId: string,
    current: LoadedGame | undefined,
    fields: VersionedFields,
    lastSeq: number,
    now: number,
    unreadable: boolean,
  ): Promise<{ readonly game: StoredGame; readonly ops: CommitOp[] }> {
    const previous = current?.game;
    const completing = fields.status === 'completed' && previous?.status !== 'completed';
    const reopening = previous?.status === 'completed' && fields.status === 'active';
    let expiresAt: number | null = null;
    if (completing) expiresAt = now + this.#gameTtlMs;
    else if (fields.status === 'completed') expiresAt = current?.document.expiresAt ?? null;
    // Over an unreadable record the version is unknown: the history starts again after it.
    const history = unreadable
      ? { ops: await this.#history.deleteOps(gameId), count: 0 }
      : await this.#history.recordOps(gameId, {
          previous: current,
          next: fields,
          version: (current?.document.version ?? 0) + 1,
          lastSeq,
          now,
          expiresAt,
        });
    const game: StoredGame = { ...fields, lastSeq, historyCount: history.count };
    const ops: CommitOp[] = [
      {
        op: 'put',
        collection: GAME_COLLECTION,
        key: gameId,
        value: storedGameToJson(game),
        expiresAt,
        ...(current === undefined
          ? unreadable
            ? {}
            : { mustNotExist: true }
          : { expectedVersion: current.document.version }),
      },
      ...history.ops,
    ];
    // Completing or reopening moves the expiry of everything the game owns, in the same commit.
    if (completing || reopening) {
      ops.push({ op: 'expireStream', stream: streamOf(gameId), expiresAt });
      ops.push(...(await this.#history.expireOps(gameId, expiresAt)));
    }
    if (completing && expiresAt !== null) ops.push(...(await this.#seats.expireOps(gameId, expiresAt)));
    return { game, ops };
  }

  /** The readable record of an existing game. Errors: `NOT_FOUND`, `CORRUPT_DATA`. */
  async #loadExisting(gameId: string): Promise<LoadedGame> {
    const current = await this.#load(gameId);
    if (current === undefined) throw notFound(`Game "${gameId}" does not exist`, { gameId });
    return current;
  }

  /** History writes go to storage directly: they would reorder writes still queued for it. */
  #assertNothingQueued(gameId: string): void {
    if (this.#outbox.has(gameId)) throw queuedAhead(gameId);
  }

  /** Reads and checks the game's record; `undefined` when there is none. */
  async #load(gameId: string): Promise<LoadedGame | undefined> {
    let document: StoredDocument | undefined;
    try {
      document = await this.#store.get(GAME_COLLECTION, gameId);
    } catch (error) {
      if (isSavepointError(error, 'CORRUPT_DATA'))
        throw corruptGame(gameId, 'its stored bytes are not valid JSON', error);
      throw error;
    }
    if (document === undefined) {
      this.#remember(gameId, undefined);
      return undefined;
    }
    const loaded = { document, game: parseStoredGame(gameId, document) };
    this.#remember(gameId, knownOf(loaded));
    return loaded;
  }

  /** Keeps the last known state of at most {@link LAST_KNOWN_GAMES} games, the most recent ones. */
  #remember(gameId: string, known: KnownGame | undefined): void {
    this.#lastKnown.delete(gameId);
    if (known === undefined) return;
    this.#lastKnown.set(gameId, known);
    if (this.#lastKnown.size > LAST_KNOWN_GAMES) {
      const oldest = this.#lastKnown.keys().next();
      if (oldest.done !== true) this.#lastKnown.delete(oldest.value);
    }
  }

  /** Whether a record exists, readable or not. */
  async #exists(gameId: string): Promise<boolean> {
    try {
      return (await this.#store.get(GAME_COLLECTION, gameId)) !== undefined;
    } catch (error) {
      if (isSavepointError(error, 'CORRUPT_DATA')) return true;
      throw error;
    }
  }
}

const knownOf = (loaded: LoadedGame | undefined): KnownGame | undefined =>
  loaded === undefined
    ? undefined
    : {
        game: loaded.game,
        version: loaded.document.version,
        updatedAt: loaded.document.updatedAt,
        expiresAt: loaded.document.expiresAt,
      };

const queuedAhead = (gameId: string): SavepointError =>
  new SavepointError(
    'STORAGE_UNAVAILABLE',
    `Writes of game "${gameId}" are still queued for the storage; retry once they are written`,
    { details: { gameId } },
  );

function assertPositiveVersion(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw invalidInput(`${what} must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}`);
}

const versionRecord = (gameId: string, version: GameVersion): GameRecord => ({
  gameId,
  state: version.fields.state,
  players: [...version.fields.players],
  phase: version.fields.phase,
  status: version.fields.status,
  version: version.version,
  persistedAt: toIso(version.persistedAt),
  lastSeq: version.lastSeq,
});

function nonNegative(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalidInput(`${what} must be a number >= 0`);
  return value;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalidInput(`${what} must be a positive number`);
  return value;
}

export type { GameEvent, GameRecord, GameStatus } from './game-record.js';
export type * from './games.types.js';
