/**
 * The documents API's wire shapes (docs/api.md#documents). Bodies are closed: an unknown field is a
 * `400 INVALID_INPUT`, so a misspelt `expectedVersoin` never silently writes unconditionally.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ERROR_MESSAGE } from '../../http-kit/schema-keywords.js';
import { Id, PositiveDuration, Time, Version } from '../../http-kit/schemas.js';

/** Most keys in one `?keys=` read (docs/api.md#limits). */
export const MAX_KEYS_PER_READ = 1000;
/** Most ops in one `POST /v1/commit`. */
export const MAX_OPS_PER_HTTP_COMMIT = 10_000;

export const DocumentParams = Type.Object({
  collection: Id('The collection'),
  key: Id('The key within the collection'),
});
export type DocumentParams = Static<typeof DocumentParams>;

export const CollectionParams = Type.Object({ collection: Id('The collection') });
export type CollectionParams = Static<typeof CollectionParams>;

/** A stored document as the API shows it; times are ISO-8601 UTC. */
export const DocumentRecord = Type.Object({
  collection: Type.String(),
  key: Type.String(),
  value: Type.Unknown({ description: 'Any JSON value' }),
  version: Version(),
  createdAt: Time('When the document was created'),
  updatedAt: Time('When the document last changed'),
  expiresAt: Type.Union([Time('When the document expires'), Type.Null()], {
    description: 'When the document stops being visible; null for never',
  }),
});
export type DocumentRecord = Static<typeof DocumentRecord>;

/** A document TTL: above zero and at most 100 years (which keeps every expiry a valid date). */
const Ttl = (description: string) => PositiveDuration(`${description}. Above 0 and at most 100 years`);

const expectedVersion = Type.Optional(
  Version('Write only if the document is at this version (409 VERSION_CONFLICT otherwise)'),
);

export const PutBody = Type.Object(
  {
    value: Type.Unknown({ description: 'Any JSON value; replaces the whole document' }),
    ttl: Type.Optional(Ttl('Expire the document this long after the write; absent: never')),
    expectedVersion,
  },
  { additionalProperties: false },
);
export type PutBody = Static<typeof PutBody>;

const numbersByPath = (description: string) =>
  Type.Optional(Type.Object({}, { additionalProperties: Type.Number(), description }));

/** The operators of a patch, keyed by dot path (`"stats.wins"`). Applied in this order: $set, $unset, $inc, $max, $min, $push. */
const patchOperators = {
  $set: Type.Optional(
    Type.Object({}, { additionalProperties: Type.Unknown(), description: 'Set each path to a JSON value' }),
  ),
  $unset: Type.Optional(
    Type.Object(
      {},
      {
        additionalProperties: Type.Union([Type.Literal(true), Type.Literal(1), Type.Literal('')]),
        description: 'Remove each path (the value is true, 1 or "")',
      },
    ),
  ),
  $inc: numbersByPath('Add the number to each path (missing counts as 0)'),
  $max: numbersByPath('Raise each path to the number if it is higher'),
  $min: numbersByPath('Lower each path to the number if it is lower'),
  $push: Type.Optional(
    Type.Object(
      {},
      {
        additionalProperties: Type.Unknown(),
        description: 'Append a value, or every value of { $each: [...] }, to an array',
      },
    ),
  ),
};

export const PatchOperators = Type.Object(patchOperators, { additionalProperties: false });
export type PatchOperators = Static<typeof PatchOperators>;

export const PatchBody = Type.Object(
  {
    ...patchOperators,
    upsert: Type.Optional(
      Type.Boolean({ description: 'Create the document from {} when missing (default false: 404)' }),
    ),
    ttl: Type.Optional(
      Type.Union([Ttl('Expire the document this long after the write'), Type.Null()], {
        description: 'A duration from now, or null to clear the expiry; absent keeps it',
      }),
    ),
    expectedVersion,
  },
  { additionalProperties: false },
);
export type PatchBody = Static<typeof PatchBody>;

export const DeleteQuery = Type.Object(
  {
    expectedVersion: Type.Optional(Version('Delete only if the document is at this version (409 otherwise)')),
  },
  { additionalProperties: false },
);
export type DeleteQuery = Static<typeof DeleteQuery>;

export const ListQuery = Type.Object(
  {
    prefix: Type.Optional(Id('Only keys starting with this')),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size, 1-1000; default 100' }),
    ),
    cursor: Type.Optional(Id('The nextCursor of the previous page')),
    keys: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._:@-]{1,200}(,[A-Za-z0-9._:@-]{1,200})*$',
        description: `Read these keys (comma-separated, at most ${MAX_KEYS_PER_READ}); missing keys are left out. Not combinable with prefix, limit or cursor.`,
        [ERROR_MESSAGE]: 'must be a comma-separated list of ids',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const DocumentPage = Type.Object({
  items: Type.Array(DocumentRecord),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as cursor to read the next page; null at the end (always null for ?keys=)',
  }),
});

const target = {
  collection: Id('The collection'),
  key: Id('The key'),
};

const conditions = {
  expectedVersion,
  mustNotExist: Type.Optional(Type.Boolean({ description: 'Create only: fail if the document exists' })),
};

export const PutOp = Type.Object(
  {
    op: Type.Literal('put'),
    ...target,
    value: Type.Unknown({ description: 'Any JSON value' }),
    ttl: Type.Optional(Ttl('Expire this long after the commit')),
    ...conditions,
  },
  { additionalProperties: false, description: 'Replace (or create) a document' },
);

export const PatchOp = Type.Object(
  {
    op: Type.Literal('patch'),
    ...target,
    patch: PatchOperators,
    upsert: Type.Optional(Type.Boolean()),
    ttl: Type.Optional(Type.Union([Ttl('Expire this long after the commit'), Type.Null()])),
    ...conditions,
  },
  { additionalProperties: false, description: 'Apply patch operators atomically' },
);

export const DeleteOp = Type.Object(
  { op: Type.Literal('delete'), ...target, expectedVersion },
  { additionalProperties: false, description: 'Delete a document (no error if it is missing)' },
);

export const CommitOp = Type.Union([PutOp, PatchOp, DeleteOp]);
export type CommitOp = Static<typeof CommitOp>;

export const CommitBody = Type.Object(
  {
    ops: Type.Array(CommitOp, {
      minItems: 1,
      maxItems: MAX_OPS_PER_HTTP_COMMIT,
      description: 'Applied all-or-nothing: if any op fails, none is applied',
    }),
  },
  { additionalProperties: false },
);
export type CommitBody = Static<typeof CommitBody>;

export const CommitAnswer = Type.Object({
  at: Time('When the commit was applied'),
  results: Type.Array(
    Type.Union([
      Type.Object({
        op: Type.Union([Type.Literal('put'), Type.Literal('patch')]),
        created: Type.Boolean(),
        document: DocumentRecord,
      }),
      Type.Object({ op: Type.Literal('delete'), deleted: Type.Boolean() }),
    ]),
    { description: 'One result per op, in op order' },
  ),
});
