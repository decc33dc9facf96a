#!/usr/bin/env node
/**
 * The `savepoint` command line. Every command reads its settings through `src/config.ts`
 * (flags > environment > defaults). A failure prints one line, `error: <what to do>`, and exits 1;
 * stack traces appear only with `SAVEPOINT_DEBUG=1`.
 *
 * Commands are defined here from `definitions.ts` alone; each command's module is imported when it
 * runs, so `--help`, `check` and the others load only what they use.
 */
import { Command, CommanderError } from 'commander';
import { SAVEPOINT_VERSION } from '../http/version.js';
import {
  defineBackup,
  defineCheck,
  defineExport,
  defineImport,
  defineMigrate,
  defineRestore,
  defineSeed,
  defineServe,
  defineSweep,
} from './definitions.js';

const program = new Command('savepoint')
  .description('The durable memory of a game backend')
  .version(SAVEPOINT_VERSION)
  .showHelpAfterError('(run savepoint --help for usage)')
  .exitOverride();

defineServe(program.command('serve'), async (flags) =>
  (await import('./commands/serve.js')).serveAction(flags),
);
defineCheck(program.command('check'), async (flags) =>
  (await import('./commands/check.js')).checkAction(flags),
);
defineSweep(program.command('sweep'), async (flags) =>
  (await import('./commands/sweep.js')).sweepAction(flags),
);
defineSeed(program.command('seed'), async (dir, flags) =>
  (await import('./commands/seed.js')).seedAction(dir, flags),
);
defineExport(program.command('export'), async (flags) =>
  (await import('./commands/export.js')).exportAction(flags),
);
defineImport(program.command('import'), async (file, flags) =>
  (await import('./commands/import.js')).importAction(file, flags),
);
defineMigrate(program.command('migrate'), async (flags) =>
  (await import('./commands/migrate.js')).migrateAction(flags),
);
defineBackup(program.command('backup'), async (flags) =>
  (await import('./commands/backup.js')).backupAction(flags),
);
defineRestore(program.command('restore'), async (file, flags) =>
  (await import('./commands/restore.js')).restoreAction(file, flags),
);

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
