/**
 * The storage-full policy (docs/errors.md, `STORAGE_FULL`), applied once, in the Store's commit pipeline: a
 * commit that fails with `STORAGE_FULL` is held while space is reclaimed, then retried once; if it
 * fails again its caller gets `STORAGE_FULL` (HTTP 507). The storage's own transaction keeps a
 * failed commit from leaving any trace, so nothing is ever half applied.
 *
 * Reclaiming space, in order:
 * 1. expired records are swept (they are invisible already; removing them loses nothing);
 * 2. only when that removed nothing, the registered reclaimers run (the games domain removes its
 *    oldest completed games: a full disk should cost finished games first, never live ones).
 *
 * It lives in the engine rather than in the HTTP layer so that the library (`savepoint.games`,
 * `store.commit`) and the server share it; the engine knows no domain, so domains register what
 * they can give up with `Store.addSpaceReclaimer`.
 */
import { isSavepointError } from '../errors.js';
import type { CommitOp, CommitResult, SweepResult } from './types.js';

/** What a reclaimer may do: read the time, and commit removals (these are never retried again). */
export interface ReclaimContext {
  readonly now: number;
  commit(ops: readonly CommitOp[]): Promise<CommitResult>;
}

/** Removes what its domain can afford to lose when storage is full; resolves with how many records it removed. */
export type SpaceReclaimer = (context: ReclaimContext) => Promise<number>;

export interface ReclaimReport {
  /** Expired documents and streams removed. */
  readonly swept: number;
  /** Records each reclaimer removed, by its name (empty when the sweep was enough). */
  readonly reclaimed: Readonly<Record<string, number>>;
}

/** At most this many sweep batches of {@link SWEEP_BATCH} per reclaim, so that a reclaim stays short. */
const SWEEP_BATCHES = 10;
const SWEEP_BATCH = 1000;

export function isStorageFull(outcome: unknown): boolean {
  return isSavepointError(outcome, 'STORAGE_FULL');
}

/**
 * Sweeps expired records, and runs the reclaimers if that freed nothing. Failures are swallowed
 * (a full disk may refuse the sweep too): the retry that follows decides the caller's answer.
 */
export async function reclaimSpace(
  sweep: (limit: number) => Promise<SweepResult>,
  context: ReclaimContext,
  reclaimers: ReadonlyMap<string, SpaceReclaimer>,
): Promise<ReclaimReport> {
  let swept = 0;
  try {
    for (let batch = 0; batch < SWEEP_BATCHES; batch++) {
      const result = await sweep(SWEEP_BATCH);
      for (const count of Object.values(result.documents)) swept += count;
      swept += result.streams;
      if (!result.more) break;
    }
  } catch {
    // Reported through the retry's outcome.
  }
  const reclaimed: Record<string, number> = {};
  if (swept > 0) return { swept, reclaimed };
  for (const [name, reclaimer] of reclaimers) {
    try {
      reclaimed[name] = await reclaimer(context);
    } catch {
      // A full disk may refuse the removals too (SQLite's WAL needs room to delete): the retry decides.
      reclaimed[name] = 0;
    }
  }
  return { swept, reclaimed };
}
