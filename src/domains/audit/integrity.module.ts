/**
 * The relationship checks as a module: no API of its own and no routes, only the `check` hook that
 * `GET /v1/admin/check` and `savepoint check` run (see `integrity.ts`).
 */
import type { Store } from '../../engine/store.js';
import type { SavepointModule } from '../../module.js';
import { checkRelationships } from './integrity.js';

export const integrityModule: SavepointModule<'integrity', Store> = {
  name: 'integrity',
  create: ({ store }) => store,
  check: (store) => checkRelationships(store),
};
