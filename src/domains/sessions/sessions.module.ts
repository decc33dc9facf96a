/** The sessions module: game sessions with exact counts by status (see `sessions.ts`). */
import type { SavepointModule } from '../../module.js';
import { SESSION_COLLECTION, SESSION_COUNTERS_COLLECTION, Sessions } from './sessions.js';

export const sessionsModule: SavepointModule<'sessions', Sessions> = {
  name: 'sessions',
  collections: { owner: 'the sessions module', readOnly: [SESSION_COLLECTION, SESSION_COUNTERS_COLLECTION] },
  create: ({ store }) => new Sessions(store),
  async routes(app, options) {
    const { sessionsRoutes } = await import('./sessions.routes.js');
    await sessionsRoutes(app, options);
  },
};
