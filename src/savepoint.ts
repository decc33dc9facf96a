import type { Catalog } from './domains/catalog/catalog.js';
import type { Games } from './domains/games/games.js';
import type { Leaderboards } from './domains/leaderboards/leaderboards.js';
import type { Leases } from './domains/leases/leases.js';
import type { Matches } from './domains/matches/matches.js';
import type { Rankings } from './domains/rankings/rankings.js';
import type { Saves } from './domains/saves/saves.js';
import type { Sessions } from './domains/sessions/sessions.js';
import type { Stats } from './domains/stats/stats.js';
import type { StartupRecovery } from './engine/driver.js';
import { type Clock, Store } from './engine/store.js';
import { ReservedCollections } from './http-kit/reserved-collections.js';
import type { AnySavepointModule, SavepointModule } from './module.js';
import {
  catalogModule,
  gamesModule,
  leaderboardsModule,
  leasesModule,
  type ModuleOptions,
  matchesModule,
  rankingsModule,
  savepointModules,
  savesModule,
  sessionsModule,
  statsModule,
} from './modules.js';
import { DEFAULT_STORAGE_URL, type DriverOptions, openDriver, type StorageUrl } from './open.js';

export type { ModuleOptions } from './modules.js';

export interface SavepointOptions extends DriverOptions, ModuleOptions {
  /** `memory:`, `sqlite:<path>` or `postgres://…`. Default `sqlite:./data/savepoint.db`. */
  readonly url?: StorageUrl;
  /** Largest serialized value accepted, in bytes. Default 16 MiB. */
  readonly maxValueBytes?: number;
  /** Source of "now"; tests pass a manual clock. Default `Date.now`. */
  readonly clock?: Clock;
  /** How long an idempotency key's record is kept, in milliseconds. Default 24 hours. */
  readonly idempotencyTtlMs?: number;
}

/**
 * An open Savepoint: the engine (`store`) and the game modules built on it, the composition root of
 * everything above the engine. Each module (`src/modules.ts`) is created once, on first use, with
 * its settings from the options; a program that only needs the engine pays nothing for the rest.
 * Everything a module keeps in memory (the games outbox and feeds, the catalog's cache) belongs to
 * this instance, and `close()` stops it.
 */
export class Savepoint {
  /** Documents, streams and boards behind one atomic `commit`. */
  readonly store: Store;
  /** Collections the modules own: the documents API may not write them (or, when hidden, read them). */
  readonly reservedCollections = new ReservedCollections();
  readonly #moduleOptions: ModuleOptions;
  /** The instances created so far, in creation order (closed in the reverse order). */
  readonly #instances = new Map<AnySavepointModule, unknown>();

  constructor(store: Store, modules: ModuleOptions = {}) {
    this.store = store;
    this.#moduleOptions = modules;
    for (const module of savepointModules) this.#reserve(module);
  }

  /** The modules this Savepoint is composed of, in the order the HTTP server registers their routes. */
  get modules(): readonly AnySavepointModule[] {
    return savepointModules;
  }

  /**
   * The instance of `module`, created on first use with its settings (`options[module.name]`).
   * Works for a module outside {@link modules} too: its collections are reserved on first use.
   */
  use<Api, Options>(module: SavepointModule<string, Api, Options>): Api {
    if (this.#instances.has(module)) return this.#instances.get(module) as Api;
    if (!savepointModules.includes(module)) this.#reserve(module);
    // Settings are keyed by module name; `ModuleOptions` types the ones of the built-in modules.
    const options = (this.#moduleOptions as Readonly<Record<string, unknown>>)[module.name] as
      | Options
      | undefined;
    const api = module.create({ store: this.store, options, collections: this.reservedCollections });
    this.#instances.set(module, api);
    return api;
  }

  /** Persist, restore and reconnect games; event logs, history and live feeds. */
  get games(): Games {
    return this.use(gamesModule);
  }

  /** Sessions with exact counts by status. */
  get sessions(): Sessions {
    return this.use(sessionsModule);
  }

  /** Game outcome counters and running metrics. */
  get stats(): Stats {
    return this.use(statsModule);
  }

  /** The Q-table of move rankings, with bounds and atomic import. */
  get rankings(): Rankings {
    return this.use(rankingsModule);
  }

  /** Per-player save slots. */
  get saves(): Saves {
    return this.use(savesModule);
  }

  /** Versioned game constants loaded from seed files. */
  get catalog(): Catalog {
    return this.use(catalogModule);
  }

  /** Matches, rounds, scores, lifetime records and analytics. */
  get matches(): Matches {
    return this.use(matchesModule);
  }

  /** Leaderboards with UTC periods. */
  get leaderboards(): Leaderboards {
    return this.use(leaderboardsModule);
  }

  /** Named locks with a TTL and a fence. */
  get leases(): Leases {
    return this.use(leasesModule);
  }

  /**
   * The fallback the storage took at open because its data could not be used as found (a corrupt
   * file quarantined, a backup restored), or `undefined`. `/health` reports it.
   */
  get recovery(): StartupRecovery | undefined {
    return this.store.capabilities.recovery;
  }

  /**
   * Writes the modules accepted but have not stored yet (a games outbox during a storage outage).
   * Only a module already created can hold any, so this creates none.
   */
  get queuedWrites(): number {
    let total = 0;
    for (const [module, api] of this.#instances) total += module.queuedWrites?.(api) ?? 0;
    return total;
  }

  /**
   * Runs every module's sweep hook: what the engine's expiry sweep cannot reach by itself (score
   * boards of swept matches). Call it once `store.sweepExpired` has nothing left. Answers the count removed.
   */
  async sweepModules(): Promise<number> {
    let removed = 0;
    for (const module of this.#known()) if (module.sweep) removed += await module.sweep(this.use(module));
    return removed;
  }

  /** Every module's relationship check, in module order: one readable line per problem. */
  async checkModules(): Promise<string[]> {
    const problems: string[] = [];
    for (const module of this.#known())
      if (module.check) problems.push(...(await module.check(this.use(module))));
    return problems;
  }

  /**
   * Stops each module's background work (the games outbox's retry loop, rankings cleanup, the
   * catalog's change listener), newest first, then finishes queued commits and closes the storage.
   * The storage is closed even when a module fails to stop; that failure is thrown afterwards.
   */
  async close(): Promise<void> {
    let failure: { readonly error: unknown } | undefined;
    for (const [module, api] of [...this.#instances].reverse()) {
      try {
        await module.close?.(api);
      } catch (error) {
        failure ??= { error };
      }
    }
    await this.store.close();
    if (failure !== undefined) throw failure.error;
  }

  #reserve(module: AnySavepointModule): void {
    const owned = module.collections;
    if (owned === undefined) return;
    this.reservedCollections.reserve(owned.readOnly ?? [], { owner: owned.owner });
    this.reservedCollections.reserve(owned.hidden ?? [], { owner: owned.owner, hidden: true });
  }

  /** The composed modules, then any other module used on this instance. */
  #known(): AnySavepointModule[] {
    return [...new Set([...savepointModules, ...this.#instances.keys()])];
  }
}

/**
 * Opens Savepoint on a storage URL.
 *
 * @example
 * const savepoint = await openSavepoint({ url: 'sqlite:./data/game.db' });
 * await savepoint.store.commit([{ op: 'patch', collection: 'stats', key: 'p1', patch: { $inc: { wins: 1 } }, upsert: true }]);
 * await savepoint.close();
 */
export async function openSavepoint(options: SavepointOptions = {}): Promise<Savepoint> {
  const driver = await openDriver(options.url ?? DEFAULT_STORAGE_URL, options);
  const store = new Store(driver, {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.maxValueBytes === undefined ? {} : { maxValueBytes: options.maxValueBytes }),
    ...(options.idempotencyTtlMs === undefined ? {} : { idempotencyTtlMs: options.idempotencyTtlMs }),
  });
  return new Savepoint(store, options);
}
