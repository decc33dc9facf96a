/**
 * Rankings: a learned Q-table (a game AI's move values): one finite value per
 * `(stateKey, move)`, bounded, with reset and a replace-semantics export/import.
 *
 * Storage uses generations so that reset and import are atomic at any table size, although one
 * commit holds at most 200,000 ops and the engine has no "clear collection":
 * - entries are documents of {@link RANKING_COLLECTION} keyed `{generation}:{stateKey}:{move}`
 *   (unambiguous: the generation is digits before the first `:`, the move digits after the last);
 * - `ranking-meta/current` names the live generation (0 until the first reset or import);
 * - an import writes a fresh generation in chunks (invisible to readers), then flips `current` in
 *   one conditional commit; a reset flips to a fresh empty generation. Either is one atomic step;
 * - the old generation is marked `retired:{g}` in the flip's commit and deleted afterwards in the
 *   background, in batches. A generation whose import crashed stays marked `pending:{g}` and is
 *   collected once stale, so no crash leaves garbage forever.
 *
 * Writes to single entries are blind puts into the live generation: the value is last-writer-wins,
 * as a learning agent expects, with no read-then-write. A write racing a reset or import is ordered before it
 * (and removed again should it land in the replaced generation after its cleanup).
 */

import { Readable } from 'node:stream';
import { appendAudit } from '../../audit.js';
import { retryOnConflict } from '../../engine/retry.js';
import type { Store } from '../../engine/store.js';
import type { CommitOp, JsonObject, StoredDocument } from '../../engine/types.js';
import { type ErrorDetails, invalidInput, SavepointError, versionConflict } from '../../errors.js';

export const RANKING_COLLECTION = 'ranking';
export const RANKING_META_COLLECTION = 'ranking-meta';
const CURRENT_KEY = 'current';
const ALLOCATOR_KEY = 'allocator';
const PENDING_PREFIX = 'pending:';
const RETIRED_PREFIX = 'retired:';

/** Defaults of `SAVEPOINT_RANKING_MIN` and `SAVEPOINT_RANKING_MAX`. */
export const DEFAULT_RANKING_MIN = -1e6;
export const DEFAULT_RANKING_MAX = 1e6;
/** Most entries of one `setMany` (one commit). Larger tables go through `importReplace`. */
export const MAX_BATCH_ENTRIES = 100_000;
/** The export format's version. */
export const EXPORT_FORMAT_VERSION = 1;
/** Entries per commit while an import writes its generation. */
const IMPORT_CHUNK = 5_000;
/** Documents read (and deleted) per page. */
const PAGE = 1_000;
const DEFAULT_STALE_IMPORT_MS = 60 * 60 * 1000;
const STATE_KEY_PATTERN = /^[A-Za-z0-9._:@-]{1,200}$/;

export interface RankingEntry {
  /** 1–200 characters of `[A-Za-z0-9._:@-]`. */
  readonly stateKey: string;
  /** An integer >= 0. */
  readonly move: number;
  /** A finite number within the configured bounds. */
  readonly value: number;
}

/** `GET /v1/rankings/export`'s document, and what `importReplace` takes. */
export interface RankingExport {
  readonly version: typeof EXPORT_FORMAT_VERSION;
  readonly exportedAt: string;
  readonly count: number;
  readonly entries: readonly RankingEntry[];
}

export interface RankingsOptions {
  /** Lowest value accepted. Default {@link DEFAULT_RANKING_MIN} (`SAVEPOINT_RANKING_MIN`). */
  readonly min?: number;
  /** Highest value accepted. Default {@link DEFAULT_RANKING_MAX} (`SAVEPOINT_RANKING_MAX`). */
  readonly max?: number;
  /** An unfinished import older than this is presumed crashed and collected. Default 1 hour. */
  readonly staleImportMs?: number;
  /** Hears failures of the background cleanup (it is retried on the next reset or import). */
  readonly onBackgroundError?: (error: unknown) => void;
}

interface Generation {
  readonly generation: number;
  /** The `current` document's version, `undefined` while it was never written. */
  readonly version: number | undefined;
}

const entryKey = (generation: number, stateKey: string, move: number): string =>
  `${generation}:${stateKey}:${move}`;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a state key and a move as they arrive (the HTTP layer passes `move` as parsed). */
export function assertPosition(stateKey: unknown, move: unknown, where = ''): void {
  const details: ErrorDetails = where === '' ? {} : { entry: where };
  if (typeof stateKey !== 'string' || !STATE_KEY_PATTERN.test(stateKey)) {
    throw invalidInput(`${where}stateKey must be 1 to 200 characters of [A-Za-z0-9._:@-]`, details);
  }
  if (typeof move !== 'number' || !Number.isSafeInteger(move) || move < 0) {
    throw invalidInput(`${where}move must be an integer >= 0`, details);
  }
}

/** Checks one entry against the bounds; `where` prefixes messages (`entries[3].`). */
function assertEntry(entry: unknown, min: number, max: number, where: string): asserts entry is RankingEntry {
  const details: ErrorDetails = where === '' ? {} : { entry: where };
  if (!isPlainObject(entry)) throw invalidInput(`${where || 'An entry '}must be an object`, details);
  assertPosition(entry.stateKey, entry.move, where);
  const value = entry.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidInput(`${where}value must be a finite number`, details);
  }
  if (value < min || value > max) {
    throw new SavepointError('OUT_OF_BOUNDS', `${where}value ${value} is outside [${min}, ${max}]`, {
      details: { ...details, min, max },
    });
  }
}

/** The generation's entries as the store holds them. */
function toEntry(document: StoredDocument): RankingEntry {
  const { stateKey, move, value } = document.value as { stateKey: string; move: number; value: number };
  return { stateKey, move, value };
}

/** The Q-table over a {@link Store}; see the module comment for the storage scheme. */
export class Rankings {
  readonly #store: Store;
  readonly #min: number;
  readonly #max: number;
  readonly #staleImportMs: number;
  readonly #onBackgroundError: (error: unknown) => void;
  readonly #backgroundErrorListeners = new Set<(error: unknown) => void>();
  #cleanup: Promise<void> | undefined;
  #cleanupRequested = false;

  constructor(store: Store, options: RankingsOptions = {}) {
    const min = options.min ?? DEFAULT_RANKING_MIN;
    const max = options.max ?? DEFAULT_RANKING_MAX;
    if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
      throw invalidInput(`Ranking bounds must be finite with min <= max, got [${min}, ${max}]`);
    }
    this.#store = store;
    this.#min = min;
    this.#max = max;
    this.#staleImportMs = options.staleImportMs ?? DEFAULT_STALE_IMPORT_MS;
    this.#onBackgroundError = options.onBackgroundError ?? (() => {});
  }

  /** The accepted value range, inclusive. */
  get bounds(): { readonly min: number; readonly max: number } {
    return { min: this.#min, max: this.#max };
  }

  /** The entry, or `undefined` when the table has no value for this move. */
  async get(stateKey: string, move: number): Promise<RankingEntry | undefined> {
    assertPosition(stateKey, move);
    let { generation } = await this.#live();
    for (let attempt = 1; ; attempt++) {
      const document = await this.#store.get(RANKING_COLLECTION, entryKey(generation, stateKey, move));
      if (document !== undefined) return toEntry(document);
      // A miss read across a flip may come from a generation already being deleted: look again.
      const live = (await this.#live()).generation;
      if (live === generation || attempt >= 5) return undefined;
      generation = live;
    }
  }

  /** Sets one value (last writer wins). Fails with `OUT_OF_BOUNDS` outside the bounds. */
  async set(stateKey: string, move: number, value: number): Promise<RankingEntry> {
    const entry = { stateKey, move, value };
    assertEntry(entry, this.#min, this.#max, '');
    const { generation } = await this.#live();
    await this.#store.commit([this.#putOp(generation, entry)]);
    await this.#unlessRetired(generation, [entryKey(generation, stateKey, move)]);
    return entry;
  }

  /**
   * Sets up to {@link MAX_BATCH_ENTRIES} values in one commit: all or nothing. Every entry is
   * checked first; the first bad one fails the call, naming its index. A `(stateKey, move)` given
   * twice takes its last value.
   */
  async setMany(entries: readonly RankingEntry[]): Promise<{ readonly written: number }> {
    if (!Array.isArray(entries)) throw invalidInput('entries must be an array');
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw invalidInput(`A batch holds at most ${MAX_BATCH_ENTRIES} entries; use import for more`);
    }
    entries.forEach((entry, index) => {
      assertEntry(entry, this.#min, this.#max, `entries[${index}].`);
    });
    if (entries.length === 0) return { written: 0 };
    const { generation } = await this.#live();
    const latest = new Map<string, RankingEntry>();
    for (const entry of entries) latest.set(entryKey(generation, entry.stateKey, entry.move), entry);
    await this.#store.commit([...latest.values()].map((entry) => this.#putOp(generation, entry)));
    await this.#unlessRetired(generation, [...latest.keys()]);
    return { written: entries.length };
  }

  /** Empties the table in one atomic step; the old entries are deleted in the background. */
  async reset(): Promise<void> {
    const generation = await this.#allocate();
    await this.#flip(generation, false);
    this.#collectInBackground();
    await appendAudit(this.#store, 'rankings-reset', { generation });
  }

  /** Every entry of the live table, read page by page (memory stays flat at any size). */
  async *entries(): AsyncGenerator<RankingEntry> {
    const { generation } = await this.#live();
    const prefix = `${generation}:`;
    let after: string | undefined;
    do {
      const page = await this.#store.list(RANKING_COLLECTION, {
        prefix,
        limit: PAGE,
        ...(after === undefined ? {} : { after }),
      });
      // After a flip the generation being read is deleted under us: fail rather than truncate.
      if ((await this.#live()).generation !== generation) {
        throw versionConflict('The rankings were reset or replaced during the export; export again');
      }
      for (const document of page.items) yield toEntry(document);
      after = page.nextCursor ?? undefined;
    } while (after !== undefined);
  }

  /**
   * The export document as JSON text, produced incrementally from pages of the table, so a table
   * of millions of entries streams in constant memory. `count` comes last, once it is known
   * (JSON objects are unordered, so the document is the same). A reset or import during the
   * export destroys the stream with `VERSION_CONFLICT` rather than end it truncated.
   */
  exportStream(): Readable {
    const rankings = this;
    async function* chunks(): AsyncGenerator<string> {
      const exportedAt = new Date(rankings.#store.now()).toISOString();
      yield `{"version":${EXPORT_FORMAT_VERSION},"exportedAt":"${exportedAt}","entries":[`;
      let count = 0;
      let buffered = '';
      for await (const entry of rankings.entries()) {
        buffered += `${count === 0 ? '' : ','}${JSON.stringify(entry)}`;
        count++;
        if (count % PAGE === 0) {
          yield buffered;
          buffered = '';
        }
      }
      yield `${buffered}],"count":${count}}`;
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** The whole export document in memory; for tables that fit (use `exportStream` otherwise). */
  async exportDocument(): Promise<RankingExport> {
    const exportedAt = new Date(this.#store.now()).toISOString();
    const entries: RankingEntry[] = [];
    for await (const entry of this.entries()) entries.push(entry);
    return { version: EXPORT_FORMAT_VERSION, exportedAt, count: entries.length, entries };
  }

  /**
   * Replaces the whole table with an export document, atomically at any size. The document is
   * checked completely before anything is written: a wrong `version`, a `count` that disagrees
   * with `entries`, a bad or out-of-bounds entry, or a `(stateKey, move)` given twice fails with
   * `INVALID_INPUT` or `OUT_OF_BOUNDS` naming the entry, and changes nothing.
   */
  async importReplace(document: unknown): Promise<{ readonly imported: number }> {
    const entries = this.#checkExport(document);
    const generation = await this.#allocate();
    await this.#store.commit([
      {
        op: 'put',
        collection: RANKING_META_COLLECTION,
        key: `${PENDING_PREFIX}${generation}`,
        value: { generation },
      },
    ]);
    try {
      for (let i = 0; i < entries.length; i += IMPORT_CHUNK) {
        const chunk = entries.slice(i, i + IMPORT_CHUNK);
        await this.#store.commit(chunk.map((entry) => this.#putOp(generation, entry)));
      }
      await this.#flip(generation, true);
    } catch (error) {
      // Nothing is visible yet; hand the half-written generation to the cleanup and report.
      await this.#retire(generation).catch(() => {});
      this.#collectInBackground();
      throw error;
    }
    this.#collectInBackground();
    await appendAudit(this.#store, 'rankings-import', { generation, imported: entries.length });
    return { imported: entries.length };
  }

  /**
   * Deletes retired generations and stale unfinished imports. Runs by itself after every reset
   * and import; call it at start to finish what a crashed process left behind.
   */
  collectGarbage(): Promise<void> {
    this.#collectInBackground();
    return this.settled();
  }

  /**
   * Also tells `listener` of background cleanup failures (besides `onBackgroundError`): a server
   * logs them while it serves this instance. Returns the function that stops telling it.
   */
  addBackgroundErrorListener(listener: (error: unknown) => void): () => void {
    this.#backgroundErrorListeners.add(listener);
    return () => this.#backgroundErrorListeners.delete(listener);
  }

  /** Resolves when no background cleanup is running (await it before closing the store). */
  async settled(): Promise<void> {
    while (this.#cleanup !== undefined) await this.#cleanup;
  }

  /**
   * A blind write that raced a reset or import may land in the generation it replaced, after the
   * cleanup swept it: invisible, yet never collected. The write is ordered before the reset, so
   * removing it again is what the reset means.
   */
  async #unlessRetired(generation: number, keys: readonly string[]): Promise<void> {
    if ((await this.#live()).generation === generation) return;
    await this.#store.commit(
      keys.map((key) => ({ op: 'delete' as const, collection: RANKING_COLLECTION, key })),
    );
  }

  #putOp(generation: number, entry: RankingEntry): CommitOp {
    const value: JsonObject = { stateKey: entry.stateKey, move: entry.move, value: entry.value };
    return {
      op: 'put',
      collection: RANKING_COLLECTION,
      key: entryKey(generation, entry.stateKey, entry.move),
      value,
    };
  }

  #checkExport(document: unknown): RankingEntry[] {
    if (!isPlainObject(document)) throw invalidInput('An import must be an export document (an object)');
    if (document.version !== EXPORT_FORMAT_VERSION) {
      throw invalidInput(`Unsupported export version ${JSON.stringify(document.version)}; expected 1`);
    }
    const entries = document.entries;
    if (!Array.isArray(entries)) throw invalidInput('The export document has no entries array');
    if (document.count !== undefined && document.count !== entries.length) {
      throw invalidInput(`count says ${String(document.count)} but entries holds ${entries.length}`);
    }
    const seen = new Map<string, number>();
    entries.forEach((entry: unknown, index) => {
      assertEntry(entry, this.#min, this.#max, `entries[${index}].`);
      const position = `${entry.stateKey}:${entry.move}`;
      const first = seen.get(position);
      if (first !== undefined) {
        throw invalidInput(`entries[${index}] repeats entries[${first}] (${position})`, {
          entry: `entries[${index}]`,
        });
      }
      seen.set(position, index);
    });
    return entries as RankingEntry[];
  }

  async #live(): Promise<Generation> {
    const document = await this.#store.get(RANKING_META_COLLECTION, CURRENT_KEY);
    if (document === undefined) return { generation: 0, version: undefined };
    return { generation: (document.value as { generation: number }).generation, version: document.version };
  }

  /** A generation number no one has used: an atomic `$inc` on the allocator. */
  async #allocate(): Promise<number> {
    const { results } = await this.#store.commit([
      {
        op: 'patch',
        collection: RANKING_META_COLLECTION,
        key: ALLOCATOR_KEY,
        patch: { $inc: { next: 1 } },
        upsert: true,
      },
    ]);
    const result = results[0];
    if (result?.op !== 'patch') throw new SavepointError('INTERNAL', 'The allocator patch returned nothing');
    return (result.document.value as { next: number }).next;
  }

  /**
   * Makes `generation` the live table and retires the old one, in one conditional commit. An
   * import's flip also consumes its `pending` marker (version 1, as written): if the cleanup took
   * the import for crashed and collected it, the flip fails instead of publishing a torn table.
   */
  async #flip(generation: number, pending: boolean): Promise<void> {
    const pendingKey = `${PENDING_PREFIX}${generation}`;
    await retryOnConflict(
      async () => {
        const live = await this.#live();
        if (pending && (await this.#store.get(RANKING_META_COLLECTION, pendingKey)) === undefined) {
          throw new SavepointError(
            'STORAGE_UNAVAILABLE',
            'The import ran longer than the stale-import limit and was collected; import again',
          );
        }
        const ops: CommitOp[] = [
          {
            op: 'put',
            collection: RANKING_META_COLLECTION,
            key: CURRENT_KEY,
            value: { generation },
            ...(live.version === undefined ? { mustNotExist: true } : { expectedVersion: live.version }),
          },
          ...this.#retireOps(live.generation),
        ];
        if (pending) {
          ops.push({
            op: 'delete',
            collection: RANKING_META_COLLECTION,
            key: pendingKey,
            expectedVersion: 1,
          });
        }
        await this.#store.commit(ops);
      },
      { attempts: 20 },
    );
  }

  async #retire(generation: number): Promise<void> {
    await this.#store.commit([
      { op: 'delete', collection: RANKING_META_COLLECTION, key: `${PENDING_PREFIX}${generation}` },
      ...this.#retireOps(generation),
    ]);
  }

  #retireOps(generation: number): CommitOp[] {
    return [
      {
        op: 'put',
        collection: RANKING_META_COLLECTION,
        key: `${RETIRED_PREFIX}${generation}`,
        value: { generation },
      },
    ];
  }

  #collectInBackground(): void {
    if (this.#cleanup !== undefined) {
      // One pass at a time; a request during a pass earns one more pass afterwards.
      this.#cleanupRequested = true;
      return;
    }
    this.#cleanup = (async () => {
      do {
        this.#cleanupRequested = false;
        try {
          await this.#collect();
        } catch (error) {
          this.#onBackgroundError(error);
          for (const listener of this.#backgroundErrorListeners) listener(error);
        }
      } while (this.#cleanupRequested);
    })().finally(() => {
      this.#cleanup = undefined;
    });
  }

  async #collect(): Promise<void> {
    const live = await this.#live();
    const staleBefore = this.#store.now() - this.#staleImportMs;
    for (const marker of await this.#markers(RETIRED_PREFIX)) {
      await this.#deleteGeneration(marker, live.generation);
    }
    for (const marker of await this.#markers(PENDING_PREFIX)) {
      if (marker.createdAt <= staleBefore) await this.#deleteGeneration(marker, live.generation);
    }
  }

  async #markers(prefix: string): Promise<StoredDocument[]> {
    const page = await this.#store.list(RANKING_META_COLLECTION, { prefix, limit: PAGE });
    return [...page.items];
  }

  /** Deletes a generation's entries page by page, then its marker (never the live generation). */
  async #deleteGeneration(marker: StoredDocument, liveGeneration: number): Promise<void> {
    const generation = (marker.value as { generation: number }).generation;
    if (generation !== liveGeneration) {
      for (;;) {
        const page = await this.#store.list(RANKING_COLLECTION, { prefix: `${generation}:`, limit: PAGE });
        if (page.items.length === 0) break;
        await this.#store.commit(
          page.items.map((document) => ({
            op: 'delete' as const,
            collection: RANKING_COLLECTION,
            key: document.key,
          })),
        );
      }
    }
    await this.#store.commit([{ op: 'delete', collection: RANKING_META_COLLECTION, key: marker.key }]);
  }
}
