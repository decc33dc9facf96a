/** The sessions API's wire shapes (docs/api.md#sessions). Bodies are closed: unknown fields are a 400. */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Time, Version } from '../../http-kit/schemas.js';

/** Any JSON object (not an array); its content is the caller's. */
const FreeObject = (description: string) => Type.Object({}, { additionalProperties: true, description });

const Status = Type.Union([Type.Literal('active'), Type.Literal('completed')], {
  description: 'active until the game ends, then completed',
});

export const SessionParams = Type.Object({ id: Id('The session id (a UUID)') });
export type SessionParams = Static<typeof SessionParams>;

export const CreateSessionBody = Type.Object(
  {
    state: Type.Optional(FreeObject('The initial game state; default {}')),
    options: Type.Optional(FreeObject('The options the session runs with; default {}')),
  },
  { additionalProperties: false },
);
export type CreateSessionBody = Static<typeof CreateSessionBody>;

export const UpdateSessionBody = Type.Object(
  {
    state: FreeObject('The new game state; replaces the old one'),
    status: Type.Optional(Status),
    expectedVersion: Type.Optional(Version('Write only at this version (409 VERSION_CONFLICT otherwise)')),
  },
  { additionalProperties: false },
);
export type UpdateSessionBody = Static<typeof UpdateSessionBody>;

export const DeleteSessionQuery = Type.Object(
  { expectedVersion: Type.Optional(Version('Delete only at this version (409 otherwise)')) },
  { additionalProperties: false },
);
export type DeleteSessionQuery = Static<typeof DeleteSessionQuery>;

export const ListSessionsQuery = Type.Object(
  {
    status: Type.Optional(Status),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size, 1-1000; default 100' }),
    ),
    cursor: Type.Optional(Id('The nextCursor of the previous page')),
  },
  { additionalProperties: false },
);
export type ListSessionsQuery = Static<typeof ListSessionsQuery>;

export const SessionRecord = Type.Object({
  sessionId: Type.String({ format: 'uuid' }),
  state: FreeObject('The game state'),
  options: FreeObject('The options given at creation'),
  status: Status,
  version: Version(),
  createdAt: Time('When the session was created'),
  updatedAt: Time('When the session last changed'),
});

export const SessionPage = Type.Object({
  items: Type.Array(SessionRecord),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description:
      'Pass as cursor for the next page; null at the end. With a status filter a page may hold fewer than limit items and still have a next page.',
  }),
});
