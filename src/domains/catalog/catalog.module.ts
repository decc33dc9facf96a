/** The catalog module: versioned game constants loaded from seed files (see `catalog.ts`). */
import type { SavepointModule } from '../../module.js';
import { CATALOG_COLLECTION, CATALOG_ITEM_COLLECTION, Catalog } from './catalog.js';
import { CATALOG_VERSION_COLLECTION, CATALOG_VERSION_DATA_COLLECTION } from './catalog-versions.js';

export const catalogModule: SavepointModule<'catalog', Catalog> = {
  name: 'catalog',
  collections: {
    owner: 'the catalog module',
    readOnly: [
      CATALOG_COLLECTION,
      CATALOG_ITEM_COLLECTION,
      CATALOG_VERSION_COLLECTION,
      CATALOG_VERSION_DATA_COLLECTION,
    ],
  },
  create: ({ store }) => new Catalog(store),
  async routes(app, options) {
    const { catalogRoutes } = await import('./catalog.routes.js');
    await catalogRoutes(app, options);
  },
  // The catalog listens to the change feed to drop what it cached.
  close: (catalog) => catalog.close(),
};
