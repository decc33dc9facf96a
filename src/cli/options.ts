/**
 * Flags shared by the commands and the one way they become a {@link Config}: every command reads
 * its settings through `loadConfig`, so flags, environment variables and defaults mean the same
 * thing everywhere.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { moduleOptionsFrom } from '../modules.js';
import { driverKindOf, sqlitePathOf } from '../open.js';
import { openSavepoint, type Savepoint } from '../savepoint.js';

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
