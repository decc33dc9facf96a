/**
 * The modules a Savepoint is composed of, and the one place where settings become their options.
 * The HTTP server registers the modules' routes in this order; `src/savepoint.ts` creates each
 * module once, on first use.
 */
import type { Config } from './config.js';
import { integrityModule } from './domains/audit/integrity.module.js';
import { catalogModule } from './domains/catalog/catalog.module.js';
import { documentsModule } from './domains/documents/documents.module.js';
import type { GamesOptions } from './domains/games/games.js';
import { gamesModule } from './domains/games/games.module.js';
import { leaderboardsModule } from './domains/leaderboards/leaderboards.module.js';
import { leasesModule } from './domains/leases/leases.module.js';
import type { MatchesOptions } from './domains/matches/matches.js';
import { matchesModule } from './domains/matches/matches.module.js';
import type { RankingsOptions } from './domains/rankings/rankings.js';
import { rankingsModule } from './domains/rankings/rankings.module.js';
import type { SavesOptions } from './domains/saves/saves.js';
import { savesModule } from './domains/saves/saves.module.js';
import { sessionsModule } from './domains/sessions/sessions.module.js';
import type { StatsOptions } from './domains/stats/stats.js';
import { statsModule } from './domains/stats/stats.module.js';
import type { AnySavepointModule } from './module.js';

export {
  catalogModule,
  documentsModule,
  gamesModule,
  integrityModule,
  leaderboardsModule,
  leasesModule,
  matchesModule,
  rankingsModule,
  savesModule,
  sessionsModule,
  statsModule,
};

/** Every module, in the order the server registers their routes. */
export const savepointModules: readonly AnySavepointModule[] = [
  documentsModule,
  gamesModule,
  sessionsModule,
  statsModule,
  rankingsModule,
  matchesModule,
  leaderboardsModule,
  catalogModule,
  savesModule,
  leasesModule,
  integrityModule,
];

/** Settings of the game modules, by module name; each has the default the HTTP service documents. */
export interface ModuleOptions {
  readonly games?: GamesOptions;
  readonly matches?: MatchesOptions;
  readonly rankings?: RankingsOptions;
  readonly saves?: SavesOptions;
  readonly stats?: StatsOptions;
}

/** The modules' options as the settings (`SAVEPOINT_*` variables, flags) give them. */
export function moduleOptionsFrom(config: Config): ModuleOptions {
  return {
    games: {
      tokenTtlMs: config.tokenTtlMs,
      gameTtlMs: config.gameTtlMs,
      historyVersions: config.gameHistory,
    },
    matches: { matchTtlMs: config.matchTtlMs, analyticsTtlMs: config.analyticsTtlMs },
    rankings: { min: config.rankingMin, max: config.rankingMax },
    saves: { slots: config.saveSlots },
    stats: { emaAlpha: config.emaAlpha },
  };
}
