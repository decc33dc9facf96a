/**
 * `savepoint import FILE [--force]`: loads an export (see `savepoint export`) into the configured
 * store. It first reads the whole file and checks the header, every record, the order, the counts
 * and the checksum, writing nothing; a truncated, damaged or foreign file is refused there. Then
 * it imports in one transaction: all records, with their versions, times and seqs, or none.
 *
 * The target must be empty (expired records not yet swept count as absent). `--force` replaces
 * whatever it holds instead, in the same transaction as the import, so a failure still leaves the
 * old contents in place.
 *
 * The command records itself in the target's audit log (`audit`): an `import` entry after a
 * successful import, an `import-rejected` entry (the error, and the file's path, size, SHA-256 and
 * header) after a refusal. The audit log is not data: its entries do not make the target
 * non-empty, and the import keeps them, after the file's own audit entries, in its transaction
 * (`ImportOptions.keepStream`). So fixing a refused file and importing it again needs no --force.
 */
import { resolve } from 'node:path';
import { AUDIT_STREAM } from '../../audit.js';
import type { ImportCounts } from '../../engine/driver.js';
import { readExportPages, verifyExportFile } from '../../engine/dump-file.js';
import type { ExportHeader } from '../../engine/dump-format.js';
import { describeCounts, totalOf } from '../../engine/dump-order.js';
import type { Store } from '../../engine/store.js';
import type { ForceFlags } from '../definitions.js';
import { type CommandOutput, configFrom, openConfiguredSavepoint, processOutput, say } from '../options.js';
import { createProgress } from '../progress.js';
import { assertEmptyTarget, audited, countsData, fileFacts, headerData } from './audit-entries.js';

export interface ImportCommandOptions {
  /** Replace what the store holds (atomically, with the import). Default false: refuse a non-empty store. */
  readonly force?: boolean;
  /**
   * Record the import in the store's audit log and keep the entries already there (see the module
   * comment). The CLI always does; off by default, so that a caller of the function gets a store
   * holding exactly the file's records.
   */
  readonly audit?: boolean;
}

export interface ImportReport {
  readonly header: ExportHeader;
  readonly counts: ImportCounts;
  /** With force: what the store held just before (outside the audit log, when auditing). */
  readonly replaced: ImportCounts | undefined;
}

/** Verifies `file`, then imports it into `store`; progress on `output.err`, the summary on `output.out`. */
export async function runImport(
  store: Store,
  file: string,
  output: CommandOutput = processOutput,
  options: ImportCommandOptions = {},
): Promise<ImportReport> {
  const path = resolve(file);
  const force = options.force === true;
  if (options.audit !== true) return importFile(store, path, file, output, { force, audit: false });
  return audited(
    store,
    'import',
    output,
    {
      succeeded: ({ header, counts, replaced }) => ({
        file: path,
        formatVersion: header.formatVersion,
        exportedAt: header.exportedAt,
        exportedFrom: header.driver,
        checksum: header.checksum,
        counts: countsData(counts),
        force,
        replaced: replaced === undefined ? null : countsData(replaced),
      }),
      rejected: async () => {
        const facts = await fileFacts(path);
        const header = facts.header === null ? null : headerData(facts.header);
        return { file: path, size: facts.size, sha256: facts.sha256, header, force };
      },
    },
    () => importFile(store, path, file, output, { force, audit: true }),
  );
}

async function importFile(
  store: Store,
  path: string,
  file: string,
  output: CommandOutput,
  options: { readonly force: boolean; readonly audit: boolean },
): Promise<ImportReport> {
  const { force, audit } = options;
  const existing = await assertEmptyTarget(store, { force, audit, what: 'Import' });
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
      audit ? { replace: force, keepStream: AUDIT_STREAM } : { replace: force },
    );
  } finally {
    importing.stop();
  }
  say(
    output.out,
    `imported ${total} record${total === 1 ? '' : 's'} (${describeCounts(counts)}) from ${file}, exported at ${header.exportedAt} from ${header.driver}${force ? '; the previous contents were replaced' : ''}`,
  );
  return { header, counts, replaced: force ? existing : undefined };
}

/** `savepoint import <file>`. */
export async function importAction(file: string, flags: ForceFlags): Promise<void> {
  const savepoint = await openConfiguredSavepoint(configFrom(flags));
  try {
    await runImport(savepoint.store, file, processOutput, { force: flags.force === true, audit: true });
  } finally {
    await savepoint.close();
  }
}
