/** The catalog API's wire shapes (API.md, Catalog: game constants). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Time } from '../../http/schemas.js';

export const KindParams = Type.Object({ kind: Id('The kind: a seed file’s name without .json') });
export type KindParams = Static<typeof KindParams>;

export const RecordParams = Type.Object({
  kind: Id('The kind'),
  id: Id('The record id (a numeric id in decimal)'),
});
export type RecordParams = Static<typeof RecordParams>;

const kindFields = {
  kind: Type.String(),
  version: Type.String({ description: 'The seed file’s version, such as 1.2.0' }),
  updatedAt: Type.String({ description: 'The seed file’s updated_at' }),
  count: Type.Integer({ description: 'How many records the kind holds' }),
  revision: Type.Integer({ description: '+1 every time the kind’s content changes' }),
  loadedAt: Time('When this content was loaded'),
};

export const CatalogOverviewSchema = Type.Object({
  version: Type.Integer({ description: 'The catalog version: +1 on every seeding that changed anything' }),
  kinds: Type.Array(Type.Object(kindFields), { description: 'Kinds by name' }),
});

export const CatalogKindSchema = Type.Object({
  ...kindFields,
  data: Type.Array(Type.Object({}, { additionalProperties: true }), {
    description: 'The records, in file order',
  }),
});

export const CatalogRecordSchema = Type.Object(
  { id: Type.Union([Type.String(), Type.Integer()]) },
  { additionalProperties: true, description: 'The record as the seed file holds it' },
);
