/** The matches module: matches, rounds, scores, lifetime records and analytics (see `matches.ts`). */
import type { SavepointModule } from '../../module.js';
import { MATCH_COLLECTIONS } from './match-keys.js';
import { Matches, type MatchesOptions } from './matches.js';

export const matchesModule: SavepointModule<'matches', Matches, MatchesOptions> = {
  name: 'matches',
  collections: { owner: 'the matches module', readOnly: MATCH_COLLECTIONS },
  create: ({ store, options }) => new Matches(store, options),
  async routes(app, options) {
    const { matchesRoutes } = await import('./matches.routes.js');
    await matchesRoutes(app, options);
  },
  // Score boards carry no expiry of their own: they go once their match has expired and been swept.
  sweep: (matches) => matches.sweepBoards(),
};
