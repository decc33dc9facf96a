/**
 * `savepoint export [--out FILE]`: writes every live record of the configured store to an NDJSON
 * export (format in `src/engine/dump-format.ts`): a header with the counts and a SHA-256 checksum,
 * then one record a line, in a canonical order, with versions, times and seqs as stored. It reads
 * one consistent snapshot, so it may run while the server serves. Without `--out` the export goes
 * to stdout, once complete; progress and the summary go to stderr.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../../config.js';
import { writeExportFile, writeExportStream } from '../../engine/dump-file.js';
import type { ExportHeader } from '../../engine/dump-format.js';
import { describeCounts, totalOf } from '../../engine/dump-order.js';
import type { Store } from '../../engine/store.js';
import { invalidInput } from '../../errors.js';
import { driverKindOf, sqlitePathOf } from '../../open.js';
import type { OutFlags } from '../definitions.js';
import { type CommandOutput, configFrom, openConfiguredSavepoint, processOutput, say } from '../options.js';
import { createProgress } from '../progress.js';

export interface ExportCommandOptions {
  /** The file to write (created or replaced, only once complete); default `output.out`. */
  readonly out?: string;
  /** The instant records are judged live at; default the store's clock. */
  readonly now?: number;
}

/** Exports `store`, with progress on `output.err`; the summary goes to `output.out` when writing a file. */
export async function runExport(
  store: Store,
  output: CommandOutput = processOutput,
  options: ExportCommandOptions = {},
): Promise<ExportHeader> {
  const now = options.now ?? store.now();
  const expected = totalOf(await store.countRecords({ now }));
  const progress = createProgress({
    label: 'exporting',
    unit: 'records',
    total: expected,
    stream: output.err,
  });
  const onProgress = (records: number): void => progress.update(records, Math.max(records, expected));
  let header: ExportHeader;
  try {
    header =
      options.out === undefined
        ? await writeExportStream(store, output.out, { now, onProgress })
        : await writeExportFile(store, resolve(options.out), { now, onProgress });
  } finally {
    progress.stop();
  }
  const total = totalOf(header.counts);
  const where = options.out === undefined ? '' : ` to ${options.out}`;
  say(
    options.out === undefined ? output.err : output.out,
    `exported ${total} record${total === 1 ? '' : 's'} (${describeCounts(header.counts)}) from ${header.driver}${where}; ${header.checksum}`,
  );
  return header;
}

/** Refuses a SQLite store whose file does not exist, instead of creating an empty one to read. */
export function assertStoreExists(config: Config): void {
  if (driverKindOf(config.databaseUrl) !== 'sqlite') return;
  const path = sqlitePathOf(config.databaseUrl);
  if (path !== ':memory:' && !existsSync(path)) {
    throw invalidInput(`No database file at ${path}: check --data-dir or --database`);
  }
}

/** `savepoint export`. */
export async function exportAction(flags: OutFlags): Promise<void> {
  const config = configFrom(flags);
  assertStoreExists(config);
  const savepoint = await openConfiguredSavepoint(config);
  try {
    await runExport(savepoint.store, processOutput, flags.out === undefined ? {} : { out: flags.out });
  } finally {
    await savepoint.close();
  }
}
