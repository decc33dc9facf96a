/** The catalog API's wire shapes (docs/api.md#catalog: game constants). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Time } from '../../http-kit/schemas.js';

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

/** A seed file's `version` string, as loads are named. */
const VersionName = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });

export const KindQuery = Type.Object({
  version: Type.Optional(
    VersionName("Read this version's content (the newest load of it), with its own ETag; 404 if unknown"),
  ),
});
export type KindQuery = Static<typeof KindQuery>;

export const CatalogVersionsSchema = Type.Object({
  kind: Type.String(),
  versions: Type.Array(
    Type.Object({
      version: Type.String(),
      updatedAt: Type.String({ description: 'The seed file’s updated_at' }),
      loadedAt: Time('When this content was loaded'),
      count: Type.Integer({ minimum: 0 }),
      sha256: Type.String({ description: 'SHA-256 of the content in canonical form (sorted keys)' }),
      current: Type.Boolean({ description: 'Whether this load is the current content' }),
    }),
    { description: 'Newest load first' },
  ),
});

export const DiffQuery = Type.Object({
  from: VersionName('The older version'),
  to: VersionName('The newer version'),
});
export type DiffQuery = Static<typeof DiffQuery>;

export const CatalogDiffSchema = Type.Object({
  kind: Type.String(),
  from: Type.String(),
  to: Type.String(),
  added: Type.Array(Type.String(), { description: 'Ids only in to' }),
  removed: Type.Array(Type.String(), { description: 'Ids only in from' }),
  changed: Type.Array(
    Type.Object({
      id: Type.String(),
      fields: Type.Array(Type.String(), { description: 'Top-level fields that differ' }),
    }),
  ),
});

export const RollbackBody = Type.Object(
  { toVersion: VersionName('The version whose content becomes current again, as a new load') },
  { additionalProperties: false },
);
export type RollbackBody = Static<typeof RollbackBody>;

export const RollbackResponse = Type.Object({
  kind: Type.String(),
  version: Type.String({ description: 'The version now current' }),
});
