/**
 * Every domain the server exposes, in registration order. Adding a domain is one import and one
 * entry here.
 */
import { catalogRoutes } from '../domains/catalog/catalog.routes.js';
import { documentsRoutes } from '../domains/documents/documents.routes.js';
import { gamesRoutes } from '../domains/games/games.routes.js';
import { leaderboardsRoutes } from '../domains/leaderboards/leaderboards.routes.js';
import { leasesRoutes } from '../domains/leases/leases.routes.js';
import { matchesRoutes } from '../domains/matches/matches.routes.js';
import { rankingsRoutes } from '../domains/rankings/rankings.routes.js';
import { savesRoutes } from '../domains/saves/saves.routes.js';
import { sessionsRoutes } from '../domains/sessions/sessions.routes.js';
import { statsRoutes } from '../domains/stats/stats.routes.js';
import type { DomainPlugin } from '../http-kit/domain-plugin.js';

export const domainPlugins: readonly DomainPlugin[] = [
  documentsRoutes,
  gamesRoutes,
  sessionsRoutes,
  statsRoutes,
  rankingsRoutes,
  matchesRoutes,
  leaderboardsRoutes,
  catalogRoutes,
  savesRoutes,
  leasesRoutes,
];
