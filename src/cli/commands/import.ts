/**
 * `savepoint import FILE [--force]`: loads an export (see `savepoint export`) into the configured
 * store. It first reads the whole file and checks the header, every record, the order, the counts
 * and the checksum, writing nothing; a truncated, damaged or foreign file is refused there. Then
 * it imports in one transaction: all records, with their versions, times and seqs, or none.
 *
 * The target must be empty (expired records not yet swept count as absent). `--force` replaces
 * whatever it holds instead, in the same transaction as the import, so a failure still leaves the
 * old contents in place.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ImportCounts } from '../../engine/driver.js';
import { readExportPages, verifyExportFile } from '../../engine/dump-file.js';
import type { ExportHeader } from '../../engine/dump-format.js';
import { describeCounts, isEmptyCounts, totalOf } from '../../engine/dump-order.js';
import type { Store } from '../../engine/store.js';
import { SavepointError } from '../../errors.js';
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

export interface ImportCommandOptions {
  /** Replace what the store holds (atomically, with the import). Default false: refuse a non-empty store. */
  readonly force?: boolean;
}

export interface ImportReport {
  readonly header: ExportHeader;
  readonly counts: ImportCounts;
}

/** Verifies `file`, then imports it into `store`; progress on `output.err`, the summary on `output.out`. */
export async function runImport(
  store: Store,
  file: string,
  output: CommandOutput = processOutput,
  options: ImportCommandOptions = {},
): Promise<ImportReport> {
  const path = resolve(file);
  // Checked first so a refusal is quick; the import checks again, atomically.
  const force = options.force === true;
  if (!force) {
    const existing = await store.countRecords();
    if (!isEmptyCounts(existing)) {
      throw new SavepointError(
        'VERSION_CONFLICT',
        `The target store (${store.driverName}) is not empty: it holds ${describeCounts(existing)}. Import into an empty store, or pass --force to replace everything it holds (in one transaction with the import).`,
      );
    }
  }
  const verifying = createProgress({ label: 'verifying', unit: 'records', stream: output.err });
  let header: ExportHeader;
  try {
    header = await verifyExportFile(path, (records, found) =>
      verifying.update(records, totalOf(found.counts)),
    );
  } finally {
    verifying.stop();
  }
  const total = totalOf(header.counts);
  const importing = createProgress({ label: 'importing', unit: 'records', total, stream: output.err });
  let counts: ImportCounts;
  try {
    counts = await store.importRecords(
      readExportPages(path, header, (records) => importing.update(records)),
      { replace: force },
    );
  } finally {
    importing.stop();
  }
  say(
    output.out,
    `imported ${total} record${total === 1 ? '' : 's'} (${describeCounts(counts)}) from ${file}, exported at ${header.exportedAt} from ${header.driver}${force ? '; the previous contents were replaced' : ''}`,
  );
  return { header, counts };
}

export function registerImport(program: Command): void {
  withStorageOptions(
    program
      .command('import')
      .description('verify an export file, then load it into an empty store in one transaction')
      .argument('<file>', 'an export written by savepoint export')
      .option('--force', 'replace whatever the store holds (in the same transaction as the import)'),
  ).action(async (file: string, flags: StorageFlags & { force?: boolean }) => {
    const savepoint = await openConfiguredSavepoint(configFrom(flags));
    try {
      await runImport(savepoint.store, file, processOutput, { force: flags.force === true });
    } finally {
      await savepoint.close();
    }
  });
}
