/**
 * `savepoint/driver`: what a driver written outside this repository is built with. The built-in
 * drivers take every shared rule from these same functions, so a third-party driver that uses
 * them words its conflicts, applies patches, combines scores, orders ranks and loads dumps exactly
 * as they do; the conformance suite (`savepoint/testing`) then checks the rest. See docs/drivers.md.
 */

export { isSavepointError, SavepointError } from '../errors.js';
export { boardSortKey, compareBoardEntries, compareCodePoints } from './board-sort-key.js';
export { checkDocumentCondition, checkStreamHead, type DocumentConditionTarget } from './conditions.js';
export type * from './driver.js';
export {
  assertEmptyTarget,
  type ImportTarget,
  importDump,
  type KeptEvent,
  type KeptStream,
  RankBlockBuilder,
} from './dump-import.js';
export { DumpOrderChecker, emptyCounts } from './dump-order.js';
export { completeRecordOp } from './idempotency.js';
export { parseStoredJson } from './json.js';
export { applyPatch } from './patch.js';
export { type CurrentEntry, decideScore, type ScoreDecision } from './scoring.js';
export type * from './types.js';
