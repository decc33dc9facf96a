/**
 * What `/health` reports about storage: a cheap probe read, the commits waiting, and the last
 * storage failure any commit met (kept for five minutes, during which the status is `degraded`).
 */
import type { Store } from '../engine/store.js';
import type { SavepointError } from '../errors.js';

/** Codes that point at the storage rather than at the caller. */
const STORAGE_FAULTS = new Set(['STORAGE_UNAVAILABLE', 'STORAGE_FULL', 'CORRUPT_DATA', 'INTERNAL']);
/** How long a storage failure keeps the status `degraded`. */
const RECENT_MS = 5 * 60_000;
/** A probe slower than this fails: a store this slow cannot serve. */
const PROBE_TIMEOUT_MS = 2000;
/** More queued commits than this marks the status `degraded`. */
const BACKLOG_LIMIT = 1000;

export interface StorageReport {
  readonly ok: boolean;
  readonly pendingWrites: number;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
}

export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'unavailable';
  readonly storage: StorageReport;
}

export class StorageHealth {
  readonly #store: Store;
  #lastError: { readonly message: string; readonly at: number } | undefined;
  readonly #stopObserving: () => void;

  constructor(store: Store) {
    this.#store = store;
    this.#stopObserving = store.observeCommits(({ error }) => {
      if (error !== undefined && STORAGE_FAULTS.has(error.code)) this.#record(error);
    });
  }

  #record(error: SavepointError | Error): void {
    const code = 'code' in error ? `${String(error.code)}: ` : '';
    this.#lastError = { message: `${code}${error.message}`, at: Date.now() };
  }

  /** Probes the store with one read (of a record that never exists) and reports. */
  async check(): Promise<HealthReport> {
    let ok = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#store.get('_health', 'probe'),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)),
            PROBE_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      ok = false;
      this.#record(error instanceof Error ? error : new Error(String(error)));
    } finally {
      clearTimeout(timer);
    }
    const pendingWrites = this.#store.pendingCommits;
    const last = this.#lastError;
    const recent = last !== undefined && Date.now() - last.at < RECENT_MS;
    const storage: StorageReport = {
      ok,
      pendingWrites,
      ...(last === undefined
        ? {}
        : { lastError: last.message, lastErrorAt: new Date(last.at).toISOString() }),
    };
    const status = !ok ? 'unavailable' : recent || pendingWrites > BACKLOG_LIMIT ? 'degraded' : 'ok';
    return { status, storage };
  }

  stop(): void {
    this.#stopObserving();
  }
}
