/**
 * Automatic persistence for a game whose live state a Node game server keeps in memory: it persists
 * after each action and phase change, while the in-memory state stays primary.
 */
import { assertJsonValue, copyJson } from '../../engine/json.js';
import type { EventInput, JsonObject, JsonValue } from '../../engine/types.js';
import { isSavepointError, type SavepointError, toSavepointError } from '../../errors.js';
import type { GameStatus } from './game-record.js';
import type {
  AppendEventsInput,
  AppendEventsResult,
  PersistInput,
  PersistResult,
  WriteOptions,
} from './games.types.js';

/**
 * The two writes a tracker makes: what it needs of `Games`, and nothing more (so the tracker does
 * not import the class that creates it).
 */
export interface GameWriter {
  persist(gameId: string, input: PersistInput, options?: WriteOptions): Promise<PersistResult>;
  appendEvents(gameId: string, input: AppendEventsInput, options?: WriteOptions): Promise<AppendEventsResult>;
}

/** How the tracker reads the game it persists. Each getter is called synchronously, right after the change. */
export interface TrackedGame {
  /** The full snapshot the server needs to resume, hidden information included. */
  getState(): JsonObject;
  /** The current phase, if the game has phases. */
  getPhase?(): string | null;
  /** The seated players; written on {@link GameTracker.checkpoint} and when the tracker creates the game. */
  getPlayers?(): readonly string[];
  /**
   * Hears every failed write. `willRetry` is true for storage outages (`STORAGE_UNAVAILABLE`,
   * `STORAGE_FULL`): the tracker keeps the writes queued, in order, and retries with backoff.
   */
  onError?(error: SavepointError, willRetry: boolean): void;
}

export interface TrackerOptions {
  /** Longest wait between retries during a storage outage. Default 5,000 ms. */
  readonly maxRetryDelayMs?: number;
}

interface Snapshot {
  readonly state: JsonObject;
  readonly phase: string | null | undefined;
  readonly players: readonly string[] | undefined;
}

type QueueItem =
  | {
      readonly kind: 'events';
      readonly events: readonly EventInput[];
      readonly snapshot: Snapshot;
      readonly resolve: (result: AppendEventsResult) => void;
      readonly reject: (error: SavepointError) => void;
    }
  | {
      readonly kind: 'checkpoint';
      readonly status: GameStatus | undefined;
      readonly snapshot: Snapshot;
      readonly resolve: (result: PersistResult) => void;
      readonly reject: (error: SavepointError) => void;
    };

type EventItem = Extract<QueueItem, { kind: 'events' }>;

/** The tracker acknowledges durable writes only: it keeps its own queue through outages. */
const DURABLE_ONLY: WriteOptions = { queueWhenUnavailable: false };
const RETRYABLE = new Set(['STORAGE_UNAVAILABLE', 'STORAGE_FULL']);
/** The most events one append takes (the engine's limit). */
const MAX_BATCH_EVENTS = 10_000;

/**
 * Writes a game's actions in order, each with the snapshot taken right after it, so that a
 * restart resumes from a snapshot that matches its `lastSeq` exactly. Actions queued while a
 * write is in flight go out together in the next commit. The promise each call returns settles
 * when that write is durable: answer players after it, and an acknowledged action survives kill -9.
 *
 * The tracker assumes one owner per game: after its first write it passes `expectedSeq`, so a
 * second writer makes its next write fail with `VERSION_CONFLICT` instead of interleaving.
 */
export class GameTracker {
  readonly #games: GameWriter;
  readonly #gameId: string;
  readonly #game: TrackedGame;
  readonly #maxRetryDelayMs: number;
  readonly #queue: QueueItem[] = [];
  #draining: Promise<void> | undefined;
  #knownSeq: number | undefined;

  constructor(games: GameWriter, gameId: string, game: TrackedGame, options: TrackerOptions = {}) {
    this.#games = games;
    this.#gameId = gameId;
    this.#game = game;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
  }

  /** Writes waiting to be committed (they survive a storage outage in memory only). */
  get pending(): number {
    return this.#queue.length;
  }

  /** The seq of the last event this tracker wrote, once it has written one. */
  get lastSeq(): number | undefined {
    return this.#knownSeq;
  }

  /** Records an action the server has just applied: its event plus the snapshot, in one commit. */
  action(type: string, data?: JsonValue): Promise<AppendEventsResult> {
    return this.record([{ type, data: data === undefined ? null : data }]);
  }

  /**
   * Records several events that one change produced (an action that also ends a betting round,
   * say) with the snapshot after all of them, in one commit: a crash keeps all or none.
   */
  record(events: readonly EventInput[]): Promise<AppendEventsResult> {
    return new Promise((resolve, reject) => {
      this.#enqueue({
        kind: 'events',
        events: events.map(({ type, data }) => ({
          type,
          data: data === undefined ? null : checkedCopy(data, 'event data'),
        })),
        snapshot: this.#snapshot(),
        resolve,
        reject,
      });
    });
  }

  /** Records a phase change the server has just made, as a `phase` event `{ phase, ...data }`. */
  phaseChanged(data?: JsonObject): Promise<AppendEventsResult> {
    return this.action('phase', { ...(data ?? {}), phase: this.#game.getPhase?.() ?? null });
  }

  /** Persists the snapshot (and players) without an event; `status: 'completed'` completes the game. */
  checkpoint(options: { readonly status?: GameStatus } = {}): Promise<PersistResult> {
    return new Promise((resolve, reject) => {
      this.#enqueue({
        kind: 'checkpoint',
        status: options.status,
        snapshot: this.#snapshot(),
        resolve,
        reject,
      });
    });
  }

  /** Resolves when every write queued so far has settled. */
  async flush(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  #snapshot(): Snapshot {
    const players = this.#game.getPlayers?.();
    return {
      // Copied now: the live state moves on while the write waits its turn.
      state: checkedCopy(this.#game.getState(), 'state'),
      phase: this.#game.getPhase?.(),
      players: players === undefined ? undefined : [...players],
    };
  }

  #enqueue(item: QueueItem): void {
    this.#queue.push(item);
    if (this.#draining === undefined) {
      this.#draining = this.#drain().finally(() => {
        this.#draining = undefined;
      });
    }
  }

  async #drain(): Promise<void> {
    for (let head = this.#queue[0]; head !== undefined; head = this.#queue[0]) {
      if (head.kind === 'checkpoint') {
        const item = head;
        await this.#settle(
          [item],
          () => this.#persist(item.snapshot, item.status),
          (result) => item.resolve(result),
        );
        continue;
      }
      const batch: EventItem[] = [];
      let size = 0;
      for (const item of this.#queue) {
        // One append takes at most MAX_BATCH_EVENTS; a backlog after an outage goes out in several.
        if (item.kind !== 'events' || (batch.length > 0 && size + item.events.length > MAX_BATCH_EVENTS))
          break;
        batch.push(item);
        size += item.events.length;
      }
      const snapshot = (batch[batch.length - 1] as EventItem).snapshot;
      await this.#settle(
        batch,
        () => this.#append(batch, snapshot),
        (result) => {
          let seq = result.firstSeq;
          for (const item of batch) {
            item.resolve({ firstSeq: seq, lastSeq: seq + item.events.length - 1, version: result.version });
            seq += item.events.length;
          }
        },
      );
    }
  }

  /** Runs one write until it succeeds or fails for good, then settles its items and dequeues them. */
  async #settle<T>(
    items: readonly QueueItem[],
    write: () => Promise<T>,
    onSuccess: (result: T) => void,
  ): Promise<void> {
    let delay = 50;
    for (;;) {
      try {
        const result = await write();
        this.#queue.splice(0, items.length);
        onSuccess(result);
        return;
      } catch (thrown) {
        const error = toSavepointError(thrown);
        const willRetry = RETRYABLE.has(error.code);
        this.#game.onError?.(error, willRetry);
        if (willRetry) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(this.#maxRetryDelayMs, delay * 2);
          continue;
        }
        this.#queue.splice(0, items.length);
        // After a conflict our idea of the head is wrong; the next write starts from the stored one.
        this.#knownSeq = undefined;
        for (const item of items) item.reject(error);
        return;
      }
    }
  }

  async #append(batch: readonly EventItem[], snapshot: Snapshot): Promise<AppendEventsResult> {
    const input = {
      events: batch.flatMap((item) => item.events),
      state: snapshot.state,
      ...(snapshot.phase == null ? {} : { phase: snapshot.phase }),
      ...(this.#knownSeq === undefined ? {} : { expectedSeq: this.#knownSeq }),
    };
    let result: AppendEventsResult;
    try {
      result = await this.#games.appendEvents(this.#gameId, input, DURABLE_ONLY);
    } catch (error) {
      if (!isSavepointError(error, 'NOT_FOUND') || this.#knownSeq !== undefined) throw error;
      // The first write of a game nobody persisted yet creates it.
      await this.#persist(snapshot, undefined);
      result = await this.#games.appendEvents(this.#gameId, input, DURABLE_ONLY);
    }
    this.#knownSeq = result.lastSeq;
    return result;
  }

  #persist(snapshot: Snapshot, status: GameStatus | undefined): Promise<PersistResult> {
    return this.#games.persist(
      this.#gameId,
      {
        state: snapshot.state,
        ...(snapshot.players === undefined ? {} : { players: snapshot.players }),
        ...(snapshot.phase == null ? {} : { phase: snapshot.phase }),
        ...(status === undefined ? {} : { status }),
      },
      DURABLE_ONLY,
    );
  }
}

/** Checks a value the game object handed over (it may be anything) and copies it. */
function checkedCopy<T extends JsonValue>(value: T, what: string): T {
  assertJsonValue(value, what);
  return copyJson(value);
}
