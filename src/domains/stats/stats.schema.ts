/** The stats API's wire shapes (docs/api.md#stats). Bodies are closed: unknown fields are a 400. */

import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { Id, Name, Time } from '../../http-kit/schemas.js';
import { MAX_METRICS_PER_GAME } from './stats.js';

export const RecordGameBody = Type.Object(
  {
    sessionId: Type.Optional(Id('The session the game was played in')),
    outcome: Name('How the game ended: win, loss, draw, or any name of your own'),
    moves: Type.Optional(
      Type.Number({ minimum: 0, description: 'Moves played; counted as the metric moves' }),
    ),
    durationMs: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'Game length in milliseconds; counted as the metric durationMs',
      }),
    ),
    metrics: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: Type.Number(),
          maxProperties: MAX_METRICS_PER_GAME,
          description:
            'Other figures of the game by name (finite numbers); names are 1-200 characters without control characters or lone surrogates',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RecordGameBody = Static<typeof RecordGameBody>;

export const RecordedGame = Type.Object({
  sessionId: Type.Optional(Type.String()),
  outcome: Type.String(),
  metrics: Type.Object({}, { additionalProperties: Type.Number(), description: 'Every metric counted' }),
  recordedAt: Time('When the game was counted'),
});

const MetricSummary = Type.Object({
  count: Type.Integer(),
  mean: Type.Number(),
  min: Type.Number(),
  max: Type.Number(),
  ema: Type.Number({
    description: 'Exponential moving average, weight SAVEPOINT_EMA_ALPHA on the newest value',
  }),
});

export const StatsSummary = Type.Object({
  gamesRecorded: Type.Integer({ description: 'Games recorded since the last reset' }),
  outcomes: Type.Object({}, { additionalProperties: Type.Integer(), description: 'Games by outcome' }),
  metrics: Type.Object({}, { additionalProperties: MetricSummary, description: 'Running figures by metric' }),
  sessions: Type.Object(
    {
      created: Type.Integer({ description: 'Sessions created since the last stats reset' }),
      active: Type.Integer({ description: 'Sessions stored now with status active' }),
      completed: Type.Integer({ description: 'Sessions stored now with status completed' }),
    },
    { description: 'Exact session counts' },
  ),
});
