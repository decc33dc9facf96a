/**
 * `savepoint/boardgame.io`: durable boardgame.io (0.50) matches. A match is three documents
 * (state, metadata, initial state) and one stream (its log); every state change and the log
 * entries that produced it land in one commit, so a `kill -9` never leaves a state without its
 * log or a log ahead of its state. See docs/boardgame-io.md.
 *
 * Only types come from boardgame.io: the adapter loads nothing of it at run time.
 */
import type { LogEntry, Server, State, StorageAPI } from 'boardgame.io';
import {
  type CommitOp,
  isSavepointError,
  type JsonValue,
  openSavepoint,
  retryOnConflict,
  type Savepoint,
  SavepointError,
  type SavepointOptions,
  type StoredDocument,
} from '../../index.js';

type MatchData = Server.MatchData;

export interface SavepointStorageOptions {
  /** Prefix of the collections and streams; default `bgio`. */
  readonly prefix?: string;
}

/** Opens a store of its own on `connect`: `memory:`, `sqlite:<path>` or `postgres://…`. */
export interface SavepointStorageUrlOptions extends SavepointOptions, SavepointStorageOptions {
  readonly url: string;
}

/** Where one storage keeps its matches. */
interface Names {
  readonly state: string;
  readonly metadata: string;
  readonly initial: string;
  readonly log: (matchID: string) => string;
}

/** The value of `StorageAPI.Type.ASYNC`; the enum itself lives in boardgame.io's bundle. */
const ASYNC: StorageAPI.Type.ASYNC = 1;
/** Largest page the engine reads at once. */
const PAGE = 1000;

export class SavepointStorage implements StorageAPI.Async {
  /** Matches live in collections `<prefix>.state`, `.metadata`, `.initial` and streams `<prefix>.log/<matchID>`. */
  readonly prefix: string;
  /** The store passed in, or the options to open one with. */
  readonly #source: Savepoint | SavepointStorageUrlOptions;
  readonly #names: Names;
  /** The store this storage opened, once `connect` or a first call asked for it. */
  #savepoint: Promise<Savepoint> | undefined;

  constructor(options: SavepointStorageUrlOptions);
  constructor(savepoint: Savepoint, options?: SavepointStorageOptions);
  constructor(source: Savepoint | SavepointStorageUrlOptions, options: SavepointStorageOptions = {}) {
    this.#source = source;
    const prefix = (isSavepoint(source) ? options.prefix : source.prefix) ?? 'bgio';
    this.prefix = prefix;
    this.#names = {
      state: `${prefix}.state`,
      metadata: `${prefix}.metadata`,
      initial: `${prefix}.initial`,
      log: (matchID) => `${prefix}.log/${matchID}`,
    };
  }

  type(): StorageAPI.Type {
    return ASYNC;
  }

  /** Opens the store when this storage was given a URL; boardgame.io's `Server` calls it at start. */
  async connect(): Promise<void> {
    await this.#open();
  }

  /** Closes the store when this storage opened it; a store passed in stays open for its owner. */
  async close(): Promise<void> {
    if (isSavepoint(this.#source) || this.#savepoint === undefined) return;
    const savepoint = this.#savepoint;
    this.#savepoint = undefined;
    await (await savepoint).close();
  }

  /**
   * Creates the match in one commit. An existing match is left as it is (first creation wins),
   * so a late or repeated create never wipes a match in play.
   */
  async createMatch(matchID: string, opts: StorageAPI.CreateMatchOpts): Promise<void> {
    const { store } = await this.#open();
    const names = this.#names;
    const ops: CommitOp[] = [
      {
        op: 'put',
        collection: names.state,
        key: matchID,
        value: json(opts.initialState),
        mustNotExist: true,
      },
      { op: 'put', collection: names.initial, key: matchID, value: json(opts.initialState) },
      { op: 'put', collection: names.metadata, key: matchID, value: json(opts.metadata) },
      // A log left over from a wiped match of the same ID must not be read as this one's.
      { op: 'deleteStream', stream: names.log(matchID) },
    ];
    try {
      await store.commit(ops);
    } catch (error) {
      if (!isSavepointError(error, 'VERSION_CONFLICT')) throw error;
    }
  }

  /**
   * Writes the state and appends `deltalog` to the match log in the same commit. Rejects with
   * `VERSION_CONFLICT` a state older than the stored one, and a state with the stored `_stateID`
   * that brings log entries (every logged action advances `_stateID`, so that is a second writer
   * working from the same base). The write is conditional on the version it checked, so a
   * concurrent writer cannot slip in between the check and the commit.
   */
  async setState(matchID: string, state: State, deltalog?: LogEntry[]): Promise<void> {
    const { store } = await this.#open();
    const names = this.#names;
    const entries = deltalog ?? [];
    const value = json(state);
    const outcome = await retryOnConflict(async () => {
      const current = await store.get(names.state, matchID);
      const stored = stateIDOf(current);
      if (
        stored !== undefined &&
        (state._stateID < stored || (state._stateID === stored && entries.length > 0))
      ) {
        return { stale: stored };
      }
      const condition = current === undefined ? { mustNotExist: true } : { expectedVersion: current.version };
      const ops: CommitOp[] = [{ op: 'put', collection: names.state, key: matchID, value, ...condition }];
      if (entries.length > 0) {
        ops.push({
          op: 'append',
          stream: names.log(matchID),
          events: entries.map((entry) => ({ type: entry.action.type, data: json(entry) })),
        });
      }
      await store.commit(ops);
      return { stale: undefined };
    });
    if (outcome.stale !== undefined) {
      throw new SavepointError(
        'VERSION_CONFLICT',
        `Match ${matchID} already holds _stateID ${outcome.stale}; a write of _stateID ${state._stateID}${
          entries.length > 0 ? ` with ${entries.length} log entries` : ''
        } would overwrite newer state`,
        { details: { matchID, storedStateID: outcome.stale, stateID: state._stateID } },
      );
    }
  }

  async setMetadata(matchID: string, metadata: MatchData): Promise<void> {
    const { store } = await this.#open();
    await store.commit([
      { op: 'put', collection: this.#names.metadata, key: matchID, value: json(metadata) },
    ]);
  }

  /** Reads only the fields asked for; a missing match gives `undefined` fields and an empty log. */
  async fetch<O extends StorageAPI.FetchOpts>(matchID: string, opts: O): Promise<StorageAPI.FetchResult<O>> {
    const { store } = await this.#open();
    const names = this.#names;
    const read = async (collection: string) => (await store.get(collection, matchID))?.value;
    const [state, metadata, initialState, log] = await Promise.all([
      opts.state ? read(names.state) : undefined,
      opts.metadata ? read(names.metadata) : undefined,
      opts.initialState ? read(names.initial) : undefined,
      opts.log ? this.#readLog(matchID) : undefined,
    ]);
    const result: Partial<Record<keyof StorageAPI.FetchFields, unknown>> = {};
    if (opts.state) result.state = state;
    if (opts.metadata) result.metadata = metadata;
    if (opts.initialState) result.initialState = initialState;
    if (opts.log) result.log = log;
    return result as StorageAPI.FetchResult<O>;
  }

  /** Removes the match: state, metadata, initial state and log, in one commit. */
  async wipe(matchID: string): Promise<void> {
    const { store } = await this.#open();
    const names = this.#names;
    await store.commit([
      { op: 'delete', collection: names.state, key: matchID },
      { op: 'delete', collection: names.metadata, key: matchID },
      { op: 'delete', collection: names.initial, key: matchID },
      { op: 'deleteStream', stream: names.log(matchID) },
    ]);
  }

  /** Match IDs in ascending order, filtered as boardgame.io's own stores filter them. */
  async listMatches(opts: StorageAPI.ListMatchesOpts = {}): Promise<string[]> {
    const { store } = await this.#open();
    const matches: string[] = [];
    let after: string | null = null;
    do {
      const page = await store.list(this.#names.metadata, {
        limit: PAGE,
        ...(after === null ? {} : { after }),
      });
      for (const document of page.items) {
        if (matchesFilter(document.value as unknown as MatchData, opts)) matches.push(document.key);
      }
      after = page.nextCursor;
    } while (after !== null);
    return matches;
  }

  async #readLog(matchID: string): Promise<LogEntry[]> {
    const { store } = await this.#open();
    const log: LogEntry[] = [];
    let after = 0;
    for (;;) {
      const events = await store.readStream(this.#names.log(matchID), { after, limit: 10_000 });
      for (const event of events) log.push(event.data as unknown as LogEntry);
      if (events.length < 10_000) return log;
      after = events.at(-1)?.seq ?? after;
    }
  }

  #open(): Promise<Savepoint> {
    const source = this.#source;
    if (isSavepoint(source)) return Promise.resolve(source);
    if (this.#savepoint === undefined) {
      const opening = openSavepoint(source);
      // A failed open is reported to every caller; the next call tries again.
      opening.catch(() => {
        if (this.#savepoint === opening) this.#savepoint = undefined;
      });
      this.#savepoint = opening;
    }
    return this.#savepoint;
  }
}

function matchesFilter(metadata: MatchData, opts: StorageAPI.ListMatchesOpts): boolean {
  if (opts.gameName !== undefined && metadata.gameName !== opts.gameName) return false;
  const where = opts.where;
  if (where === undefined) return true;
  if (where.isGameover !== undefined && (metadata.gameover !== undefined) !== where.isGameover) return false;
  if (where.updatedBefore !== undefined && metadata.updatedAt >= where.updatedBefore) return false;
  if (where.updatedAfter !== undefined && metadata.updatedAt <= where.updatedAfter) return false;
  return true;
}

function stateIDOf(document: StoredDocument | undefined): number | undefined {
  const value = document?.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const id = value._stateID;
  return typeof id === 'number' ? id : undefined;
}

/** boardgame.io's states are plain JSON by its own rules; the engine checks that on commit. */
function json(value: unknown): JsonValue {
  return value as JsonValue;
}

function isSavepoint(source: Savepoint | SavepointStorageUrlOptions): source is Savepoint {
  return 'store' in source && typeof source.store === 'object';
}
