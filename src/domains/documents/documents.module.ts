/**
 * The documents module: the engine's documents over HTTP for data that has no module of its own.
 * Its API is the store itself; the routes refuse writes to collections other modules own.
 */
import type { Store } from '../../engine/store.js';
import type { SavepointModule } from '../../module.js';

export const documentsModule: SavepointModule<'documents', Store> = {
  name: 'documents',
  create: ({ store }) => store,
  async routes(app, options) {
    const { documentsRoutes } = await import('./documents.routes.js');
    await documentsRoutes(app, options);
  },
};
