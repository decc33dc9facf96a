/**
 * How a `score` op combines with a member's current entry, the same for every driver: `set`
 * replaces, `best` replaces only a worse score in the board's order, `incr` adds. `reachedAt` moves
 * to the commit time only when the score changes (or the member is new), which is what ranks ties;
 * metadata is replaced when given, kept otherwise, and left alone by a `best` that did not win.
 */

import { SavepointError } from '../errors.js';
import type { PreparedScore } from './driver.js';
import type { BoardOrder } from './types.js';

export interface CurrentEntry {
  readonly score: number;
  readonly reachedAt: number;
  readonly metadataJson: string | null;
}

export type ScoreDecision =
  | { readonly changed: false; readonly score: number; readonly reachedAt: number }
  | {
      readonly changed: true;
      readonly score: number;
      readonly reachedAt: number;
      readonly metadataJson: string | null;
    };

function isBetter(order: BoardOrder, candidate: number, current: number): boolean {
  return order === 'desc' ? candidate > current : candidate < current;
}

/** The member's entry after `op`, or `changed: false` when a `best` submission did not beat it. */
export function decideScore(
  op: PreparedScore,
  order: BoardOrder,
  current: CurrentEntry | undefined,
  at: number,
  opIndex: number,
): ScoreDecision {
  let score: number;
  if (current === undefined) score = op.score;
  else if (op.mode === 'incr') score = current.score + op.score;
  else if (op.mode === 'set' || isBetter(order, op.score, current.score)) score = op.score;
  else return { changed: false, score: current.score, reachedAt: current.reachedAt };
  if (!Number.isFinite(score)) {
    throw new SavepointError('OUT_OF_BOUNDS', `Score of ${op.member} on ${op.board} overflows`, {
      details: { opIndex, board: op.board, member: op.member },
    });
  }
  return {
    changed: true,
    score,
    reachedAt: current === undefined || score !== current.score ? at : current.reachedAt,
    metadataJson: op.metadataJson === undefined ? (current?.metadataJson ?? null) : op.metadataJson,
  };
}
