/** The rankings API's wire shapes (docs/api.md#rankings: the Q-table). */
import { type Static, Type } from '@sinclair/typebox';
import { Id, SafeInteger, Time } from '../../http-kit/schemas.js';
import { validatedAs } from '../../http-kit/validated-schema.js';
import { MAX_BATCH_ENTRIES } from './rankings.js';

const Move = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'The move index: an integer >= 0',
});

const VALUE_RULE =
  'A finite number within [SAVEPOINT_RANKING_MIN, SAVEPOINT_RANKING_MAX] (else 400 OUT_OF_BOUNDS)';

/** A stored value, as answers show it. */
const Value = Type.Number({ description: VALUE_RULE });

/** The configured bounds of ranking values (`SAVEPOINT_RANKING_MIN`, `SAVEPOINT_RANKING_MAX`). */
export interface RankingBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * A value to write, documented with the configured bounds. The module checks them, so that a value
 * outside answers `400 OUT_OF_BOUNDS` with the bounds, as the contract says.
 */
const BoundedValue = ({ min, max }: RankingBounds) =>
  validatedAs(Type.Number({ minimum: min, maximum: max, description: VALUE_RULE }), Value);

export const RankingParams = Type.Object({ stateKey: Id('The state key'), move: Move });
export type RankingParams = Static<typeof RankingParams>;

export const RankingEntrySchema = Type.Object(
  { stateKey: Id('The state key'), move: Move, value: Value },
  { additionalProperties: false },
);

export const BatchAnswer = Type.Object({ written: Type.Integer() });

export const ExportDocument = Type.Object({
  version: Type.Literal(1, { description: 'The export format version' }),
  exportedAt: Time('When the export began'),
  count: Type.Integer({ description: 'How many entries follow (written after them in the stream)' }),
  entries: Type.Array(RankingEntrySchema),
});

export const ImportAnswer = Type.Object({ imported: Type.Integer() });

/** The request bodies, built with the configured bounds so that OpenAPI states them. */
export function rankingBodies(bounds: RankingBounds) {
  const value = BoundedValue(bounds);
  const entry = Type.Object(
    { stateKey: Id('The state key'), move: Move, value },
    { additionalProperties: false },
  );
  return {
    SetRankingBody: Type.Object({ value }, { additionalProperties: false }),
    BatchBody: Type.Object(
      {
        entries: Type.Array(entry, {
          maxItems: MAX_BATCH_ENTRIES,
          description: `At most ${MAX_BATCH_ENTRIES} entries, written all or nothing; a (stateKey, move) given twice takes its last value`,
        }),
      },
      { additionalProperties: false },
    ),
    /**
     * An export document to import. `exportedAt` and `count` may be left out; a `count` that disagrees
     * with `entries` is refused. Other checks (bounds, repeats) happen before anything is written.
     */
    ImportBody: Type.Object(
      {
        version: Type.Literal(1, { description: 'The export format version' }),
        exportedAt: Type.Optional(Type.String()),
        count: Type.Optional(SafeInteger(0, 'How many entries follow')),
        entries: Type.Array(entry),
      },
      { additionalProperties: false },
    ),
  };
}

type RankingBodies = ReturnType<typeof rankingBodies>;
export type SetRankingBody = Static<RankingBodies['SetRankingBody']>;
export type BatchBody = Static<RankingBodies['BatchBody']>;
export type ImportBody = Static<RankingBodies['ImportBody']>;
