/**
 * How the flags of definitions.ts become a {@link Config}, the one way: every command reads
 * its settings through `loadConfig`, so flags, environment variables and defaults mean the same
 * thing everywhere.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Config, loadConfig } from '../config.js';
import { moduleOptionsFrom } from '../modules.js';
import { driverKindOf, sqlitePathOf } from '../open.js';
import { openSavepoint, type Savepoint } from '../savepoint.js';
import type { ServeFlags } from './definitions.js';

/** The configuration for a command: its flags over the environment over the defaults. */
export function configFrom(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig({
    flags: {
      host: flags.host,
      port: flags.port,
      dataDir: flags.dataDir,
      database: flags.database,
      redis: flags.redis,
    },
    env,
  });
}

/** Opens the store the configuration names (running its migrations), creating a SQLite file's directory. */
export async function openConfiguredSavepoint(config: Config): Promise<Savepoint> {
  if (driverKindOf(config.databaseUrl) === 'sqlite') {
    await mkdir(dirname(sqlitePathOf(config.databaseUrl)), { recursive: true });
  }
  return openSavepoint({
    url: config.databaseUrl,
    durability: config.durability,
    idempotencyTtlMs: config.idempotencyTtlMs,
    ...(config.redisUrl === undefined ? {} : { redisUrl: config.redisUrl, redisPrefix: config.redisPrefix }),
    ...moduleOptionsFrom(config),
  });
}

/** Where a command writes: stdout for results, stderr for progress and errors. Tests pass buffers. */
export interface CommandOutput {
  readonly out: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly err: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

export const processOutput: CommandOutput = { out: process.stdout, err: process.stderr };

/** Writes one line. */
export function say(stream: NodeJS.WritableStream, line: string): void {
  stream.write(`${line}\n`);
}
