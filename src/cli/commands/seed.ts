/**
 * `savepoint seed DIR`: loads the catalog seed files `DIR/<kind>.json` into the configured store,
 * atomically and idempotently (an unchanged directory writes nothing). A server running on the
 * same store serves the new content within a second, without a restart: its catalog cache
 * listens for changes made by other processes. A bad file changes nothing; the command then fails
 * with a message naming the file and the record.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Config } from '../../config.js';
import {
  describeSeedReport,
  type SeedReport,
  seedCatalogFromDirectory,
} from '../../domains/catalog/catalog.js';
import {
  type CommandOutput,
  configFrom,
  openConfiguredSavepoint,
  processOutput,
  type StorageFlags,
  say,
  withStorageOptions,
} from '../options.js';

/** Seeds `dir` into the store `config` names, prints what changed to `output.out`, and closes the store. */
export async function runSeed(
  dir: string,
  config: Config,
  output: CommandOutput = processOutput,
): Promise<SeedReport> {
  const savepoint = await openConfiguredSavepoint(config);
  try {
    const report = await seedCatalogFromDirectory(savepoint.store, resolve(dir));
    for (const line of describeSeedReport(report)) say(output.out, line);
    return report;
  } finally {
    await savepoint.close();
  }
}

/** Adds the seed arguments, options and action to `command`. */
function defineSeed(command: Command, output: CommandOutput): Command {
  return withStorageOptions(
    command
      .description('load catalog seed files (<dir>/<kind>.json) atomically; unchanged content writes nothing')
      .argument('<dir>', 'directory of <kind>.json seed files'),
  ).action(async (dir: string, flags: StorageFlags) => {
    await runSeed(dir, configFrom(flags), output);
  });
}

/** A standalone `seed` command (for `program.addCommand(...)` or tests). */
export function seedCommand(output: CommandOutput = processOutput): Command {
  return defineSeed(new Command('seed'), output);
}

/** Adds `seed` to the program as a subcommand, so it inherits the program's settings (exitOverride...). */
export function registerSeed(program: Command, output: CommandOutput = processOutput): void {
  defineSeed(program.command('seed'), output);
}
