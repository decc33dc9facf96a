/** The games module: snapshots, event logs, reconnect seats and live feeds (see `games.ts`). */
import type { SavepointModule } from '../../module.js';
import { HISTORY_COLLECTION } from './game-history.js';
import { FAILURE_COLLECTION, GAME_COLLECTION, TOKEN_COLLECTION } from './game-record.js';
import { Games, type GamesOptions } from './games.js';

export const gamesModule: SavepointModule<'games', Games, GamesOptions> = {
  name: 'games',
  collections: {
    owner: 'the games module',
    readOnly: [GAME_COLLECTION, HISTORY_COLLECTION],
    // Token hashes and failure counters are nobody's business outside the module.
    hidden: [TOKEN_COLLECTION, FAILURE_COLLECTION],
  },
  create: ({ store, options }) => new Games(store, options),
  async routes(app, options) {
    const { gamesRoutes } = await import('./games.routes.js');
    await gamesRoutes(app, options);
  },
  queuedWrites: (games) => games.pendingWrites,
  close: (games) => games.close(),
};
