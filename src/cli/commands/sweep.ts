/**
 * `savepoint sweep`: removes expired records now, in bounded batches (a progress bar on a
 * terminal, plain lines otherwise), then prints the counts per collection.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type SweepTotals, sweepAll } from '../../http/sweeper.js';
import type { Savepoint } from '../../savepoint.js';
import {
  type CommandOutput,
  configFrom,
  openConfiguredSavepoint,
  processOutput,
  type StorageFlags,
  say,
  withStorageOptions,
} from '../options.js';
import { createProgress } from '../progress.js';

export interface SweepCommandOptions {
  /** Records per batch; default 1000. */
  readonly batchSize?: number;
}

/** Sweeps the Savepoint's store, reporting progress on `output.err` and the counts on `output.out`. */
export async function runSweep(
  savepoint: Savepoint,
  output: CommandOutput = processOutput,
  options: SweepCommandOptions = {},
): Promise<SweepTotals> {
  const progress = createProgress({ label: 'sweeping', unit: 'expired records removed', stream: output.err });
  let totals: SweepTotals;
  try {
    totals = await sweepAll(savepoint, {
      batchSize: options.batchSize ?? 1000,
      onBatch: (_batch, sofar) => progress.update(sofar.total),
    });
  } finally {
    progress.stop();
  }
  const collections = Object.entries(totals.documents).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [collection, count] of collections) say(output.out, `${collection}: ${count}`);
  if (totals.streams > 0) say(output.out, `streams: ${totals.streams}`);
  if (totals.boards > 0) say(output.out, `boards: ${totals.boards}`);
  say(output.out, `removed ${totals.total} expired record${totals.total === 1 ? '' : 's'}`);
  return totals;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 100_000)
    throw new InvalidArgumentError('expected an integer 1-100000');
  return value;
}

export function registerSweep(program: Command): void {
  withStorageOptions(
    program
      .command('sweep')
      .description('remove expired records now')
      .option('--batch-size <n>', 'records removed per batch (default 1000)', positiveInteger),
  ).action(async (flags: StorageFlags & { batchSize?: number }) => {
    const savepoint = await openConfiguredSavepoint(configFrom(flags));
    try {
      await runSweep(
        savepoint,
        processOutput,
        flags.batchSize === undefined ? {} : { batchSize: flags.batchSize },
      );
    } finally {
      await savepoint.close();
    }
  });
}
