/**
 * Wire shapes of the matches API (docs/api.md#matches): matches, rounds, scores, lifetime stats and
 * analytics. A match body is open (apps store their own fields beside the named ones);
 * every other body is closed, so a misspelt field is a `400 INVALID_INPUT`, not a silent no-op.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ERROR_MESSAGE, OPTIONAL_BODY } from '../../http-kit/schema-keywords.js';
import { ID_PATTERN, Id, MAX_SAFE_INTEGER, SafeInteger, Time, Version } from '../../http-kit/schemas.js';
import { validatedAs } from '../../http-kit/validated-schema.js';
import { PatchOperators } from '../documents/documents.schema.js';
import { MAX_METRICS_PER_RECORD, METRIC_NAME_PATTERN } from './match-analytics.js';
import { MAX_TROPHY_LENGTH } from './player-lifetime.js';

/** Highest round index accepted. */
export const MAX_ROUND_INDEX = 1_000_000;

export const MatchParams = Type.Object({
  matchId: Id('The match (for a match played on a post: the post id)'),
});
export type MatchParams = Static<typeof MatchParams>;

export const RoundParams = Type.Object({
  matchId: Id('The match'),
  index: Type.Integer({ minimum: 0, maximum: MAX_ROUND_INDEX, description: 'The round index' }),
});
export type RoundParams = Static<typeof RoundParams>;

export const ScoreParams = Type.Object({ matchId: Id('The match'), user: Id('The player') });
export type ScoreParams = Static<typeof ScoreParams>;

export const PlayerParams = Type.Object({ user: Id('The player') });
export type PlayerParams = Static<typeof PlayerParams>;

const expectedVersion = Type.Optional(
  Version('Write only if the record is at this version (409 VERSION_CONFLICT otherwise)'),
);

const Text = (description: string) => Type.String({ minLength: 1, maxLength: 10_000, description });

export const MatchBody = Type.Object(
  {
    status: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Such as "active"; POST /complete sets "completed"',
    }),
    roundsTotal: SafeInteger(0, 'How many rounds the match has'),
    createdBy: Type.String({ minLength: 1, maxLength: 200, description: 'Who created the match' }),
    subreddit: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    currentRound: Type.Optional(SafeInteger(0, 'The round being played')),
    theme: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    expectedVersion,
  },
  {
    additionalProperties: true,
    description:
      'Other fields are stored as given. matchId, version, createdAt, updatedAt and expiresAt are managed by the server and ignored here.',
  },
);
export type MatchBody = Static<typeof MatchBody>;

/** Record metadata, as every match and round answer carries it. */
const meta = {
  version: Version(),
  createdAt: Time('When the record was created'),
  updatedAt: Time('When the record last changed'),
  expiresAt: Type.Union([Time('When the record expires'), Type.Null()], {
    description: 'Set when the match is completed (SAVEPOINT_MATCH_TTL later); null while it is open',
  }),
};

export const MatchRecord = Type.Object(
  { matchId: Type.String(), status: Type.String(), ...meta },
  {
    additionalProperties: true,
    description:
      'The match: its fields (status, roundsTotal, createdBy, subreddit, currentRound, theme, and any others it was given; completedAt once completed) and its metadata',
  },
);

export const MatchPatchBody = Type.Object(
  { ...PatchOperators.properties, expectedVersion },
  { additionalProperties: false },
);
export type MatchPatchBody = Static<typeof MatchPatchBody>;

/** A time as stored: what the caller gave. */
const StoredTimestamp = Type.Union([Type.String(), Type.Number()], {
  description: 'An ISO-8601 time or milliseconds since the epoch, as given',
});

/**
 * A time as the caller gives it. The module parses the string (`Date.parse`), so the validator
 * checks only its length; OpenAPI states the rule as a date-time.
 */
const Timestamp = Type.Union(
  [
    validatedAs(
      Type.String({ format: 'date-time', maxLength: 100, description: 'An ISO-8601 time' }),
      Type.String({ maxLength: 100 }),
    ),
    Type.Number({ description: 'Milliseconds since the epoch' }),
  ],
  { description: 'An ISO-8601 time or milliseconds since the epoch, stored as given' },
);

export const RoundBody = Type.Object(
  {
    promptText: Text('What players are asked to do'),
    referenceImages: Type.Optional(Type.Array(Type.String({ maxLength: 10_000 }), { maxItems: 1000 })),
    startTs: Type.Optional(Type.Union([Timestamp, Type.Null()])),
    endTs: Type.Optional(Type.Union([Timestamp, Type.Null()])),
  },
  { additionalProperties: false },
);
export type RoundBody = Static<typeof RoundBody>;

export const RoundRecord = Type.Object({
  matchId: Type.String(),
  index: Type.Integer(),
  promptText: Type.String(),
  referenceImages: Type.Array(Type.String()),
  startTs: Type.Union([StoredTimestamp, Type.Null()]),
  endTs: Type.Union([StoredTimestamp, Type.Null()]),
  winnerUser: Type.Union([Type.String(), Type.Null()]),
  winnerCommentId: Type.Union([Type.String(), Type.Null()]),
  closed: Type.Boolean({ description: 'True once the winner is recorded' }),
  closedAt: Type.Union([Time('When the winner was recorded'), Type.Null()]),
  ...meta,
});

export const RoundList = Type.Array(RoundRecord, { description: "The match's rounds by index" });

export const WinnerBody = Type.Object(
  {
    winnerUser: Id('The winning player'),
    winnerCommentId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    points: Type.Optional(Type.Number({ description: 'Points the winner earns; default 1' })),
  },
  { additionalProperties: false },
);
export type WinnerBody = Static<typeof WinnerBody>;

export const MatchScore = Type.Object({
  user: Type.String(),
  points: Type.Number(),
  wins: Type.Number(),
});

export const WinnerAnswer = Type.Object({
  round: RoundRecord,
  score: Type.Object(MatchScore.properties, { description: "The winner's match totals after the win" }),
});

export const ScoreBody = Type.Union(
  [
    Type.Object(
      {
        points: Type.Optional(Type.Number({ description: 'Added to the points; default 0' })),
        wins: Type.Optional(
          Type.Integer({
            minimum: -MAX_SAFE_INTEGER,
            maximum: MAX_SAFE_INTEGER,
            description: 'Added to the wins; default 0',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    // JSON null counts as no body.
    Type.Null(),
  ],
  { [OPTIONAL_BODY]: true, description: 'Optional: no body adds nothing' },
);
export type ScoreBody = Static<typeof ScoreBody> | undefined;

export const ScoresQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100' })) },
  { additionalProperties: false },
);
export type ScoresQuery = Static<typeof ScoresQuery>;

export const ScoreList = Type.Object({
  entries: Type.Array(Type.Object({ rank: Type.Integer({ minimum: 1 }), ...MatchScore.properties }), {
    description: 'By points, highest first; ties by who reached the points first, then user',
  }),
});

export const CompleteBody = Type.Union(
  [
    Type.Object(
      {
        trophies: Type.Optional(
          Type.Record(
            Type.String({ pattern: ID_PATTERN }),
            Type.Array(Type.String({ minLength: 1, maxLength: MAX_TROPHY_LENGTH }), { maxItems: 100 }),
            {
              additionalProperties: false,
              description: 'Trophies to append to lifetime records, by user',
              [ERROR_MESSAGE]: 'must map user ids to arrays of trophy names',
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    // JSON null counts as no body.
    Type.Null(),
  ],
  { [OPTIONAL_BODY]: true, description: 'Optional: no body awards no trophies' },
);
export type CompleteBody = Static<typeof CompleteBody> | undefined;

export const CompleteAnswer = Type.Object({
  matchId: Type.String(),
  participants: Type.Array(Type.String(), { description: 'Users with a score in the match' }),
  alreadyCompleted: Type.Boolean({
    description: 'True when an earlier call completed it; nothing was counted again',
  }),
});

export const Lifetime = Type.Object({
  user: Type.String(),
  totalWins: Type.Number(),
  matchesPlayed: Type.Integer(),
  trophies: Type.Array(Type.String(), { description: 'In the order they were awarded' }),
});

export const TrophyBody = Type.Object(
  { trophy: Type.String({ minLength: 1, maxLength: MAX_TROPHY_LENGTH }) },
  { additionalProperties: false },
);
export type TrophyBody = Static<typeof TrophyBody>;

export const AnalyticsBody = Type.Object(
  {
    metrics: Type.Record(Type.String({ pattern: METRIC_NAME_PATTERN }), Type.Number(), {
      additionalProperties: false,
      minProperties: 1,
      maxProperties: MAX_METRICS_PER_RECORD,
      description: 'One sample per metric name',
      [ERROR_MESSAGE]: `must hold 1-${MAX_METRICS_PER_RECORD} metrics, each named with 1-100 of A-Z a-z 0-9 _ -`,
    }),
  },
  { additionalProperties: false },
);
export type AnalyticsBody = Static<typeof AnalyticsBody>;

export const AnalyticsAnswer = Type.Object({
  matchId: Type.String(),
  metrics: Type.Record(
    Type.String(),
    Type.Object({ count: Type.Integer(), mean: Type.Number(), min: Type.Number(), max: Type.Number() }),
  ),
  updatedAt: Time('When the last sample was recorded'),
});
