/**
 * What each command accepts (arguments, options, help), without what it does. `savepoint --help`
 * and a mistyped flag need nothing but this module and commander; each command's own module,
 * with the store, the server and their dependencies, is imported by main.ts when the command runs.
 * Loading every command's dependencies made every command start in half a second or more.
 */
import { type Command, InvalidArgumentError } from 'commander';

/** The flags commander parses for a command (all optional strings). */
export interface StorageFlags {
  readonly dataDir?: string;
  readonly database?: string;
  readonly redis?: string;
}

export interface ServeFlags extends StorageFlags {
  readonly host?: string;
  readonly port?: string;
}

export interface OutFlags extends StorageFlags {
  readonly out?: string;
}

export interface ForceFlags extends StorageFlags {
  readonly force?: boolean;
}

export interface MigrateFlags extends ForceFlags {
  readonly to: string;
  readonly toRedis?: string;
}

export interface SweepFlags extends StorageFlags {
  readonly batchSize?: number;
}

export interface SeedFlags extends StorageFlags {
  readonly rollback?: string;
}

/** Adds `--data-dir`, `--database` and `--redis`. */
export function withStorageOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data directory (env SAVEPOINT_DATA_DIR; default ./data)')
    .option(
      '--database <url>',
      'memory:, sqlite:<path> or postgres://… (env DATABASE_URL; default sqlite:<data dir>/savepoint.db)',
    )
    .option('--redis <url>', 'Redis layer: redis://host:6379 (env REDIS_URL; default none)');
}

export function defineServe(command: Command, action: (flags: ServeFlags) => Promise<void>): Command {
  return withStorageOptions(
    command
      .description('run the HTTP service')
      .option('--host <host>', 'interface to bind (env HOST; default 127.0.0.1)')
      .option('--port <port>', 'port, 0 for any free one (env PORT; default 8787)'),
  ).action(action);
}

export function defineCheck(command: Command, action: (flags: StorageFlags) => Promise<void>): Command {
  return withStorageOptions(command.description('check that the store opens and reads')).action(action);
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 100_000)
    throw new InvalidArgumentError('expected an integer 1-100000');
  return value;
}

export function defineSweep(command: Command, action: (flags: SweepFlags) => Promise<void>): Command {
  return withStorageOptions(
    command
      .description('remove expired records now')
      .option('--batch-size <n>', 'records removed per batch (default 1000)', positiveInteger),
  ).action(action);
}

export function defineSeed(
  command: Command,
  action: (dir: string | undefined, flags: SeedFlags) => Promise<void>,
): Command {
  return withStorageOptions(
    command
      .description(
        'load catalog seed files (<dir>/<kind>.json) atomically; unchanged content writes nothing. ' +
          'With --rollback KIND@VERSION, make an older version of a kind current again',
      )
      .argument('[dir]', 'directory of <kind>.json seed files')
      .option('--rollback <kind@version>', 'make this version of a kind current again, as a new load'),
  ).action(action);
}

export function defineExport(command: Command, action: (flags: OutFlags) => Promise<void>): Command {
  return withStorageOptions(
    command
      .description('write every record (versions, times and seqs kept) to an NDJSON export with a checksum')
      .option('--out <file>', 'write to this file (created or replaced once complete); default stdout'),
  ).action(action);
}

const IMPORT_HELP_AFTER = `
Every run is recorded in the store's audit log (GET /v1/admin/audit): an "import" entry after a
successful import (the file, its format version, checksum and counts, and with --force what was
replaced), an "import-rejected" entry after a refusal (the error, and the file's path, size, SHA-256
and header: the file itself is what to import again). Audit log entries do not make a store
non-empty, and an import keeps them (with --force too), after the file's own audit entries, so a
fixed file imports without --force. Nothing of a refused file is written.`;

export function defineImport(
  command: Command,
  action: (file: string, flags: ForceFlags) => Promise<void>,
): Command {
  return withStorageOptions(
    command
      .description('verify an export file, then load it into an empty store in one transaction')
      .argument('<file>', 'an export written by savepoint export')
      .option('--force', 'replace whatever the store holds (in the same transaction as the import)')
      .addHelpText('after', IMPORT_HELP_AFTER),
  ).action(action);
}

const MIGRATE_HELP_AFTER = `
Every run is recorded in the target's audit log (GET /v1/admin/audit): a "migrate" entry after a
verified copy (the source, counts, checksum, and with --force what was replaced), a
"migrate-rejected" entry after a refusal or a failed verification (the error). Audit log entries
do not make the target non-empty, and the copy keeps them, after the source's own audit entries.`;

export function defineMigrate(command: Command, action: (flags: MigrateFlags) => Promise<void>): Command {
  return withStorageOptions(
    command
      .description(
        'copy the configured store into another (SQLite to PostgreSQL or back), then verify the copy',
      )
      .requiredOption('--to <url>', 'the target: postgres://user@host/db[?schema=name] or sqlite:<path>')
      .option('--to-redis <url>', 'open the target through this Redis, emptying its cache after the copy')
      .option('--force', 'replace whatever the target holds (in the same transaction as the copy)')
      .addHelpText('after', MIGRATE_HELP_AFTER),
  ).action(action);
}

export function defineBackup(command: Command, action: (flags: OutFlags) => Promise<void>): Command {
  return withStorageOptions(
    command
      .description('take an online, verified backup of the SQLite store')
      .option('--out <file>', 'write here; default <data dir>/backups/savepoint-<timestamp>.db'),
  ).action(action);
}

export function defineRestore(
  command: Command,
  action: (file: string, flags: StorageFlags) => Promise<void>,
): Command {
  return withStorageOptions(
    command
      .description('replace the SQLite store with a verified backup (refused while any process has it open)')
      .argument('<file>', 'the backup to restore'),
  ).action(action);
}
