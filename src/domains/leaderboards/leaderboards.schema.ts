/** Wire shapes of the leaderboards API (docs/api.md#leaderboards). Bodies are closed. */
import { type Static, Type } from '@sinclair/typebox';
import { Id, SafeInteger } from '../../http-kit/schemas.js';
import { DEFAULT_KEEP_PERIODS, MAX_KEEP_PERIODS } from './leaderboards.js';

export const BoardParams = Type.Object({ board: Id('The leaderboard') });
export type BoardParams = Static<typeof BoardParams>;

export const MemberParams = Type.Object({ board: Id('The leaderboard'), member: Id('The member') });
export type MemberParams = Static<typeof MemberParams>;

const Order = Type.Union([Type.Literal('desc'), Type.Literal('asc')], {
  description: 'desc: highest first; asc: lowest first',
});
const Operator = Type.Union([Type.Literal('best'), Type.Literal('set'), Type.Literal('incr')], {
  description: 'best keeps the better score, set replaces it, incr adds to it',
});
const PeriodKind = Type.Union(
  [Type.Literal('none'), Type.Literal('daily'), Type.Literal('weekly'), Type.Literal('monthly')],
  { description: 'UTC periods: daily YYYY-MM-DD, weekly ISO YYYY-Www, monthly YYYY-MM' },
);

export const DefineBody = Type.Object(
  {
    order: Order,
    operator: Operator,
    period: PeriodKind,
    keepPeriods: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_KEEP_PERIODS,
        description: `Periods kept readable, the current one included; older ones are deleted. Default ${DEFAULT_KEEP_PERIODS.daily} daily, ${DEFAULT_KEEP_PERIODS.weekly} weekly, ${DEFAULT_KEEP_PERIODS.monthly} monthly. Ignored without periods.`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type DefineBody = Static<typeof DefineBody>;

export const LeaderboardAnswer = Type.Object({
  board: Type.String(),
  order: Order,
  operator: Operator,
  period: PeriodKind,
  keepPeriods: Type.Union([Type.Integer(), Type.Null()], { description: 'null for boards without periods' }),
});

const Period = Type.Union([Type.String(), Type.Null()], {
  description: 'The period (YYYY-MM-DD, YYYY-Www or YYYY-MM); null for boards without periods',
});

export const SubmitBody = Type.Object(
  {
    member: Id('Who the score belongs to'),
    score: Type.Number(),
    metadata: Type.Optional(
      Type.Object(
        {},
        { additionalProperties: true, description: 'Stored with the entry when the score is written' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SubmitBody = Static<typeof SubmitBody>;

export const SubmitAnswer = Type.Object({
  member: Type.String(),
  score: Type.Number({ description: "The member's score after the write" }),
  rank: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'The rank just after the write (null only if the member was removed in between)',
  }),
  period: Period,
  changed: Type.Boolean({ description: 'False when a best submission did not beat the current score' }),
});

const PeriodQuery = Type.Optional(
  Type.String({ maxLength: 20, description: 'A period of the board; default the current one' }),
);

export const TopQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: '1-1000; default 100' })),
    offset: Type.Optional(SafeInteger(0, 'Default 0')),
    period: PeriodQuery,
  },
  { additionalProperties: false },
);
export type TopQuery = Static<typeof TopQuery>;

export const MemberQuery = Type.Object(
  {
    around: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 500,
        description: 'Entries on each side of the member; default 0',
      }),
    ),
    period: PeriodQuery,
  },
  { additionalProperties: false },
);
export type MemberQuery = Static<typeof MemberQuery>;

export const PeriodOnlyQuery = Type.Object({ period: PeriodQuery }, { additionalProperties: false });
export type PeriodOnlyQuery = Static<typeof PeriodOnlyQuery>;

const Entry = Type.Object({
  rank: Type.Integer({ minimum: 1 }),
  member: Type.String(),
  score: Type.Number(),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
});

export const PageAnswer = Type.Object({
  board: Type.String(),
  period: Period,
  total: Type.Integer({ description: 'Members on the board in this period' }),
  entries: Type.Array(Entry, {
    description: 'In rank order: score by the board order, then who reached it first, then member',
  }),
});

export const StandingAnswer = Type.Object({
  ...Entry.properties,
  period: Period,
  around: Type.Array(Entry, {
    description: 'The member and up to `around` entries on each side, in rank order',
  }),
});
