/**
 * `savepoint seed DIR`: loads the catalog seed files `DIR/<kind>.json` into the configured store,
 * atomically and idempotently (an unchanged directory writes nothing). A server running on the
 * same store serves the new content within a second, without a restart: its catalog cache
 * listens for changes made by other processes. A bad file changes nothing; the command then fails
 * with a message naming the file and the record.
 *
 * `savepoint seed --rollback KIND@VERSION` makes an older version of a kind current again, as a new
 * load (see docs/time-travel.md), exactly as `POST /v1/catalog-versions/{kind}/rollback`.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Config } from '../../config.js';
import {
  describeSeedReport,
  type SeedReport,
  seedCatalogFromDirectory,
} from '../../domains/catalog/catalog.js';
import { KIND_PATTERN } from '../../domains/catalog/seed-files.js';
import { invalidInput } from '../../errors.js';
import { defineSeed, type SeedFlags } from '../definitions.js';
import { type CommandOutput, configFrom, openConfiguredSavepoint, processOutput, say } from '../options.js';

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

/**
 * `KIND@VERSION`, such as `items@1.1.0`. Kinds may hold `@` too, so the version is what follows the
 * last one. Errors: `INVALID_INPUT` naming the expected form.
 */
export function parseKindAtVersion(text: string): { readonly kind: string; readonly version: string } {
  const at = text.lastIndexOf('@');
  const kind = text.slice(0, Math.max(at, 0));
  const version = text.slice(at + 1);
  if (at < 0 || !KIND_PATTERN.test(kind) || version.length === 0 || version.length > 100) {
    throw invalidInput(`--rollback takes KIND@VERSION, such as items@1.1.0 (got "${text}")`, { value: text });
  }
  return { kind, version };
}

/** Makes `KIND@VERSION` current again in the store `config` names, prints the outcome, and closes the store. */
export async function runSeedRollback(
  target: string,
  config: Config,
  output: CommandOutput = processOutput,
): Promise<{ readonly kind: string; readonly version: string; readonly changed: boolean }> {
  const { kind, version } = parseKindAtVersion(target);
  const savepoint = await openConfiguredSavepoint(config);
  try {
    const result = await savepoint.catalog.rollback(kind, version);
    say(
      output.out,
      result.changed
        ? `catalog kind ${kind} rolled back to version ${version} (a new load; the audit log has an entry)`
        : `catalog kind ${kind} already holds version ${version}'s content: nothing written`,
    );
    return result;
  } finally {
    await savepoint.close();
  }
}

/** `savepoint seed [dir]` and `savepoint seed --rollback KIND@VERSION`. */
export async function seedAction(
  dir: string | undefined,
  flags: SeedFlags,
  output: CommandOutput = processOutput,
): Promise<void> {
  if ((dir === undefined) === (flags.rollback === undefined))
    throw invalidInput('seed takes a directory of seed files, or --rollback KIND@VERSION (one of the two)');
  if (flags.rollback !== undefined) await runSeedRollback(flags.rollback, configFrom(flags), output);
  else if (dir !== undefined) await runSeed(dir, configFrom(flags), output);
}

/** A standalone `seed` command (for `program.addCommand(...)` or tests). */
export function seedCommand(output: CommandOutput = processOutput): Command {
  return defineSeed(new Command('seed'), (dir, flags) => seedAction(dir, flags, output));
}
