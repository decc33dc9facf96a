/**
 * `savepoint backup [--out FILE]`: an online backup of the SQLite store, safe while the server
 * serves. Without `--out` it goes to `<data dir>/backups/savepoint-<timestamp>.db`, and only the
 * newest `SAVEPOINT_BACKUP_KEEP` backups there are kept. The copy is verified before it is kept.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../../config.js';
import { type BackupResult, backupSqliteFile, pruneBackups } from '../../drivers/sqlite/sqlite-backup.js';
import { invalidInput } from '../../errors.js';
import { driverKindOf, sqlitePathOf } from '../../open.js';
import type { OutFlags } from '../definitions.js';
import { type CommandOutput, configFrom, processOutput, say } from '../options.js';

/** The SQLite file of the configured store, or an error saying what to use instead. */
export function sqliteFileOf(config: Config, command: string): string {
  const kind = driverKindOf(config.databaseUrl);
  if (kind === 'postgres') {
    throw invalidInput(
      `savepoint ${command} works on SQLite files; back up PostgreSQL with pg_dump, or write a portable copy with savepoint export`,
    );
  }
  const file = kind === 'sqlite' ? sqlitePathOf(config.databaseUrl) : ':memory:';
  if (file === ':memory:')
    throw invalidInput(`A memory store has no file to ${command}; savepoint export writes a copy`);
  return file;
}

/** Takes the backup and reports it on `output.out`. */
export async function runBackup(
  config: Config,
  output: CommandOutput = processOutput,
  options: { readonly out?: string } = {},
): Promise<BackupResult> {
  const file = sqliteFileOf(config, 'backup');
  if (!existsSync(file)) throw invalidInput(`No database file at ${file}: check --data-dir or --database`);
  const result = await backupSqliteFile(file, options.out);
  say(
    output.out,
    `backed up ${file} to ${result.path} (${result.bytes} bytes, ${result.durationMs.toFixed(0)} ms, verified)`,
  );
  if (options.out === undefined) {
    const pruned = pruneBackups(dirname(result.path), config.backupKeep);
    if (pruned.length > 0)
      say(output.out, `removed ${pruned.length} old backup(s), keeping ${config.backupKeep}`);
  }
  return result;
}

/** `savepoint backup`. */
export async function backupAction(flags: OutFlags): Promise<void> {
  await runBackup(configFrom(flags), processOutput, flags.out === undefined ? {} : { out: flags.out });
}
