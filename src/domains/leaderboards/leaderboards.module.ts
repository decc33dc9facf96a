/** The leaderboards module: boards with UTC periods (see `leaderboards.ts`). */
import type { SavepointModule } from '../../module.js';
import { LEADERBOARD_DEFINITION_COLLECTION, Leaderboards } from './leaderboards.js';

export const leaderboardsModule: SavepointModule<'leaderboards', Leaderboards> = {
  name: 'leaderboards',
  collections: { owner: 'the leaderboards module', readOnly: [LEADERBOARD_DEFINITION_COLLECTION] },
  create: ({ store }) => new Leaderboards(store),
  async routes(app, options) {
    const { leaderboardsRoutes } = await import('./leaderboards.routes.js');
    await leaderboardsRoutes(app, options);
  },
};
