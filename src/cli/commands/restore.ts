/**
 * `savepoint restore FILE`: replaces the SQLite store with a backup, offline. It refuses with
 * `STORE_IN_USE`, changing nothing, while any process has the store open (a server, a game server
 * embedding the library, another command: see `src/drivers/sqlite/store-lock.ts`), and refuses a
 * backup that fails `integrity_check`; the current file is moved aside to
 * `<file>.before-restore-<timestamp>`, never deleted. The restore is recorded in the audit log.
 */
import { existsSync } from 'node:fs';
import { appendAudit } from '../../audit.js';
import type { Config } from '../../config.js';
import { type RestoreResult, restoreSqliteFile } from '../../drivers/sqlite/sqlite-backup.js';
import { invalidInput } from '../../errors.js';
import type { StorageFlags } from '../definitions.js';
import { type CommandOutput, configFrom, openConfiguredSavepoint, processOutput, say } from '../options.js';
import { sqliteFileOf } from './backup.js';

/** Restores `backup` over the configured store, then opens it (migrating it) and audits the restore. */
export async function runRestore(
  config: Config,
  backup: string,
  output: CommandOutput = processOutput,
): Promise<RestoreResult> {
  const file = sqliteFileOf(config, 'restore');
  if (!existsSync(backup)) throw invalidInput(`No backup file at ${backup}`);
  const result = restoreSqliteFile(backup, file);
  if (result.previousMovedTo !== undefined)
    say(output.out, `moved the current store aside to ${result.previousMovedTo}`);
  const savepoint = await openConfiguredSavepoint(config);
  try {
    await appendAudit(savepoint.store, 'restore', {
      from: result.restoredFrom,
      ...(result.previousMovedTo === undefined ? {} : { previousMovedTo: result.previousMovedTo }),
    });
  } finally {
    await savepoint.close();
  }
  say(output.out, `restored ${file} from ${result.restoredFrom}`);
  return result;
}

/** `savepoint restore <file>`. */
export async function restoreAction(file: string, flags: StorageFlags): Promise<void> {
  await runRestore(configFrom(flags), file);
}
