/**
 * Merges two feeds of external changes that may both carry the same commit: the Redis bus and the
 * inner driver's own notices (PostgreSQL `NOTIFY`). The two do not describe a commit identically:
 * PostgreSQL reads documents back as they are when the notice is handled (possibly a later
 * version), joins adjacent stream ranges, and names a board once per batch. So each kind is
 * matched on what both feeds agree on:
 *
 * - documents by state: a document change is delivered only if it is news, that is, not the state
 *   last delivered for that key, nor an older version of the same incarnation (same `createdAt`);
 * - stream events one by one, by `(stream, seq, at)`: an event the other feed already delivered
 *   is dropped from the change, and a change left with no events is dropped;
 * - stream deletions and boards by name, counted (a twin from the other feed cancels one), with
 *   repeats of a board inside one batch collapsed first (a board change is a hint to re-read);
 * - `unknown` is never dropped: one too many costs a re-read, never correctness.
 *
 * What a twin never comes for (the other feed said `unknown` instead) is forgotten after
 * {@link PENDING_TTL_MS}, and each table keeps at most {@link MAX_TRACKED} entries.
 */
import type { Change } from '../../engine/driver.js';
import type { StoredDocument } from '../../engine/types.js';

export type FeedSource = 'bus' | 'inner';

export const PENDING_TTL_MS = 30_000;
export const MAX_TRACKED = 10_000;

interface Pending {
  count: number;
  readonly since: number;
}

/** A document's state as last delivered: its incarnation and version, or `null` for deleted. */
type DocumentState = { readonly createdAt: number; readonly version: number } | null;

const stateOf = (document: StoredDocument | null): DocumentState =>
  document === null ? null : { createdAt: document.createdAt, version: document.version };

export class ChangeDeduper {
  readonly #pending: Record<FeedSource, Map<string, Pending>> = { bus: new Map(), inner: new Map() };
  readonly #documents = new Map<string, DocumentState>();

  /** The part of `changes` (from `source`) that has not been delivered yet. */
  accept(source: FeedSource, changes: readonly Change[], now = performance.now()): Change[] {
    for (const pending of Object.values(this.#pending)) prune(pending, now);
    const fresh: Change[] = [];
    const boards = new Set<string>();
    for (const change of changes) {
      switch (change.kind) {
        case 'document':
          if (this.#isNews(change.collection, change.key, stateOf(change.document))) fresh.push(change);
          break;
        case 'stream': {
          const events = change.events.filter(
            (event) => !this.#twin(source, `s\u0000${change.stream}\u0000${event.seq}\u0000${event.at}`, now),
          );
          if (events.length === change.events.length) fresh.push(change);
          else if (events.length > 0) fresh.push({ ...change, events });
          break;
        }
        case 'streamDeleted':
          if (!this.#twin(source, `x\u0000${change.stream}`, now)) fresh.push(change);
          break;
        case 'board':
          if (boards.has(change.board)) break;
          boards.add(change.board);
          if (!this.#twin(source, `b\u0000${change.board}`, now)) fresh.push(change);
          break;
        case 'unknown':
          fresh.push(change);
          break;
      }
    }
    return fresh;
  }

  #isNews(collection: string, key: string, state: DocumentState): boolean {
    const id = `${collection}\u0000${key}`;
    const last = this.#documents.get(id);
    if (last !== undefined) {
      if (state === null && last === null) return false;
      if (
        state !== null &&
        last !== null &&
        state.createdAt === last.createdAt &&
        state.version <= last.version
      )
        return false;
    }
    // Re-inserted, so the map's first entry is the key heard of longest ago.
    this.#documents.delete(id);
    this.#documents.set(id, state);
    if (this.#documents.size > MAX_TRACKED) {
      const oldest = this.#documents.keys().next();
      if (oldest.done !== true) this.#documents.delete(oldest.value);
    }
    return true;
  }

  /** True when the other feed already delivered this; otherwise remembers it for the other feed. */
  #twin(source: FeedSource, print: string, now: number): boolean {
    const theirs = this.#pending[source === 'bus' ? 'inner' : 'bus'];
    const twin = theirs.get(print);
    if (twin !== undefined) {
      if (--twin.count === 0) theirs.delete(print);
      return true;
    }
    const mine = this.#pending[source];
    const seen = mine.get(print);
    if (seen !== undefined) seen.count++;
    else mine.set(print, { count: 1, since: now });
    return false;
  }
}

function prune(pending: Map<string, Pending>, now: number): void {
  // Insertion order is arrival order, so the oldest entries are at the front.
  for (const [print, entry] of pending) {
    if (pending.size <= MAX_TRACKED && now - entry.since < PENDING_TTL_MS) break;
    pending.delete(print);
  }
}
