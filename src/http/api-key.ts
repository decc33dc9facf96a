/**
 * The API key: `SAVEPOINT_API_KEY` when set, otherwise a random key kept in `<data dir>/api-key`
 * (mode 0600), generated at first start and reused afterwards. Callers print where the key is,
 * never the key itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../atomic-file.js';
import type { Config } from '../config.js';
import { SavepointError } from '../errors.js';

export const API_KEY_FILE = 'api-key';

/** Where the key came from. `path` is set for the file-based origins. */
export interface ResolvedApiKey {
  readonly key: string;
  readonly origin: 'env' | 'file-created' | 'file';
  readonly path?: string;
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

async function readKeyFile(path: string): Promise<string> {
  const key = (await readFile(path, 'utf8')).trim();
  if (key.length === 0 || /\s/.test(key)) {
    throw new SavepointError(
      'INVALID_INPUT',
      `The API key file ${path} is empty or malformed; delete it to have a new key generated, or set SAVEPOINT_API_KEY`,
    );
  }
  return key;
}

/**
 * Returns the API key for `config`: `config.apiKey` if set, else the key in `<dataDir>/api-key`,
 * creating that file with 256 random bits (base64url) and mode 0600 when it does not exist yet.
 * The file is written atomically and created exclusively (see `atomic-file.ts`): a crash never
 * leaves a half-written key, and two instances starting at once on one data dir agree on one key.
 */
export async function resolveApiKey(config: Pick<Config, 'apiKey' | 'dataDir'>): Promise<ResolvedApiKey> {
  if (config.apiKey !== undefined) return { key: config.apiKey, origin: 'env' };
  const path = join(config.dataDir, API_KEY_FILE);
  try {
    return { key: await readKeyFile(path), origin: 'file', path };
  } catch (error) {
    // ENOTDIR: a file sits where a directory of the path should be; creating it below reports that.
    if (!isErrno(error, 'ENOENT') && !isErrno(error, 'ENOTDIR')) throw error;
  }
  const key = randomBytes(32).toString('base64url');
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(path, `${key}\n`, { mode: 0o600, exclusive: true });
  } catch (error) {
    // Another process created it between our read and write: use theirs.
    if (isErrno(error, 'EEXIST')) return { key: await readKeyFile(path), origin: 'file', path };
    throw unwritable(config.dataDir, error);
  }
  return { key, origin: 'file-created', path };
}

const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOSPC', 'EDQUOT']);

/** The data dir cannot take the key file: say which directory and the ways out, not a raw errno. */
function unwritable(dataDir: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !UNWRITABLE.has(code)) return error;
  return new SavepointError(
    'STORAGE_UNAVAILABLE',
    `The data directory ${dataDir} is not writable (${code}), so the API key cannot be generated into it; fix its permissions, choose another with --data-dir, or set SAVEPOINT_API_KEY`,
    { cause: error },
  );
}
