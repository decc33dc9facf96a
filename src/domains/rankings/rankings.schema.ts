/** The rankings API's wire shapes (API.md, Rankings: the Q-table). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Time } from '../../http/schemas.js';
import { MAX_BATCH_ENTRIES } from './rankings.js';

const Move = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'The move index: an integer >= 0',
});

const Value = Type.Number({
  description:
    'A finite number within [SAVEPOINT_RANKING_MIN, SAVEPOINT_RANKING_MAX] (else 400 OUT_OF_BOUNDS)',
});

export const RankingParams = Type.Object({ stateKey: Id('The state key'), move: Move });
export type RankingParams = Static<typeof RankingParams>;

export const RankingEntrySchema = Type.Object(
  { stateKey: Id('The state key'), move: Move, value: Value },
  { additionalProperties: false },
);

export const SetRankingBody = Type.Object({ value: Value }, { additionalProperties: false });
export type SetRankingBody = Static<typeof SetRankingBody>;

export const BatchBody = Type.Object(
  {
    entries: Type.Array(RankingEntrySchema, {
      maxItems: MAX_BATCH_ENTRIES,
      description: `At most ${MAX_BATCH_ENTRIES} entries, written all or nothing; a (stateKey, move) given twice takes its last value`,
    }),
  },
  { additionalProperties: false },
);
export type BatchBody = Static<typeof BatchBody>;

export const BatchAnswer = Type.Object({ written: Type.Integer() });

export const ExportDocument = Type.Object({
  version: Type.Literal(1, { description: 'The export format version' }),
  exportedAt: Time('When the export began'),
  count: Type.Integer({ description: 'How many entries follow (written after them in the stream)' }),
  entries: Type.Array(RankingEntrySchema),
});

/**
 * An export document to import. `exportedAt` and `count` may be left out; a `count` that disagrees
 * with `entries` is refused. Other checks (bounds, repeats) happen before anything is written.
 */
export const ImportBody = Type.Object(
  {
    version: Type.Literal(1, { description: 'The export format version' }),
    exportedAt: Type.Optional(Type.String()),
    count: Type.Optional(Type.Integer({ minimum: 0 })),
    entries: Type.Array(RankingEntrySchema),
  },
  { additionalProperties: false },
);
export type ImportBody = Static<typeof ImportBody>;

export const ImportAnswer = Type.Object({ imported: Type.Integer() });
