/** The stats module: game outcome counters and running metrics (see `stats.ts`). */
import type { SavepointModule } from '../../module.js';
import { STATS_COLLECTION, Stats, type StatsOptions } from './stats.js';

export const statsModule: SavepointModule<'stats', Stats, StatsOptions> = {
  name: 'stats',
  collections: { owner: 'the stats module', readOnly: [STATS_COLLECTION] },
  create: ({ store, options }) => new Stats(store, options),
  async routes(app, options) {
    const { statsRoutes } = await import('./stats.routes.js');
    await statsRoutes(app, options);
  },
};
