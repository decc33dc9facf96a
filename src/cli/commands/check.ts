/**
 * `savepoint check`: is the store usable? It opens the store (which runs pending migrations), then
 * reads through every primitive: documents, a listing, a stream, the boards. Exit code 0 when every
 * step passed, 1 with a report naming the failed steps otherwise. It writes nothing.
 *
 * On a SQLite file it first runs `PRAGMA integrity_check` on the file as found (before opening, which
 * would quarantine a damaged file and hide the damage); on a persistent store it then checks the
 * relationships between records (`src/domains/audit/integrity.ts`). PostgreSQL's own index checks
 * (amcheck) are not run yet.
 */
import { existsSync } from 'node:fs';
import { type Config, maskUrl } from '../../config.js';
import { problemWithFile } from '../../drivers/sqlite/sqlite-recovery.js';
import { StoreLock } from '../../drivers/sqlite/store-lock.js';
import { driverKindOf, sqlitePathOf } from '../../open.js';
import type { Savepoint } from '../../savepoint.js';
import type { StorageFlags } from '../definitions.js';
import { type CommandOutput, configFrom, openConfiguredSavepoint, processOutput, say } from '../options.js';

/** One step of the check and how it went. */
export interface CheckStep {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  /** What was found, or why the step failed. */
  readonly detail: string;
}

export interface CheckOptions {
  /** Opens the store; default: the one the configuration names. */
  readonly open?: (config: Config) => Promise<Savepoint>;
}

/** How long the check waits for a running restore or replacing import before it reports it. */
const CHECK_LOCK_WAIT_MS = 5000;

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function step(name: string, run: () => Promise<string>): Promise<CheckStep> {
  const started = performance.now();
  try {
    const detail = await run();
    return { name, ok: true, ms: performance.now() - started, detail };
  } catch (error) {
    return { name, ok: false, ms: performance.now() - started, detail: errorText(error) };
  }
}

/** A SQLite file that does not exist is reported, not silently created by opening it. */
function missingStore(config: Config): string | undefined {
  if (driverKindOf(config.databaseUrl) !== 'sqlite') return undefined;
  const path = sqlitePathOf(config.databaseUrl);
  if (path === ':memory:' || existsSync(path)) return undefined;
  return `no database file at ${path}; \`savepoint serve\` creates it on first start`;
}

/** Runs every step, prints the report, and returns whether the store is healthy. */
export async function runCheck(
  config: Config,
  output: CommandOutput = processOutput,
  options: CheckOptions = {},
): Promise<boolean> {
  const steps: CheckStep[] = [];
  const missing = missingStore(config);
  let savepoint: Savepoint | undefined;
  if (missing !== undefined) {
    steps.push({ name: 'find the store', ok: false, ms: 0, detail: missing });
  } else {
    if (driverKindOf(config.databaseUrl) === 'sqlite' && sqlitePathOf(config.databaseUrl) !== ':memory:') {
      // Before opening: opening would quarantine a damaged file and fall back, hiding the damage.
      const file = sqlitePathOf(config.databaseUrl);
      steps.push(
        await step('integrity_check', async () => {
          // Held as any opener holds it, so that no restore swaps the file while it is read.
          const hold = StoreLock.share(file, CHECK_LOCK_WAIT_MS);
          try {
            const problem = problemWithFile(file, { check: 'integrity' });
            if (problem !== undefined) throw new Error(`${file} ${problem}`);
          } finally {
            hold.release();
          }
          return 'ok';
        }),
      );
    }
  }
  if (steps.every((s) => s.ok) && missing === undefined) {
    steps.push(
      await step('open (and migrate)', async () => {
        savepoint = await (options.open ?? openConfiguredSavepoint)(config);
        return `${savepoint.store.driverName} at ${maskUrl(config.databaseUrl)}`;
      }),
    );
  }
  const opened = savepoint;
  const store = opened?.store;
  if (opened !== undefined && store !== undefined) {
    // A memory store opened by this command is empty: its relationships hold trivially.
    if (store.capabilities.persistent) {
      steps.push(
        await step('relationships', async () => {
          const problems = await opened.checkModules();
          if (problems.length > 0) throw new Error(`${problems.length} found: ${problems.join('; ')}`);
          return 'rounds and scores have matches, game logs have no gaps, tokens have games, boards are defined';
        }),
      );
    }
    steps.push(
      await step('read a document', async () => {
        await store.get('_check', 'probe');
        return 'ok';
      }),
      await step('list a collection', async () => {
        await store.list('_check', { limit: 1 });
        return 'ok';
      }),
      await step('read a stream', async () => {
        await store.readStream('_check', { limit: 1 });
        return 'ok';
      }),
      await step('list the boards', async () => `${(await store.listBoards()).length} boards`),
      await step('close', async () => {
        await savepoint?.close();
        return 'ok';
      }),
    );
  }
  for (const { name, ok, ms, detail } of steps) {
    say(output.out, `${ok ? 'ok  ' : 'FAIL'}  ${name} (${ms.toFixed(0)} ms): ${detail}`);
  }
  const failed = steps.filter((s) => !s.ok).length;
  say(output.out, failed === 0 ? 'healthy' : `unhealthy: ${failed} of ${steps.length} steps failed`);
  return failed === 0;
}

/** `savepoint check`: exit code 0 when healthy, 1 otherwise. */
export async function checkAction(flags: StorageFlags): Promise<void> {
  const healthy = await runCheck(configFrom(flags));
  process.exitCode = healthy ? 0 : 1;
}
