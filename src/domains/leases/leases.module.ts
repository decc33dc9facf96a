/** The leases module: named locks with a TTL and a fence (see `leases.ts`). */
import type { SavepointModule } from '../../module.js';
import { LEASE_COLLECTION, Leases } from './leases.js';

export const leasesModule: SavepointModule<'leases', Leases> = {
  name: 'leases',
  collections: { owner: 'the leases module', readOnly: [LEASE_COLLECTION] },
  create: ({ store }) => new Leases(store),
  async routes(app, options) {
    const { leasesRoutes } = await import('./leases.routes.js');
    await leasesRoutes(app, options);
  },
};
