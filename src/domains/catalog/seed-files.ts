/**
 * Reading catalog seed files: `<dir>/<kind>.json` holding
 * `{ "version": "1.2.0", "updated_at": "...", "data": [ { "id": ..., ... } ] }`.
 *
 * Every file is read and checked before anything is written, so a bad file changes nothing; each
 * problem is an `INVALID_INPUT` whose message and details name the file and, where it applies, the
 * record (its index in `data` and its id).
 */

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { assertJsonValue } from '../../engine/json.js';
import type { JsonObject, JsonValue } from '../../engine/types.js';
import { type ErrorDetails, invalidInput, isSavepointError } from '../../errors.js';

/** A kind is its file's name without `.json`: 1–100 characters of `[A-Za-z0-9._@-]` (no `:`). */
export const KIND_PATTERN = /^[A-Za-z0-9._@-]{1,100}$/;
/** A string id: 1–200 characters of `[A-Za-z0-9._:@-]`, so that `/v1/catalog/{kind}/{id}` can name it. */
export const RECORD_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,200}$/;

/** One checked seed file. */
export interface SeedFile {
  readonly kind: string;
  /** Where it came from, for messages (the file name, or what the caller passed). */
  readonly file: string;
  /** The file's `version`, such as `1.2.0`. */
  readonly version: string;
  /** The file's `updated_at`, as written. */
  readonly updatedAt: string;
  /** The records, in file order. Each has an `id`, unique within the kind. */
  readonly data: readonly JsonObject[];
  /** The records' ids as strings (a numeric id `7` is `"7"`), in file order. */
  readonly ids: readonly string[];
  /**
   * SHA-256 (hex) of the content in canonical form (object keys sorted, no whitespace): a file
   * reformatted or with its keys reordered hashes the same, so reseeding it writes nothing.
   */
  readonly hash: string;
}

/** JSON text with object keys sorted at every level, so equal content always serializes the same. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function problem(file: string, message: string, details: ErrorDetails = {}) {
  return invalidInput(`${file}: ${message}`, { file, ...details });
}

/**
 * Checks the parsed content of one seed file. `file` names it in errors; `kind` defaults to the
 * file's base name without `.json`.
 */
export function parseSeedFile(file: string, content: unknown, kind = basename(file, '.json')): SeedFile {
  if (!KIND_PATTERN.test(kind)) {
    throw problem(file, `the kind "${kind}" (the file name) must be 1 to 100 characters of [A-Za-z0-9._@-]`);
  }
  if (!isPlainObject(content)) throw problem(file, 'must hold an object { version, updated_at, data }');
  const { version, updated_at: updatedAt, data } = content;
  if (typeof version !== 'string' || version.length === 0 || version.length > 100) {
    throw problem(file, '"version" must be a string such as "1.2.0"');
  }
  if (typeof updatedAt !== 'string' || Number.isNaN(Date.parse(updatedAt))) {
    throw problem(file, '"updated_at" must be a date-time string such as "2026-01-13T00:00:00Z"');
  }
  if (!Array.isArray(data)) throw problem(file, '"data" must be an array of records');
  const firstIndex = new Map<string, number>();
  const ids: string[] = [];
  data.forEach((record: unknown, index) => {
    const where = `data[${index}]`;
    if (!isPlainObject(record)) throw problem(file, `${where} must be an object`, { record: index });
    const id = record.id;
    const idText =
      typeof id === 'string' && RECORD_ID_PATTERN.test(id)
        ? id
        : typeof id === 'number' && Number.isSafeInteger(id)
          ? String(id)
          : undefined;
    if (idText === undefined) {
      throw problem(
        file,
        `${where} needs an "id": an integer, or 1 to 200 characters of [A-Za-z0-9._:@-] (got ${JSON.stringify(id) ?? 'none'})`,
        { record: index },
      );
    }
    const earlier = firstIndex.get(idText);
    if (earlier !== undefined) {
      throw problem(file, `${where} repeats the id "${idText}" of data[${earlier}]`, {
        record: index,
        id: idText,
      });
    }
    firstIndex.set(idText, index);
    try {
      assertJsonValue(record, `${file} ${where} (id "${idText}")`);
    } catch (error) {
      if (isSavepointError(error)) throw invalidInput(error.message, { file, record: index, id: idText });
      throw error;
    }
    ids.push(idText);
  });
  const checked = { version, updated_at: updatedAt, data } as JsonObject;
  const hash = createHash('sha256').update(canonicalJson(checked)).digest('hex');
  return { kind, file, version, updatedAt, data: data as JsonObject[], ids, hash };
}

/**
 * Reads and checks every `*.json` file of a directory (not its subdirectories), in name order.
 * Fails on the first bad file, naming it; a missing directory is `INVALID_INPUT` too.
 */
export async function readSeedDirectory(dir: string): Promise<SeedFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw invalidInput(`Cannot read the seed directory ${dir}: ${(error as Error).message}`, { file: dir });
  }
  const files: SeedFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let content: unknown;
    try {
      content = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw problem(name, `is not valid JSON: ${(error as Error).message}`);
    }
    files.push(parseSeedFile(name, content));
  }
  return files;
}
