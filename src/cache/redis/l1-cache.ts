/**
 * The in-process cache in front of Redis: a bounded LRU of serialized documents, keyed by their
 * Redis key. It keeps JSON text, not objects, so every hit parses a fresh copy (the conformance
 * suite requires that a caller mutating a read cannot change the next one).
 *
 * Fills are guarded: a reader takes a {@link L1Cache.readToken} before it looks anywhere, and its
 * fill is refused if the key was invalidated after that, so a slow reader can never put back a
 * value older than a write this process has already heard of.
 */

/** One cached lookup. */
export interface L1Entry {
  /** The document's JSON, or `null` when the document is known not to exist. */
  readonly json: string | null;
  /** The document's `expiresAt` (checked against each read's `now`), `null` for never. */
  readonly expiresAt: number | null;
  /** When this entry stops being served, in `performance.now()` time. */
  readonly deadline: number;
}

export interface L1Options {
  /** Most entries kept; 0 disables the cache. */
  readonly maxEntries: number;
  /** Longest an entry is served, in ms: a safety net should an invalidation ever be missed. */
  readonly maxAgeMs: number;
  /** Larger documents (in JSON characters) are not kept, so the entry bound also bounds memory. */
  readonly maxEntryChars: number;
}

export class L1Cache {
  readonly #entries = new Map<string, L1Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #maxEntryChars: number;
  /** Bumped by every invalidation; read tokens are values of it. */
  #sequence = 0;
  /** The sequence at which each recently invalidated key was last invalidated. */
  readonly #invalidatedAt = new Map<string, number>();
  /** Keys forgotten from `#invalidatedAt` count as invalidated at this sequence. */
  #floor = 0;

  constructor(options: L1Options) {
    this.#maxEntries = options.maxEntries;
    this.#maxAgeMs = options.maxAgeMs;
    this.#maxEntryChars = options.maxEntryChars;
  }

  get enabled(): boolean {
    return this.#maxEntries > 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry for `key`, refreshed as most recently used, or `undefined`. */
  get(key: string): L1Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.deadline <= performance.now()) return undefined;
    this.#entries.set(key, entry);
    return entry;
  }

  /** Taken before a read starts looking; pass it to {@link fill}. */
  readToken(): number {
    return this.#sequence;
  }

  /**
   * Stores what a read found, unless `key` was invalidated since `token` was taken or the document
   * is over `maxEntryChars`. `ttlMs` caps the entry's age below the cache's own `maxAgeMs`.
   * Returns whether it was stored.
   */
  fill(key: string, json: string | null, expiresAt: number | null, ttlMs: number, token: number): boolean {
    if (!this.enabled || (this.#invalidatedAt.get(key) ?? this.#floor) > token) return false;
    this.#entries.delete(key);
    if (json !== null && json.length > this.#maxEntryChars) return false;
    this.#entries.set(key, {
      json,
      expiresAt,
      deadline: performance.now() + Math.min(ttlMs, this.#maxAgeMs),
    });
    if (this.#entries.size > this.#maxEntries) {
      // A Map iterates in insertion order and `get` re-inserts, so the first key is the least recently used.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return true;
  }

  /** Drops `keys` and refuses fills by reads that started before now. */
  invalidate(keys: Iterable<string>): void {
    const sequence = ++this.#sequence;
    for (const key of keys) {
      this.#entries.delete(key);
      this.#invalidatedAt.delete(key);
      this.#invalidatedAt.set(key, sequence);
    }
    // Only reads in flight need the per-key marks; beyond a bound, forget them all and refuse every
    // older read's fill instead (a few lost fills, never a stale one).
    if (this.#invalidatedAt.size > Math.max(1024, this.#maxEntries)) {
      this.#invalidatedAt.clear();
      this.#floor = sequence;
    }
  }

  /** Drops every entry and refuses fills by reads that started before now. */
  clear(): void {
    this.#entries.clear();
    this.#invalidatedAt.clear();
    this.#floor = ++this.#sequence;
  }
}
