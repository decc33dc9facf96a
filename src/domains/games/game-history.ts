/**
 * A game's history: the versions a persist, a rollback, a fork or an events call that carries a
 * state or phase made current, kept so that any retained version can be read back, rolled back to
 * or forked (see docs/time-travel.md).
 *
 * How it is stored, and why:
 * - Each version is an entry `{ v, t, q, d }`: its version, time, last event seq, and a *reverse*
 *   delta (`d`) that turns the fields of the next newer version into its own. The newest fields are
 *   the game document itself, so a write only adds a small delta computed from the record it
 *   already read, and reading version V walks back from the current state.
 * - Each entry is written as a document of its own, `game-history/{gameId}/{page}.{position}`: a
 *   write adds its entry and rewrites nothing. Every {@link PAGE_ENTRIES} entries make a page; a
 *   write early in a page seals the full one before it: its entries are deflated into one page
 *   document `game-history/{gameId}/{page}` (`z`), since neighbouring deltas repeat the same paths
 *   and compress several times over, and one row per 16 versions costs less than 16 (per-row
 *   overhead would otherwise cost more than the deltas themselves). Its entry documents go in the
 *   same commit. Pages written before entries had documents of their own hold their entries in `e`
 *   (open) and are read, and sealed, with the entry documents that follow them.
 * - The game document counts the entries written (`history`); entry n lives in page ⌊(n−1)/16⌋.
 *   Entries older than the last `versions` are pruned: ignored when read, and their page deleted in
 *   the commit that makes the whole page too old. Pages and entries expire with the game and are
 *   deleted with it.
 * - Everything is written in the commit that makes the version current, so history and state never
 *   disagree, whatever crashes.
 *
 * An entry's time is the store's clock just before its commit; the commit stamps the document a
 * moment later. The next entry records the version and exact time of the document it replaced
 * (`pv`, `pt`), which replace it whenever no event append came between.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { applyJsonDelta, diffJson, isJsonDelta, type JsonDelta } from '../../engine/json-delta.js';
import type { Store } from '../../engine/store.js';
import type { CommitOp, JsonObject, JsonValue, StoredDocument } from '../../engine/types.js';
import { notFound } from '../../errors.js';
import { type GameStatus, isJsonObject, type StoredGame } from './game-record.js';

/** Collection of history pages and entries, keyed by {@link pageKey} and {@link entryKey}. */
export const HISTORY_COLLECTION = 'game-history';
/** Versions kept per game (`SAVEPOINT_GAME_HISTORY`). */
export const DEFAULT_HISTORY_VERSIONS = 100;
/** Entries per page document. */
export const PAGE_ENTRIES = 16;

/** The fields a version restores: the stored game without its event head and bookkeeping. */
export type VersionedFields = Pick<StoredGame, 'state' | 'players' | 'phase' | 'status' | 'completedAt'>;

/** One retained version, rebuilt. */
export interface GameVersion {
  readonly version: number;
  /** When the version was made current (ms since the epoch). */
  readonly persistedAt: number;
  /** The last event seq at that version. */
  readonly lastSeq: number;
  readonly fields: VersionedFields;
}

interface HistoryEntry {
  readonly v: number;
  readonly t: number;
  readonly q: number;
  /** Turns the next newer entry's fields into this one's; `null` when this is the first one. */
  readonly d: JsonDelta | null;
  /** The version and exact time of the document this entry's write replaced. */
  readonly pv?: number;
  readonly pt?: number;
}

/** What a write of a new version tells the history. */
export interface VersionWrite {
  /** The record this write replaces, when there is a readable one. */
  readonly previous: { readonly game: StoredGame; readonly document: StoredDocument } | undefined;
  readonly next: VersionedFields;
  /** The version the write's commit creates. */
  readonly version: number;
  readonly lastSeq: number;
  readonly now: number;
  /** The game document's expiry after the write; pages share it. */
  readonly expiresAt: number | null;
}

const PAGE_DIGITS = 16;
/** Sealed pages kept inflated, by their deflated text (which is their content: no stale hit can occur). */
const INFLATED_PAGES = 512;
/** The `{gameId}/` prefix is exact: `/` cannot occur in ids. */
const pagePrefix = (gameId: string): string => `${gameId}/`;
const pageKey = (gameId: string, page: number): string =>
  `${pagePrefix(gameId)}${String(page).padStart(PAGE_DIGITS, '0')}`;
const pageOf = (ordinal: number): number => Math.floor((ordinal - 1) / PAGE_ENTRIES);
/** Entry n's own document: `{page}.{position in the page}`, listed right after its page. */
const entryKey = (gameId: string, ordinal: number): string =>
  `${pageKey(gameId, pageOf(ordinal))}.${String((ordinal - 1) % PAGE_ENTRIES).padStart(2, '0')}`;
/** The position an entry document's key ends with (`.07`), or `undefined` for a page's key. */
function positionOf(suffix: string): number | undefined {
  if (!/^\.\d{2}$/.test(suffix)) return undefined;
  const position = Number(suffix.slice(1));
  return position < PAGE_ENTRIES ? position : undefined;
}

export function versionedFields(game: StoredGame): VersionedFields {
  return {
    state: game.state,
    players: game.players,
    phase: game.phase,
    status: game.status,
    completedAt: game.completedAt,
  };
}

const fieldsToJson = (fields: VersionedFields): JsonObject => ({
  state: fields.state,
  players: [...fields.players],
  phase: fields.phase,
  status: fields.status,
  completedAt: fields.completedAt,
});

function fieldsFromJson(value: JsonObject): VersionedFields | undefined {
  const { state, players, phase, status, completedAt } = value;
  if (!isJsonObject(state)) return undefined;
  if (!Array.isArray(players) || !players.every((p): p is string => typeof p === 'string')) return undefined;
  if (phase !== null && typeof phase !== 'string') return undefined;
  if (status !== 'active' && status !== 'completed') return undefined;
  if (completedAt !== null && typeof completedAt !== 'number') return undefined;
  return { state, players, phase, status: status as GameStatus, completedAt };
}

function parseEntry(value: JsonValue | undefined): HistoryEntry | undefined {
  if (!isJsonObject(value)) return undefined;
  const { v, t, q, d, pv, pt } = value;
  if (typeof v !== 'number' || typeof t !== 'number' || typeof q !== 'number') return undefined;
  if (d !== null && !isJsonDelta(d)) return undefined;
  return { v, t, q, d, ...(typeof pv === 'number' && typeof pt === 'number' ? { pv, pt } : {}) };
}

/** A sealed page's entries; none when it is damaged (the walk then ends there). */
function inflateEntries(deflated: string): JsonValue[] {
  try {
    const entries: unknown = JSON.parse(inflateRawSync(Buffer.from(deflated, 'base64')).toString('utf8'));
    return Array.isArray(entries) ? (entries as JsonValue[]) : [];
  } catch {
    return [];
  }
}

/** Why a version cannot be read: the `NOT_FOUND` detail says which. */
function missingVersion(gameId: string, version: number, reason: string): Error {
  return notFound(`Version ${version} of game "${gameId}" ${reason}`, { gameId, version });
}

/** The history of every game of one store. */
export class GameHistory {
  readonly #store: Store;
  readonly #versions: number;
  /** Least recently used first. */
  readonly #inflated = new Map<string, JsonValue[]>();

  /** `versions`: how many versions each game keeps; 0 keeps none. */
  constructor(store: Store, versions: number) {
    this.#store = store;
    this.#versions = versions;
  }

  get enabled(): boolean {
    return this.#versions > 0;
  }

  /** Versions kept per game. */
  get versions(): number {
    return this.#versions;
  }

  /**
   * The ops that record a new version, for the commit that writes it, and the entry count the
   * game document must then hold. With no readable previous record, the history starts again.
   */
  async recordOps(
    gameId: string,
    write: VersionWrite,
  ): Promise<{ readonly ops: CommitOp[]; readonly count: number }> {
    if (!this.enabled) return { ops: [], count: 0 };
    const previous = write.previous;
    const ordinal = (previous?.game.historyCount ?? 0) + 1;
    const entry: JsonObject = {
      v: write.version,
      t: write.now,
      q: write.lastSeq,
      d:
        previous === undefined
          ? null
          : diffJson(fieldsToJson(write.next), fieldsToJson(versionedFields(previous.game))),
    };
    // The replaced record's own version and time: exact for the previous entry when no append came between.
    if (previous !== undefined) {
      entry.pv = previous.document.version;
      entry.pt = previous.document.updatedAt;
    }
    const ops: CommitOp[] = [
      {
        op: 'put',
        collection: HISTORY_COLLECTION,
        key: entryKey(gameId, ordinal),
        value: entry,
        expiresAt: write.expiresAt,
      },
    ];
    // An entry of a page seals the page before it (the game document's condition in the same
    // commit makes a concurrent writer retry): the one at the game's seal position in its page.
    if (ordinal > PAGE_ENTRIES && (ordinal - 1) % PAGE_ENTRIES === this.#sealPosition(gameId))
      ops.push(...(await this.#sealOps(gameId, pageOf(ordinal) - 1, write.expiresAt)));
    const pruned = ordinal - this.#versions;
    if (pruned > 0 && pruned % PAGE_ENTRIES === 0)
      ops.push({
        op: 'delete',
        collection: HISTORY_COLLECTION,
        key: pageKey(gameId, pruned / PAGE_ENTRIES - 1),
      });
    return { ops, count: ordinal };
  }

  /**
   * Where in a page a game's entry seals the page before it. Games written in step (a server's
   * tables, each acting every few hundred ms) would otherwise all seal in the same write, a burst
   * that stalled every request behind it; spread by game, the seals take turns. The first entry
   * seals when few versions are kept: pruning must find the page it deletes already sealed
   * (it is, since a page is pruned at least 32 entries after it fills and sealed within 16).
   */
  #sealPosition(gameId: string): number {
    if (this.#versions < 2 * PAGE_ENTRIES) return 0;
    let hash = 0;
    for (let i = 0; i < gameId.length; i++) hash = (hash * 31 + gameId.charCodeAt(i)) | 0;
    return (hash >>> 0) % PAGE_ENTRIES;
  }

  /** The ops that deflate a full page's entries into its page document and delete its entry documents. */
  async #sealOps(gameId: string, page: number, expiresAt: number | null): Promise<CommitOp[]> {
    const key = pageKey(gameId, page);
    const stored = (await this.#store.list(HISTORY_COLLECTION, { prefix: key, limit: 1000 })).items;
    const byPosition = new Map<number, JsonValue>();
    let legacy: StoredDocument | undefined;
    for (const document of stored) {
      const position = positionOf(document.key.slice(key.length));
      if (position !== undefined) byPosition.set(position, document.value);
      else if (document.key === key) {
        // The page's own document: open from before entries had documents (`e`), or already sealed
        // by an instance of that time, which did not know the entry documents.
        legacy = document;
        this.#entriesOf(document).forEach((item, index) => {
          if (!byPosition.has(index)) byPosition.set(index, item);
        });
      }
    }
    // The entries in order, up to the first one missing (a damaged page ends the walk there anyway).
    const entries: JsonValue[] = [];
    for (let position = 0; byPosition.has(position); position++)
      entries.push(byPosition.get(position) as JsonValue);
    if (entries.length === 0) return [];
    return [
      {
        op: 'put',
        collection: HISTORY_COLLECTION,
        key,
        value: { z: deflateRawSync(JSON.stringify(entries)).toString('base64') },
        ...(legacy === undefined ? { mustNotExist: true } : { expectedVersion: legacy.version }),
        expiresAt,
      },
      ...stored
        .filter((document) => document.key !== key)
        .map((document): CommitOp => ({ op: 'delete', collection: HISTORY_COLLECTION, key: document.key })),
    ];
  }

  /** Ops that delete every page of the game: its removal, or a history started again. */
  async deleteOps(gameId: string): Promise<CommitOp[]> {
    return (await this.#pages(gameId)).map((page) => ({
      op: 'delete',
      collection: HISTORY_COLLECTION,
      key: page.key,
    }));
  }

  /** Ops that give every page the game document's new expiry (completing or reopening it). */
  async expireOps(gameId: string, expiresAt: number | null): Promise<CommitOp[]> {
    return (await this.#pages(gameId)).map((page) => ({
      op: 'patch',
      collection: HISTORY_COLLECTION,
      key: page.key,
      patch: {},
      expiresAt,
    }));
  }

  /**
   * The retained versions, newest first, rebuilt from the current record. A damaged or missing
   * page ends the walk: the versions behind it count as pruned.
   */
  async list(
    gameId: string,
    current: { readonly game: StoredGame; readonly document: StoredDocument },
  ): Promise<GameVersion[]> {
    const count = current.game.historyCount ?? 0;
    if (!this.enabled || count === 0) return [];
    const oldest = Math.max(1, count - this.#versions + 1);
    const entries = new Map<number, HistoryEntry>();
    const keep = (ordinal: number, item: JsonValue) => {
      const entry = parseEntry(item);
      if (entry !== undefined && ordinal >= oldest && ordinal <= count && !entries.has(ordinal))
        entries.set(ordinal, entry);
    };
    for (const page of await this.#pages(gameId)) {
      const name = page.key.slice(pagePrefix(gameId).length);
      const index = Number(name.slice(0, PAGE_DIGITS));
      const position = positionOf(name.slice(PAGE_DIGITS));
      // An entry document, or a page: sealed, or open from before entries had documents.
      if (position !== undefined) keep(index * PAGE_ENTRIES + position + 1, page.value);
      else
        this.#entriesOf(page).forEach((item, at) => {
          keep(index * PAGE_ENTRIES + at + 1, item);
        });
    }
    const versions: GameVersion[] = [];
    let fields: VersionedFields | undefined = versionedFields(current.game);
    let newer: HistoryEntry | undefined;
    for (let ordinal = count; ordinal >= oldest && fields !== undefined; ordinal--) {
      const entry = entries.get(ordinal);
      if (entry === undefined) break;
      if (newer !== undefined) {
        if (newer.d === null) break;
        fields = fieldsFromJson(applyJsonDelta(fieldsToJson(fields), newer.d));
        if (fields === undefined) break;
      }
      const exactTime =
        newer === undefined
          ? current.document.version === entry.v
            ? current.document.updatedAt
            : undefined
          : newer.pv === entry.v
            ? newer.pt
            : undefined;
      versions.push({ version: entry.v, persistedAt: exactTime ?? entry.t, lastSeq: entry.q, fields });
      newer = entry;
    }
    return versions;
  }

  /**
   * One retained version. Errors: `NOT_FOUND`, saying whether the version is newer than the game,
   * pruned, or was never a version of its own (an event append without a state).
   */
  async version(
    gameId: string,
    current: { readonly game: StoredGame; readonly document: StoredDocument },
    version: number,
  ): Promise<GameVersion> {
    if (version > current.document.version)
      throw missingVersion(
        gameId,
        version,
        `was never stored: the game is at version ${current.document.version}`,
      );
    const retained = await this.list(gameId, current);
    const found = retained.find((candidate) => candidate.version === version);
    if (found !== undefined) return found;
    const oldest = retained[retained.length - 1];
    if (!this.enabled) throw missingVersion(gameId, version, 'is not kept: game history is turned off');
    if (oldest === undefined || version < oldest.version)
      throw missingVersion(
        gameId,
        version,
        `has been pruned or was never kept: history keeps the last ${this.#versions} versions`,
      );
    throw missingVersion(
      gameId,
      version,
      'was made by an event append without a state and is not kept on its own',
    );
  }

  /** A page's entries, inflating a sealed page once. */
  #entriesOf(page: StoredDocument): JsonValue[] {
    const value = page.value;
    if (!isJsonObject(value)) return [];
    if (Array.isArray(value.e)) return value.e;
    if (typeof value.z !== 'string') return [];
    const id = value.z;
    let entries = this.#inflated.get(id);
    if (entries === undefined) {
      entries = inflateEntries(value.z);
      if (this.#inflated.size >= INFLATED_PAGES) {
        const oldest = this.#inflated.keys().next();
        if (oldest.done !== true) this.#inflated.delete(oldest.value);
      }
    } else {
      this.#inflated.delete(id);
    }
    this.#inflated.set(id, entries);
    return entries;
  }

  #pages(gameId: string): Promise<StoredDocument[]> {
    return this.#store.listAll(HISTORY_COLLECTION, pagePrefix(gameId));
  }
}
