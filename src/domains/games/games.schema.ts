/**
 * TypeBox schemas of the games routes (docs/api.md#games). They check shape and document the API; the
 * rules that need stored data (versions, tokens, seats) live in {@link Games}.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Name, SafeInteger, Time } from '../../http-kit/schemas.js';
import { validatedAs } from '../../http-kit/validated-schema.js';

const GameId = Id('The game id');
const PlayerId = Id('A player id');

/** Any JSON object; arrays and scalars are refused. */
const State = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

const Phase = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'The game phase, as the game server names it (such as "betting" or "showdown")',
});

const Status = Type.Union([Type.Literal('active'), Type.Literal('completed')], {
  description: '`completed` makes the game read-only and sets it to expire after SAVEPOINT_GAME_TTL',
});

const Seq = (description: string) => SafeInteger(0, description);

export const GameParams = Type.Object({ gameId: GameId });

export const PersistBody = Type.Object(
  {
    gameId: Type.Optional(Id('Optional; when given it must equal the path gameId')),
    state: State('The full snapshot the game server needs to resume the game'),
    players: Type.Optional(
      Type.Array(PlayerId, {
        maxItems: 1000,
        uniqueItems: true,
        description: 'The seated players (default: unchanged, [] for a new game); only they can get tokens',
      }),
    ),
    phase: Type.Optional(Phase),
    status: Type.Optional(Status),
    expectedVersion: Type.Optional(
      SafeInteger(0, 'The version last seen; 0 means create only. Stale: 409 VERSION_CONFLICT'),
    ),
    forceOverwrite: Type.Optional(
      Type.Boolean({
        description:
          'Write even when expectedVersion is stale, the game is completed (reopening it) or its record is unreadable',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PersistBody = Static<typeof PersistBody>;

/** The `durable` field of a write answered from the in-memory outbox (202). */
const Queued =
  'Present (false) when the storage is unavailable: the write is queued in memory (202) and written in order when the storage answers again';

export const PersistResponse = Type.Object({
  success: Type.Literal(true),
  persistedAt: Time('When the snapshot was written'),
  version: Type.Integer({ minimum: 1, description: 'The game version: 1 on creation, +1 per write' }),
  durable: Type.Optional(Type.Literal(false, { description: Queued })),
});

const EventInput = Type.Object(
  {
    type: Name('The event type, such as "bet"'),
    data: Type.Optional(Type.Unknown({ description: 'Any JSON; default null' })),
  },
  { additionalProperties: false },
);

export const AppendBody = Type.Object(
  {
    events: Type.Array(EventInput, { minItems: 1, maxItems: 10_000 }),
    state: Type.Optional(State('A new snapshot, written in the same commit as the events')),
    phase: Type.Optional(Phase),
    expectedSeq: Type.Optional(
      Seq('The last seq the caller knows of (0 for none). Stale: 409 VERSION_CONFLICT'),
    ),
  },
  { additionalProperties: false },
);
export type AppendBody = Static<typeof AppendBody>;

export const AppendResponse = Type.Object({
  firstSeq: Type.Integer({ minimum: 1 }),
  lastSeq: Type.Integer({ minimum: 1 }),
  version: Type.Integer({ minimum: 1, description: 'The game version after the append' }),
  durable: Type.Optional(Type.Literal(false, { description: Queued })),
});

export const GameEventSchema = Type.Object({
  seq: Type.Integer({ minimum: 1, description: 'Starts at 1, no gaps' }),
  type: Type.String(),
  data: Type.Unknown(),
  at: Time('When the event was written'),
});

export const EventsQuery = Type.Object({
  after: Type.Optional(Seq('Events with seq > after; default 0')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100' })),
});

export type EventsQuery = Static<typeof EventsQuery>;

export const EventsResponse = Type.Object({ events: Type.Array(GameEventSchema) });

export const GameRecordSchema = Type.Object({
  gameId: Type.String(),
  state: State('The last snapshot'),
  players: Type.Array(Type.String()),
  phase: Type.Union([Type.String(), Type.Null()], { description: 'null until a phase is set' }),
  status: Status,
  version: Type.Integer({ minimum: 1 }),
  persistedAt: Time('When the game was last written'),
  lastSeq: Seq('The last event the snapshot reflects'),
});

export const TokenQuery = Type.Object({ playerId: PlayerId }, { additionalProperties: false });

export const ConnectionTokenResponse = Type.Object({
  token: Type.String({ description: 'At least 128 random bits, base64url. Only its hash is stored' }),
  expiresAt: Time('When the token stops working (SAVEPOINT_TOKEN_TTL)'),
  playerId: Type.String(),
});

export const ReconnectBody = Type.Object(
  {
    gameId: Type.Optional(Id('Optional; when given it must equal the path gameId')),
    playerId: PlayerId,
    reconnectToken: Type.String({ minLength: 1, maxLength: 256 }),
    lastEventSeq: Type.Optional(
      SafeInteger(
        0,
        'The last seq the player saw; missedEvents holds the events after it (all when absent). ' +
          'Beyond the last event: 400 INVALID_INPUT',
      ),
    ),
  },
  { additionalProperties: false },
);
export type ReconnectBody = Static<typeof ReconnectBody>;

export const ReconnectResponse = Type.Object({
  success: Type.Literal(true),
  gameState: GameRecordSchema,
  reconnectedAt: Time('When the seat was reclaimed'),
  missedEvents: Type.Array(GameEventSchema, {
    description: 'Events after lastEventSeq, up to gameState.lastSeq',
  }),
  reconnectToken: Type.String({ description: 'The rotated token; the one just used no longer works' }),
  tokenExpiresAt: Time('When the new token stops working'),
});

export const StreamQuery = Type.Object(
  {
    playerId: Type.Optional(PlayerId),
    token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: "The player's reconnect token (not rotated)",
      }),
    ),
    lastEventId: Type.Optional(Seq('Like the Last-Event-ID header, for clients that cannot set headers')),
  },
  { additionalProperties: false },
);
export type StreamQuery = Static<typeof StreamQuery>;

/** A game version: 1 to 2^53−1, the largest integer JSON numbers carry exactly. */
const Version = (description: string) => SafeInteger(1, description);

export const RestoreQuery = Type.Object({
  version: Type.Optional(
    Version(
      'Read the game as it was at this version (lastSeq as it was then). 404 if it was never stored or has been pruned',
    ),
  ),
});
export type RestoreQuery = Static<typeof RestoreQuery>;

export const HistoryQuery = Type.Object({
  before: Type.Optional(Version('Only versions older than this one; pass nextBefore to page')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100' })),
});
export type HistoryQuery = Static<typeof HistoryQuery>;

export const HistoryResponse = Type.Object({
  gameId: Type.String(),
  versions: Type.Array(
    Type.Object({
      version: Type.Integer({ minimum: 1 }),
      persistedAt: Time('When the version was made current'),
      lastSeq: Seq('The last event seq at that version'),
      phase: Type.Union([Type.String(), Type.Null()]),
      status: Status,
    }),
    { description: 'Newest first' },
  ),
  nextBefore: Type.Optional(Type.Integer({ minimum: 1, description: 'Pass as before for the next page' })),
});

export const RollbackBody = Type.Object(
  {
    toVersion: Version('A retained version to make current again'),
    reason: Type.Optional(
      Type.String({
        maxLength: 1000,
        description: 'Why; carried by the rollback event (at most 1,000 characters)',
      }),
    ),
    expectedVersion: Type.Optional(Version('The version the caller last saw; stale: 409 VERSION_CONFLICT')),
  },
  { additionalProperties: false },
);
export type RollbackBody = Static<typeof RollbackBody>;

export const RollbackResponse = Type.Object({
  success: Type.Literal(true),
  version: Type.Integer({ minimum: 1, description: 'The new current version' }),
  restoredFrom: Type.Integer({ minimum: 1 }),
  persistedAt: Time('When the rollback was written'),
  lastSeq: Seq('The seq of the rollback event'),
});

export const ForkBody = Type.Object(
  {
    newGameId: Id('The new game; 409 VERSION_CONFLICT if it exists'),
    atVersion: Type.Optional(Version('A retained version; default the current one')),
    players: Type.Optional(
      Type.Array(PlayerId, {
        maxItems: 1000,
        uniqueItems: true,
        description: "The new game's players; default the players of that version",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ForkBody = Static<typeof ForkBody>;

export const ForkResponse = Type.Object({
  gameId: Type.String(),
  version: Type.Literal(1),
  forkedFrom: Type.Object({
    gameId: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    lastSeq: Seq('The last event copied'),
  }),
});

/** `Last-Event-ID` is read by the handler, where a blank header means none and the header wins over the query. */
export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(
    validatedAs(
      SafeInteger(0, 'The seq of the last event received; a browser EventSource resends it on reconnect'),
      Type.String(),
    ),
  ),
});

export const SSE_CONTENT_TYPE = 'text/event-stream';

export const EventStream = Type.String({
  description:
    'Server-sent events: per event `id: <seq>`, `event: <type>` and `data: <the event data as JSON>`, then a blank line; comment lines keep the connection alive',
});
