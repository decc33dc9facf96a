/** The million-member boards the board benchmarks load: the same members, scores and commits everywhere. */
import type { Store } from '../../src/engine/store.js';

/** Score ops per commit when loading a board. */
export const LOAD_CHUNK = 10_000;

/** Member `i`'s score: spread over the range, with ties. */
export const scoreOf = (i: number): number => ((i * 2_654_435_761) % 1_000_003) / 10;

export const memberOf = (i: number): string => `player-${i}`;

/** Loads `members` members into the engine board `name` (desc/best), {@link LOAD_CHUNK} per commit. */
export async function loadBoard(store: Store, name: string, members: number): Promise<void> {
  for (let offset = 0; offset < members; offset += LOAD_CHUNK) {
    await store.commit(
      Array.from({ length: Math.min(LOAD_CHUNK, members - offset) }, (_, j) => ({
        op: 'score' as const,
        board: name,
        member: memberOf(offset + j),
        score: scoreOf(offset + j),
        mode: 'best' as const,
        order: 'desc' as const,
      })),
    );
  }
}
