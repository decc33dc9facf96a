/**
 * Removing expired records in bounded batches, so that a large backlog never holds one long
 * transaction. Expired records are already invisible to reads; sweeping only reclaims space.
 * Used by `POST /v1/admin/sweep`, the background sweeper and `savepoint sweep`.
 */
import { appendAudit } from '../audit.js';
import type { SweepResult } from '../engine/types.js';
import type { Savepoint } from '../savepoint.js';

/** Totals over every batch of one sweep. */
export interface SweepTotals {
  /** Removed documents by collection. */
  readonly documents: Readonly<Record<string, number>>;
  /** Removed streams. */
  readonly streams: number;
  /** Removed boards whose owner expired (boards carry no expiry of their own). */
  readonly boards: number;
  /** Documents and streams removed. */
  readonly total: number;
  /** True when `maxBatches` stopped the sweep with expired records left. */
  readonly more: boolean;
}

export interface SweepOptions {
  /** Records removed per batch (one driver call each). Default 1000. */
  readonly batchSize?: number;
  /** Stop after this many batches, leaving the rest for later. Default: until nothing expired is left. */
  readonly maxBatches?: number;
  /** Hears each batch, for progress reports. */
  readonly onBatch?: (batch: SweepResult, totals: SweepTotals) => void;
  /**
   * Who asked, for the `sweep` entry of the audit log (`background`, `admin`, `cli`); default
   * `manual`. A sweep that removed something is always audited, with its counts by collection.
   */
  readonly trigger?: string;
  /** Audit the sweep even when it removed nothing (an operator's explicit sweep). Default false. */
  readonly auditEmpty?: boolean;
}

/**
 * Sweeps the Savepoint's store batch by batch until nothing expired is left (or `maxBatches` is
 * reached), then runs the modules' sweep hooks.
 */
export async function sweepAll(savepoint: Savepoint, options: SweepOptions = {}): Promise<SweepTotals> {
  const { store } = savepoint;
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  const documents: Record<string, number> = {};
  let streams = 0;
  let total = 0;
  let more = true;
  for (let batches = 0; more && batches < maxBatches; batches++) {
    const batch = await store.sweepExpired(batchSize);
    for (const [collection, count] of Object.entries(batch.documents)) {
      documents[collection] = (documents[collection] ?? 0) + count;
      total += count;
    }
    streams += batch.streams;
    total += batch.streams;
    more = batch.more;
    options.onBatch?.(batch, { documents: { ...documents }, streams, boards: 0, total, more });
  }
  // What modules own beside expired records (a match's score boards) goes once those are all swept.
  const boards = more ? 0 : await savepoint.sweepModules();
  const totals = { documents, streams, boards, total: total + boards, more };
  if (totals.total > 0 || options.auditEmpty === true) {
    await appendAudit(store, 'sweep', { trigger: options.trigger ?? 'manual', ...totals });
  }
  return totals;
}

export interface SweeperOptions {
  readonly intervalMs: number;
  /** Hears each finished sweep that removed something. */
  readonly onSweep?: (totals: SweepTotals) => void;
  /** Hears failures; the sweeper keeps running and tries again at the next tick. */
  readonly onError: (error: unknown) => void;
}

/**
 * Sweeps every `intervalMs` in the background, at most 10 batches a tick so that a backlog is
 * worked off gradually. The timer does not keep the process alive. Returns `stop`, which waits for
 * a sweep in progress to finish.
 */
export function startSweeper(savepoint: Savepoint, options: SweeperOptions): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = sweepAll(savepoint, { maxBatches: 10, trigger: 'background' })
      .then((totals) => {
        if (totals.total > 0) options.onSweep?.(totals);
      }, options.onError)
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
