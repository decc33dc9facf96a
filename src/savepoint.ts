import { Catalog } from './domains/catalog/catalog.js';
import { Games, type GamesOptions } from './domains/games/games.js';
import { Leaderboards } from './domains/leaderboards/leaderboards.js';
import { Leases } from './domains/leases/leases.js';
import { Matches, type MatchesOptions } from './domains/matches/matches.js';
import { Rankings, type RankingsOptions } from './domains/rankings/rankings.js';
import { Saves, type SavesOptions } from './domains/saves/saves.js';
import { Sessions } from './domains/sessions/sessions.js';
import { Stats, type StatsOptions } from './domains/stats/stats.js';
import type { StartupRecovery } from './engine/driver.js';
import { type Clock, Store } from './engine/store.js';
import { DEFAULT_STORAGE_URL, type DriverOptions, openDriver, type StorageUrl } from './open.js';

/** Settings of the game modules; each has the default the HTTP service documents. */
export interface ModuleOptions {
  readonly games?: GamesOptions;
  readonly matches?: MatchesOptions;
  readonly rankings?: RankingsOptions;
  readonly saves?: SavesOptions;
  readonly stats?: StatsOptions;
}

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
 * An open Savepoint: the engine (`store`) and the game modules built on it. Modules are created
 * on first use, so a program that only needs the engine pays nothing for the rest.
 */
export class Savepoint {
  /** Documents, streams and boards behind one atomic `commit`. */
  readonly store: Store;
  readonly #modules: ModuleOptions;
  #games: Games | undefined;
  #sessions: Sessions | undefined;
  #stats: Stats | undefined;
  #rankings: Rankings | undefined;
  #saves: Saves | undefined;
  #catalog: Catalog | undefined;
  #matches: Matches | undefined;
  #leaderboards: Leaderboards | undefined;
  #leases: Leases | undefined;

  constructor(store: Store, modules: ModuleOptions = {}) {
    this.store = store;
    this.#modules = modules;
  }

  /** Persist, restore and reconnect games; event replay (seed 003). */
  get games(): Games {
    this.#games ??= new Games(this.store, this.#modules.games);
    return this.#games;
  }

  /** Sessions with exact counts by status (seeds 000, 001). */
  get sessions(): Sessions {
    this.#sessions ??= new Sessions(this.store);
    return this.#sessions;
  }

  /** Game outcome counters and running metrics (seed 000). */
  get stats(): Stats {
    this.#stats ??= new Stats(this.store, this.#modules.stats);
    return this.#stats;
  }

  /** The Q-table of move rankings, with bounds and atomic import (seed 000). */
  get rankings(): Rankings {
    this.#rankings ??= new Rankings(this.store, this.#modules.rankings);
    return this.#rankings;
  }

  /** Per-player save slots (seed 004). */
  get saves(): Saves {
    this.#saves ??= new Saves(this.store, this.#modules.saves);
    return this.#saves;
  }

  /** Versioned game constants loaded from seed files (seed 004). */
  get catalog(): Catalog {
    this.#catalog ??= new Catalog(this.store);
    return this.#catalog;
  }

  /** Matches, rounds, scores, lifetime records and analytics (seed 002). */
  get matches(): Matches {
    this.#matches ??= new Matches(this.store, this.#modules.matches);
    return this.#matches;
  }

  /** Leaderboards with UTC periods (seeds 002, 004). */
  get leaderboards(): Leaderboards {
    this.#leaderboards ??= new Leaderboards(this.store);
    return this.#leaderboards;
  }

  /** Named locks with a TTL and a fence (seed 002 §6). */
  get leases(): Leases {
    this.#leases ??= new Leases(this.store);
    return this.#leases;
  }

  /**
   * The fallback the storage took at open because its data could not be used as found (a corrupt
   * file quarantined, a backup restored), or `undefined`. `/health` reports it.
   */
  get recovery(): StartupRecovery | undefined {
    return this.store.capabilities.recovery;
  }

  /** Lets module background work finish, then finishes queued commits and closes the storage. */
  async close(): Promise<void> {
    await this.#rankings?.settled();
    this.#catalog?.close();
    await this.store.close();
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
