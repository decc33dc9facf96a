/** The rankings module: the Q-table of move rankings (see `rankings.ts`). */
import type { SavepointModule } from '../../module.js';
import { RANKING_COLLECTION, RANKING_META_COLLECTION, Rankings, type RankingsOptions } from './rankings.js';

export const rankingsModule: SavepointModule<'rankings', Rankings, RankingsOptions> = {
  name: 'rankings',
  collections: { owner: 'the rankings module', readOnly: [RANKING_COLLECTION, RANKING_META_COLLECTION] },
  create: ({ store, options }) => new Rankings(store, options),
  async routes(app, options) {
    const { rankingsRoutes } = await import('./rankings.routes.js');
    await rankingsRoutes(app, options);
  },
  // Replaced rankings are removed in the background; that must finish before the store closes.
  close: (rankings) => rankings.settled(),
};
