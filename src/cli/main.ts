#!/usr/bin/env node
/**
 * The `savepoint` command line. Every command reads its settings through `src/config.ts`
 * (flags > environment > defaults). A failure prints one line, `error: <what to do>`, and exits 1;
 * stack traces appear only with `SAVEPOINT_DEBUG=1`.
 */
import { Command, CommanderError } from 'commander';
import { SAVEPOINT_VERSION } from '../http/version.js';
import { registerBackup } from './commands/backup.js';
import { registerCheck } from './commands/check.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerMigrate } from './commands/migrate.js';
import { registerRestore } from './commands/restore.js';
import { registerSeed } from './commands/seed.js';
import { registerServe } from './commands/serve.js';
import { registerSweep } from './commands/sweep.js';

const program = new Command('savepoint')
  .description('The durable memory of a game backend')
  .version(SAVEPOINT_VERSION)
  .showHelpAfterError('(run savepoint --help for usage)')
  .exitOverride();

registerServe(program);
registerCheck(program);
registerSweep(program);
registerSeed(program);
registerExport(program);
registerImport(program);
registerMigrate(program);
registerBackup(program);
registerRestore(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text); keep its exit code.
    process.exitCode = error.exitCode;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message.replaceAll('\n', '; ')}\n`);
    if (process.env.SAVEPOINT_DEBUG === '1' && error instanceof Error)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}
