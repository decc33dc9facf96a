/** The saves module: per-player save slots (see `saves.ts`). */
import type { SavepointModule } from '../../module.js';
import { SAVE_COLLECTION, Saves, type SavesOptions } from './saves.js';

export const savesModule: SavepointModule<'saves', Saves, SavesOptions> = {
  name: 'saves',
  collections: { owner: 'the saves module', readOnly: [SAVE_COLLECTION] },
  create: ({ store, options }) => new Saves(store, options),
  async routes(app, options) {
    const { savesRoutes } = await import('./saves.routes.js');
    await savesRoutes(app, options);
  },
};
