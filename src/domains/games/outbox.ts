/**
 * The games outbox: when a game write meets `STORAGE_UNAVAILABLE`, the write is queued here, per
 * game and in order, and answered at once with `durable: false` and the fields a durable answer
 * would carry, computed from the last known state (the stored record read before the failure, plus
 * the writes already queued).
 *
 * - Reads of a game with queued writes see them: {@link GameOutbox.known} is its latest state and
 *   {@link GameOutbox.queuedEvents} its queued events, with the seqs they were promised.
 * - A retry loop (backoff 100 ms doubling to 2 s) replays each game's queue in order once the
 *   storage answers again. A write that can no longer be applied as promised (its condition fails:
 *   `VERSION_CONFLICT`, or any other refusal) is written to the audit log with its full payload and
 *   dropped; if that audit write fails too, `onError` gets it. Nothing is dropped silently.
 * - Bounded: at `limit` queued writes (default 10,000) a new write gets `STORAGE_UNAVAILABLE`.
 * - The queue lives in this process only: a crash while writes are queued loses them.
 *
 * Each `Games` instance owns one outbox; `/health` adds the queued writes of the Savepoint's
 * (`Savepoint.queuedWrites`) to `storage.pendingWrites`.
 */
import { appendAudit } from '../../audit.js';
import type { Store } from '../../engine/store.js';
import type { EventInput, JsonObject, JsonValue } from '../../engine/types.js';
import {
  isSavepointError,
  notFound,
  SavepointError,
  toSavepointError,
  versionConflict,
} from '../../errors.js';
import { type GameEvent, type GameRecord, gameCompleted, type StoredGame, toIso } from './game-record.js';

/** Queued writes at most, over all games, unless `GamesOptions.outboxLimit` says otherwise. */
export const DEFAULT_OUTBOX_LIMIT = 10_000;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;
/** The audit entry type of a queued write that could not be applied. */
export const OUTBOX_DROP_AUDIT = 'game-write-dropped';

/** A game as last known: its stored record, or that record with the queued writes applied. */
export interface KnownGame {
  readonly game: StoredGame;
  readonly version: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
}

/** A persist as the domain checked it (`expectedVersion` is already cleared by `forceOverwrite`). */
export interface PersistWrite {
  readonly state: JsonObject;
  readonly players?: readonly string[] | undefined;
  readonly phase?: string | undefined;
  readonly status?: 'active' | 'completed' | undefined;
  readonly expectedVersion?: number | undefined;
  readonly force: boolean;
}

export interface AppendWrite {
  readonly events: ReadonlyArray<{ readonly type: string; readonly data: JsonValue }>;
  readonly state?: JsonObject | undefined;
  readonly phase?: string | undefined;
  readonly expectedSeq?: number | undefined;
}

export interface QueuedPersistResult {
  readonly success: true;
  readonly persistedAt: string;
  readonly version: number;
  readonly durable: false;
}

export interface QueuedAppendResult {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly version: number;
  readonly durable: false;
}

export type QueuedWrite =
  | {
      readonly kind: 'persist';
      readonly gameId: string;
      readonly write: PersistWrite;
      readonly promised: QueuedPersistResult;
    }
  | {
      readonly kind: 'append';
      readonly gameId: string;
      readonly write: AppendWrite;
      readonly promised: QueuedAppendResult;
    };

export interface OutboxOptions {
  readonly limit: number;
  readonly gameTtlMs: number;
  /** Applies a queued write durably; rejects as the durable call would. */
  readonly replay: (entry: QueuedWrite) => Promise<unknown>;
  /** Told of what could not even be audited. */
  readonly onError: (error: unknown, context: JsonObject) => void;
}

interface GameQueue {
  known: KnownGame;
  readonly entries: QueuedWrite[];
  /** The events of the queued appends, in seq order. */
  readonly events: GameEvent[];
}

export class GameOutbox {
  readonly #store: Store;
  readonly #options: OutboxOptions;
  readonly #queues = new Map<string, GameQueue>();
  #size = 0;
  #delayMs = MIN_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #stopped = false;

  constructor(store: Store, options: OutboxOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Writes waiting for the storage. */
  get pendingWrites(): number {
    return this.#size;
  }

  /** Whether the game has queued writes (later writes must queue behind them). */
  has(gameId: string): boolean {
    return this.#queues.has(gameId);
  }

  /** The game's state with its queued writes applied, when it has any. */
  known(gameId: string): KnownGame | undefined {
    return this.#queues.get(gameId)?.known;
  }

  record(gameId: string): GameRecord | undefined {
    const known = this.known(gameId);
    if (known === undefined) return undefined;
    const { game } = known;
    return {
      gameId,
      state: game.state,
      players: [...game.players],
      phase: game.phase,
      status: game.status,
      version: known.version,
      persistedAt: toIso(known.updatedAt),
      lastSeq: game.lastSeq,
    };
  }

  queuedEvents(gameId: string): readonly GameEvent[] {
    return this.#queues.get(gameId)?.events ?? [];
  }

  /** Queues a persist on top of `base` (or of the game's queued state). Throws as persist would. */
  enqueuePersist(gameId: string, base: KnownGame | undefined, write: PersistWrite): QueuedPersistResult {
    this.#assertRoom(gameId);
    const queue = this.#queues.get(gameId);
    const from = queue?.known ?? base;
    const now = this.#store.now();
    if (write.expectedVersion !== undefined && (from?.version ?? 0) !== write.expectedVersion) {
      throw versionConflict(
        `Game "${gameId}" is at version ${from?.version ?? 0}, not ${write.expectedVersion}; restore it and retry`,
        { gameId, expectedVersion: write.expectedVersion, currentVersion: from?.version ?? 0 },
      );
    }
    const previous = from?.game;
    const status = write.status ?? previous?.status ?? 'active';
    if (previous?.status === 'completed' && status === 'active' && !write.force) throw gameCompleted(gameId);
    const completing = status === 'completed' && previous?.status !== 'completed';
    const known: KnownGame = {
      game: {
        state: write.state,
        players: write.players ?? previous?.players ?? [],
        phase: write.phase ?? previous?.phase ?? null,
        status,
        lastSeq: previous?.lastSeq ?? 0,
        completedAt: status === 'active' ? null : (previous?.completedAt ?? now),
      },
      version: (from?.version ?? 0) + 1,
      updatedAt: now,
      expiresAt: completing
        ? now + this.#options.gameTtlMs
        : status === 'completed'
          ? (from?.expiresAt ?? null)
          : null,
    };
    const promised: QueuedPersistResult = {
      success: true,
      persistedAt: toIso(now),
      version: known.version,
      durable: false,
    };
    this.#push(gameId, known, { kind: 'persist', gameId, write, promised }, []);
    return promised;
  }

  /** Queues an append on top of `base` (or of the game's queued state). Throws as appendEvents would. */
  enqueueAppend(gameId: string, base: KnownGame | undefined, write: AppendWrite): QueuedAppendResult {
    this.#assertRoom(gameId);
    const from = this.#queues.get(gameId)?.known ?? base;
    if (from === undefined) throw notFound(`Game "${gameId}" does not exist`, { gameId });
    const { game } = from;
    if (game.status === 'completed') throw gameCompleted(gameId);
    if (write.expectedSeq !== undefined && write.expectedSeq !== game.lastSeq) {
      throw versionConflict(
        `Game "${gameId}" is at seq ${game.lastSeq}, not ${write.expectedSeq}; read the new events and retry`,
        { gameId, expectedSeq: write.expectedSeq, lastSeq: game.lastSeq },
      );
    }
    const now = this.#store.now();
    const events: GameEvent[] = write.events.map((event, index) => ({
      seq: game.lastSeq + 1 + index,
      type: event.type,
      data: event.data,
      at: toIso(now),
    }));
    const known: KnownGame = {
      game: {
        ...game,
        state: write.state ?? game.state,
        phase: write.phase ?? game.phase,
        lastSeq: game.lastSeq + events.length,
      },
      version: from.version + 1,
      updatedAt: now,
      expiresAt: from.expiresAt,
    };
    const promised: QueuedAppendResult = {
      firstSeq: game.lastSeq + 1,
      lastSeq: known.game.lastSeq,
      version: known.version,
      durable: false,
    };
    this.#push(gameId, known, { kind: 'append', gameId, write, promised }, events);
    return promised;
  }

  /** Drops the game's queued writes (the game was deleted), auditing each. */
  discard(gameId: string): void {
    const queue = this.#queues.get(gameId);
    if (queue === undefined) return;
    this.#queues.delete(gameId);
    this.#size -= queue.entries.length;
    const reason = new SavepointError(
      'NOT_FOUND',
      `Game "${gameId}" was deleted before this write was stored`,
    );
    for (const entry of queue.entries) void this.#report(entry, reason);
  }

  /** Replays the queues now (the retry loop calls this); resolves when this pass ends. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#flushing ??= this.#pass().finally(() => {
      this.#flushing = undefined;
      if (this.#size > 0) this.#schedule();
    });
    return this.#flushing;
  }

  /** Stops the retry loop; queued writes stay queued (and are lost with the process). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #assertRoom(gameId: string): void {
    if (this.#size >= this.#options.limit) {
      throw new SavepointError(
        'STORAGE_UNAVAILABLE',
        `The storage is unavailable and ${this.#size} writes are already waiting for it (the limit); retry later`,
        { details: { gameId, pendingWrites: this.#size } },
      );
    }
  }

  #push(gameId: string, known: KnownGame, entry: QueuedWrite, events: GameEvent[]): void {
    const queue = this.#queues.get(gameId);
    if (queue === undefined) this.#queues.set(gameId, { known, entries: [entry], events });
    else {
      queue.known = known;
      queue.entries.push(entry);
      queue.events.push(...events);
    }
    this.#size++;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || this.#timer !== undefined || this.#flushing !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#delayMs);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    for (const [gameId, queue] of this.#queues) {
      while (queue.entries.length > 0) {
        const entry = queue.entries[0] as QueuedWrite;
        try {
          await this.#options.replay(entry);
        } catch (error) {
          if (isSavepointError(error, 'STORAGE_UNAVAILABLE')) {
            this.#delayMs = Math.min(this.#delayMs * 2, MAX_BACKOFF_MS);
            return;
          }
          await this.#report(entry, error);
        }
        // Discarded (deleted) meanwhile: its entries are accounted for already.
        if (this.#queues.get(gameId) !== queue) break;
        queue.entries.shift();
        this.#size--;
        if (entry.kind === 'append') queue.events.splice(0, entry.write.events.length);
      }
      if (this.#queues.get(gameId) === queue) this.#queues.delete(gameId);
    }
    this.#delayMs = MIN_BACKOFF_MS;
  }

  /** Writes the dropped write to the audit log; if that fails too, tells `onError`. Never silent. */
  async #report(entry: QueuedWrite, error: unknown): Promise<void> {
    const reason = toSavepointError(error);
    const data: JsonObject = {
      gameId: entry.gameId,
      kind: entry.kind,
      payload: payloadOf(entry),
      promised: { ...entry.promised },
      error: { code: reason.code, message: reason.message },
    };
    try {
      await appendAudit(this.#store, OUTBOX_DROP_AUDIT, data);
    } catch (auditError) {
      try {
        this.#options.onError(auditError, data);
      } catch {
        // onError is the last resort; nothing else is left to tell.
      }
    }
  }
}

function payloadOf(entry: QueuedWrite): JsonObject {
  const payload: Record<string, JsonValue> = {};
  const write = entry.write as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(write)) {
    if (value === undefined) continue;
    if (name === 'force') payload.forceOverwrite = value as boolean;
    else if (name === 'events') payload.events = (value as EventInput[]).map((e) => ({ ...e }) as JsonObject);
    else payload[name] = value as JsonValue;
  }
  return payload;
}
