/**
 * `savepoint migrate --to URL [--force] [--to-redis URL]`: copies the configured store (`--database`
 * / `DATABASE_URL`, default the SQLite file in the data directory) into another one, such as
 * SQLite to PostgreSQL when a game outgrows one machine, or back.
 *
 * 1. The source is read from one consistent snapshot and streamed into the target's
 *    `importRecords`: one transaction, so the target gets every record (versions, times, seqs
 *    kept) or none.
 * 2. Verification: the target is exported back at the same instant, and the counts and the
 *    checksum of its canonical record stream must equal the source's (the same checksum an
 *    export file carries).
 *
 * The target must be empty; `--force` replaces what it holds instead, in the import's transaction.
 * Stop the servers writing to the source first: writes made after the snapshot are not copied.
 * `--to-redis` opens the target through the Redis layer, so the import empties that Redis's cache
 * (use it when the new deployment's Redis may hold entries from an earlier store).
 *
 * As with `savepoint import`, the target's audit log is not data: its entries do not make the
 * target non-empty and are kept, after the source's own audit entries, in the copy's transaction
 * (`ImportOptions.keepStream`); the verification leaves them out. A `migrate` entry (or
 * `migrate-rejected`, with the error) is appended to the target's audit log afterwards.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AUDIT_STREAM } from '../../audit.js';
import { type Config, maskUrl } from '../../config.js';
import type { ImportCounts, RecordDump } from '../../engine/driver.js';
import { DumpDigest, digestOf } from '../../engine/dump-format.js';
import { withoutKeptEvents } from '../../engine/dump-import.js';
import { describeCounts, sameCounts, totalOf } from '../../engine/dump-order.js';
import type { Store } from '../../engine/store.js';
import { invalidInput, SavepointError } from '../../errors.js';
import { driverKindOf, sqlitePathOf } from '../../open.js';
import { openSavepoint, type Savepoint } from '../../savepoint.js';
import type { MigrateFlags } from '../definitions.js';
import { type CommandOutput, configFrom, openConfiguredSavepoint, processOutput, say } from '../options.js';
import { createProgress } from '../progress.js';
import { assertEmptyTarget, audited, countsData } from './audit-entries.js';
import { assertStoreExists } from './export.js';

export interface MigrateCommandOptions {
  /** Replace what the target holds (atomically, with the import). Default false: refuse a non-empty target. */
  readonly force?: boolean;
  /** The instant records are judged live at, on both sides; default the source's clock. */
  readonly now?: number;
  /**
   * Record the copy in the target's audit log and keep the entries already there (see the module
   * comment). The CLI always does; off by default, so that a caller of the function gets a target
   * holding exactly the source's records.
   */
  readonly audit?: boolean;
  /** How the audit entries name the source (the CLI: its URL, password masked); default its driver. */
  readonly from?: string;
}

export interface MigrateReport {
  readonly counts: ImportCounts;
  /** The checksum both sides' canonical record streams hash to. */
  readonly checksum: string;
  readonly seconds: number;
  /** With force: what the target held just before (outside the audit log, when auditing). */
  readonly replaced: ImportCounts | undefined;
}

/** Copies `source` into `target` and verifies the copy; progress on `output.err`, the summary on `output.out`. */
export async function runMigrate(
  source: Store,
  target: Store,
  output: CommandOutput = processOutput,
  options: MigrateCommandOptions = {},
): Promise<MigrateReport> {
  if (options.audit !== true) return copyAndVerify(source, target, output, options, false);
  const force = options.force === true;
  const from = options.from ?? source.driverName;
  return audited(
    target,
    'migrate',
    output,
    {
      succeeded: (report) => ({
        from,
        sourceDriver: source.driverName,
        counts: countsData(report.counts),
        checksum: report.checksum,
        force,
        replaced: report.replaced === undefined ? null : countsData(report.replaced),
      }),
      rejected: async () => ({ from, sourceDriver: source.driverName, force }),
    },
    () => copyAndVerify(source, target, output, options, true),
  );
}

async function copyAndVerify(
  source: Store,
  target: Store,
  output: CommandOutput,
  options: MigrateCommandOptions,
  audit: boolean,
): Promise<MigrateReport> {
  const started = performance.now();
  const now = options.now ?? source.now();
  const force = options.force === true;
  const existing = await assertEmptyTarget(target, { force, audit, now, what: 'Migrate' });
  const expected = totalOf(await source.countRecords({ now }));
  const digest = new DumpDigest();
  /** The source's head of the audit stream, if it has one: the target's entries past it are its own. */
  let sourceAuditHead: number | undefined;
  const copying = createProgress({ label: 'copying', unit: 'records', total: expected, stream: output.err });
  async function* copied(): AsyncGenerator<readonly RecordDump[]> {
    for await (const page of source.exportRecords({ now })) {
      for (const record of page) {
        digest.add(record);
        if (record.kind === 'stream' && record.stream === AUDIT_STREAM) sourceAuditHead = record.head;
      }
      yield page;
      copying.update(digest.count, Math.max(digest.count, expected));
    }
  }
  let counts: ImportCounts;
  try {
    counts = await target.importRecords(
      copied(),
      audit ? { replace: force, keepStream: AUDIT_STREAM } : { replace: force },
    );
  } finally {
    copying.stop();
  }
  const copy = digest.finish();
  const verifying = createProgress({
    label: 'verifying',
    unit: 'records',
    total: totalOf(copy.counts),
    stream: output.err,
  });
  let check: { readonly counts: ImportCounts; readonly checksum: string };
  // The copy is what must match: the target's own audit entries, kept by the import, are left out.
  const targetRecords = audit
    ? withoutKeptEvents(target.exportRecords({ now }), AUDIT_STREAM, sourceAuditHead)
    : target.exportRecords({ now });
  try {
    check = await digestOf(targetRecords, (records) => verifying.update(records));
  } finally {
    verifying.stop();
  }
  if (!sameCounts(check.counts, copy.counts) || check.checksum !== copy.checksum) {
    throw new SavepointError(
      'CORRUPT_DATA',
      `Verification failed: the source read ${describeCounts(copy.counts)} (${copy.checksum}), but the target holds ${describeCounts(check.counts)} (${check.checksum}). Was something writing to the target? Run migrate again with --force.`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const total = totalOf(counts);
  say(
    output.out,
    `migrated ${total} record${total === 1 ? '' : 's'} (${describeCounts(counts)}) from ${source.driverName} to ${target.driverName} in ${seconds.toFixed(1)} s; verified: both hash to ${copy.checksum}`,
  );
  return { counts, checksum: copy.checksum, seconds, replaced: force ? existing : undefined };
}

/** A URL's identity for "is this the same store": SQLite by absolute path, others as written. */
function storeIdentity(url: string): string {
  return driverKindOf(url) === 'sqlite' ? `sqlite:${resolve(sqlitePathOf(url))}` : url;
}

/** Opens the target, creating a SQLite file's directory; refuses `memory:` (it would keep nothing). */
export async function openMigrationTarget(
  url: string,
  config: Config,
  redisUrl: string | undefined,
): Promise<Savepoint> {
  const kind = driverKindOf(url);
  if (kind === 'memory') throw invalidInput('migrate --to memory: would keep nothing once the command ends');
  if (storeIdentity(url) === storeIdentity(config.databaseUrl))
    throw invalidInput(`migrate --to names the store being migrated (${maskUrl(url)})`);
  if (kind === 'sqlite') await mkdir(dirname(sqlitePathOf(url)), { recursive: true });
  return openSavepoint({
    url,
    durability: config.durability,
    ...(redisUrl === undefined ? {} : { redisUrl }),
  });
}

/** `savepoint migrate --to <url>`. */
export async function migrateAction(flags: MigrateFlags): Promise<void> {
  const config = configFrom(flags);
  assertStoreExists(config);
  const source = await openConfiguredSavepoint(config);
  try {
    const target = await openMigrationTarget(flags.to, config, flags.toRedis);
    try {
      await runMigrate(source.store, target.store, processOutput, {
        force: flags.force === true,
        audit: true,
        from: maskUrl(config.databaseUrl),
      });
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
