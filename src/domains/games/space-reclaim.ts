/**
 * What the games module gives back when the storage is full and nothing expired was left to sweep
 * (the engine asks each module in turn: see `src/engine/storage-full.ts`): the oldest completed
 * games, which are already set to expire.
 */
import type { ReclaimContext } from '../../engine/storage-full.js';
import type { Store } from '../../engine/store.js';
import type { CommitOp } from '../../engine/types.js';
import { GAME_COLLECTION, isJsonObject } from './game-record.js';

/** Completed games removed per reclaim, and games scanned to find the oldest. */
const RECLAIM_GAMES = 10;
const RECLAIM_SCAN = 100_000;

/**
 * Removes the oldest completed games (by completion time; at most {@link RECLAIM_GAMES}, among the
 * first {@link RECLAIM_SCAN} games), each in its own commit of `deleteOps`. Resolves with the
 * number removed.
 */
export async function removeOldestCompleted(
  store: Store,
  context: ReclaimContext,
  deleteOps: (gameId: string) => Promise<CommitOp[]>,
): Promise<number> {
  const completed: Array<{ readonly key: string; readonly completedAt: number }> = [];
  let after: string | undefined;
  let scanned = 0;
  do {
    const page = await store.list(GAME_COLLECTION, {
      limit: 1000,
      ...(after === undefined ? {} : { after }),
    });
    for (const document of page.items) {
      const value = document.value;
      if (isJsonObject(value) && value.status === 'completed') {
        completed.push({
          key: document.key,
          completedAt: typeof value.completedAt === 'number' ? value.completedAt : document.updatedAt,
        });
      }
    }
    scanned += page.items.length;
    after = page.nextCursor ?? undefined;
  } while (after !== undefined && scanned < RECLAIM_SCAN);
  completed.sort((a, b) => a.completedAt - b.completedAt || (a.key < b.key ? -1 : 1));
  let removed = 0;
  for (const { key } of completed.slice(0, RECLAIM_GAMES)) {
    await context.commit(await deleteOps(key));
    removed++;
  }
  return removed;
}
