/**
 * Notices commits made by other connections to the same file (another Savepoint process, the
 * `savepoint seed` CLI) by polling `PRAGMA data_version`, which changes exactly when another
 * connection has committed since the last look. Commits made through this connection never change it.
 */
import type Database from 'better-sqlite3';
import type { Change, ExternalChangeListener } from '../../engine/driver.js';

/** How often the watcher looks, while anyone listens. */
export const DATA_VERSION_POLL_MS = 250;

/** What the SQLite driver can say about a change it did not make: only that something changed. */
const UNKNOWN_CHANGE: readonly Change[] = Object.freeze([Object.freeze({ kind: 'unknown' as const })]);

export class DataVersionWatcher {
  readonly #dataVersion: Database.Statement<[], number>;
  readonly #listeners = new Set<ExternalChangeListener>();
  #timer: NodeJS.Timeout | undefined;
  #lastSeen = 0;

  constructor(db: Database.Database) {
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /** Adds a listener (listeners must not throw); polling runs while there is at least one. */
  listen(listener: ExternalChangeListener): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#lastSeen = this.#dataVersion.get() as number;
      // unref: a store nobody writes to must not keep the process alive.
      this.#timer = setInterval(() => this.#poll(), DATA_VERSION_POLL_MS).unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #poll(): void {
    let version: number | undefined;
    try {
      version = this.#dataVersion.get();
    } catch {
      // Unable to tell is reported as a change: a cache that drops everything stays correct.
      version = undefined;
    }
    if (version !== undefined && version === this.#lastSeen) return;
    if (version !== undefined) this.#lastSeen = version;
    for (const listener of this.#listeners) listener(UNKNOWN_CHANGE);
  }
}
