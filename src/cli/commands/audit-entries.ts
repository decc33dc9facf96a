/**
 * The audit entries `savepoint import` and `savepoint migrate` append to their target's audit log
 * (`src/audit.ts`): what was loaded, or what was refused and why. A refused import's entry names
 * the file with its size and SHA-256 instead of carrying its records: the file is the payload an
 * operator replays (`savepoint import FILE`), and it may be gigabytes.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { type AuditType, appendAudit, countOutsideAudit } from '../../audit.js';
import type { ImportCounts } from '../../engine/driver.js';
import { decodeHeader, type ExportHeader, HEADER_BYTES } from '../../engine/dump-format.js';
import { describeCounts, isEmptyCounts } from '../../engine/dump-order.js';
import type { Store } from '../../engine/store.js';
import type { JsonObject } from '../../engine/types.js';
import { isSavepointError, SavepointError, toSavepointError } from '../../errors.js';
import { type CommandOutput, say } from '../options.js';

/** Bytes read at a time while hashing a file. */
const READ_CHUNK = 1024 * 1024;

/** What identifies a file on disk; null where it could not be read. */
export interface FileFacts {
  readonly size: number | null;
  /** Hex SHA-256 of the whole file, as `sha256sum` prints it. */
  readonly sha256: string | null;
  /** Its export header, when the first line is a valid one. */
  readonly header: ExportHeader | null;
}

/** Reads `path` once: its size, its SHA-256 and its header line. */
export async function fileFacts(path: string): Promise<FileFacts> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch {
    return { size: null, sha256: null, header: null };
  }
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(READ_CHUNK);
    let size = 0;
    let head = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, READ_CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      if (head.length < HEADER_BYTES)
        head = Buffer.concat([head, buffer.subarray(0, HEADER_BYTES - head.length)]);
      size += bytesRead;
    }
    return { size, sha256: hash.digest('hex'), header: headerOf(head) };
  } catch {
    return { size: null, sha256: null, header: null };
  } finally {
    await file.close();
  }
}

/** The header in a file's first bytes, or null when they do not start with a valid one. */
function headerOf(head: Buffer): ExportHeader | null {
  const newline = head.indexOf(0x0a);
  if (newline < 0) return null;
  try {
    return decodeHeader(head.subarray(0, newline).toString('utf8'));
  } catch {
    return null;
  }
}

export function countsData(counts: ImportCounts): JsonObject {
  return { ...counts };
}

export function headerData(header: ExportHeader): JsonObject {
  return {
    format: header.format,
    formatVersion: header.formatVersion,
    exportedAt: header.exportedAt,
    driver: header.driver,
    counts: countsData(header.counts),
    checksum: header.checksum,
  };
}

/** The error's catalog code and message (and details, when it has any). */
export function errorData(error: unknown): JsonObject {
  const caught = toSavepointError(error);
  return {
    code: caught.code,
    message: caught.message,
    ...(Object.keys(caught.details).length === 0 ? {} : { details: { ...caught.details } }),
  };
}

/**
 * Appends an entry to `store`'s audit log. Never throws: the outcome it records stands either way
 * (a refusal is still reported as the command's error), so a failure to write it is only said on
 * `output.err`.
 */
export async function recordAudit(
  store: Store,
  type: AuditType,
  data: JsonObject,
  output: CommandOutput,
): Promise<void> {
  try {
    await appendAudit(store, type, data);
  } catch (error) {
    say(
      output.err,
      `warning: could not write the ${type} entry to the audit log: ${toSavepointError(error).message}`,
    );
  }
}

/**
 * Runs a load (`import`, `migrate`) and records its outcome in `store`'s audit log: `<type>` with
 * `succeeded(result)` after it, or `<type>-rejected` with `rejected()` and the error, before the
 * error goes on to the caller. A refusal because the store is in use (`STORE_IN_USE`) writes no entry:
 * a replacement refused beside a live server must leave its store exactly as it was.
 */
export async function audited<T>(
  store: Store,
  type: 'import' | 'migrate',
  output: CommandOutput,
  entries: { readonly succeeded: (result: T) => JsonObject; readonly rejected: () => Promise<JsonObject> },
  load: () => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await load();
  } catch (error) {
    // Refused because another process has the store open: nothing was touched, and nothing is written.
    if (isSavepointError(error, 'STORE_IN_USE')) throw error;
    await recordAudit(
      store,
      `${type}-rejected`,
      { ...(await entries.rejected()), ...errorData(error) },
      output,
    );
    throw error;
  }
  await recordAudit(store, type, entries.succeeded(result), output);
  return result;
}

/**
 * Refuses a target that holds records, unless `force` (then the load replaces them). With `audit`,
 * the audit log's entries do not count: they are about the store, not its data. A quick check
 * before a long verification; the load checks again, atomically.
 */
export async function assertEmptyTarget(
  store: Store,
  options: {
    readonly force: boolean;
    readonly audit: boolean;
    readonly now?: number;
    readonly what: 'Import' | 'Migrate';
  },
): Promise<ImportCounts> {
  const { now } = options;
  const existing = options.audit
    ? await countOutsideAudit(store, now === undefined ? {} : { now })
    : await store.countRecords(now === undefined ? {} : { now });
  if (!options.force && !isEmptyCounts(existing)) {
    throw new SavepointError(
      'VERSION_CONFLICT',
      `The target store (${store.driverName}) is not empty: it holds ${describeCounts(existing)}${options.audit ? ' (audit log entries do not count)' : ''}. ${options.what} into an empty store, or pass --force to replace everything it holds (in one transaction with the ${options.what === 'Import' ? 'import' : 'copy'}).`,
      { details: { ...existing } },
    );
  }
  return existing;
}
