/**
 * The export file format, `savepoint-export` version 1: NDJSON (UTF-8, one JSON object a line).
 *
 * Line 1 is the header:
 * ```json
 * {"format":"savepoint-export","formatVersion":1,"exportedAt":"2030-01-01T00:00:00.000Z",
 *  "driver":"sqlite","counts":{"documents":3,"streams":1,"events":12,"boards":1,"members":4},
 *  "checksum":"sha256:<64 hex digits>"}
 * ```
 * padded with spaces to {@link HEADER_BYTES} bytes (the exporter writes it last, in place, once
 * the counts and checksum are known; JSON ignores the padding). Then one line per record, in the
 * canonical order of `RecordDump`, with its fields in this order:
 * ```json
 * {"kind":"document","collection":"match","key":"p1","version":3,"createdAt":1893456000000,"updatedAt":1893456000500,"expiresAt":null,"value":{...}}
 * {"kind":"stream","stream":"game:g1","head":2,"expiresAt":null}
 * {"kind":"event","stream":"game:g1","seq":1,"type":"move","at":1893456000100,"data":{...}}
 * {"kind":"board","board":"leaderboard:global","order":"desc"}
 * {"kind":"member","board":"leaderboard:global","member":"ana","score":10,"reachedAt":1893456000200,"metadata":null}
 * ```
 * Values, event data and metadata are embedded as JSON (not as strings), exactly the stored text.
 * Times are milliseconds since the epoch; `exportedAt` is the instant records were judged live at
 * (records expired by then are not in the file).
 *
 * `checksum` is the SHA-256 of every record line's UTF-8 bytes, each followed by `\n`, in file
 * order (the header is not included). `counts` are the records of each kind. An importer checks
 * the header, every record, the order, the counts and the checksum before it writes anything.
 * Because the encoding is canonical, the checksum of a store's dump is also a fingerprint of its
 * contents: `migrate` compares the source's with the target's.
 */
import { createHash, type Hash } from 'node:crypto';
import { invalidInput, SavepointError } from '../errors.js';
import type { ImportCounts, RecordDump } from './driver.js';
import { DumpOrderChecker } from './dump-order.js';
import type { JsonObject, JsonValue } from './types.js';

export const EXPORT_FORMAT = 'savepoint-export';
export const EXPORT_FORMAT_VERSION = 1;
/** The header line's size in bytes, newline included; the header is padded with spaces to it. */
export const HEADER_BYTES = 1024;

export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly formatVersion: typeof EXPORT_FORMAT_VERSION;
  /** ISO-8601 UTC: records that had expired by then were left out. */
  readonly exportedAt: string;
  /** The driver the records came from: `sqlite`, `postgres`, `postgres+redis`, `memory`. */
  readonly driver: string;
  readonly counts: ImportCounts;
  /** `sha256:<hex>` of the record lines (see the module comment). */
  readonly checksum: string;
}

/** Stored JSON text, as one line: text with raw line breaks (never written by Savepoint) is re-serialized. */
function oneLine(json: string): string {
  return json.includes('\n') || json.includes('\r') ? JSON.stringify(JSON.parse(json)) : json;
}

const str = JSON.stringify;

/** The record's line, without the newline. The same record always gives the same bytes. */
export function encodeRecord(record: RecordDump): string {
  switch (record.kind) {
    case 'document':
      return `{"kind":"document","collection":${str(record.collection)},"key":${str(record.key)},"version":${record.version},"createdAt":${record.createdAt},"updatedAt":${record.updatedAt},"expiresAt":${record.expiresAt},"value":${oneLine(record.json)}}`;
    case 'stream':
      return `{"kind":"stream","stream":${str(record.stream)},"head":${record.head},"expiresAt":${record.expiresAt}}`;
    case 'event':
      return `{"kind":"event","stream":${str(record.stream)},"seq":${record.seq},"type":${str(record.type)},"at":${record.at},"data":${oneLine(record.json)}}`;
    case 'board':
      return `{"kind":"board","board":${str(record.board)},"order":${str(record.order)}}`;
    case 'member':
      return `{"kind":"member","board":${str(record.board)},"member":${str(record.member)},"score":${record.score},"reachedAt":${record.reachedAt},"metadata":${record.metadataJson === null ? 'null' : oneLine(record.metadataJson)}}`;
  }
}

type Fields = Record<string, unknown>;

function field<T>(fields: Fields, name: string, where: string, check: (value: unknown) => value is T): T {
  const value = fields[name];
  if (!check(value)) throw invalidInput(`${where}: field "${name}" is missing or has the wrong type`);
  return value;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number';
const isNumberOrNull = (value: unknown): value is number | null =>
  value === null || typeof value === 'number';
const isPresent = (value: unknown): value is JsonValue => value !== undefined;
const isObjectOrNull = (value: unknown): value is JsonObject | null =>
  value === null || (typeof value === 'object' && !Array.isArray(value));
const isOrder = (value: unknown): value is 'desc' | 'asc' => value === 'desc' || value === 'asc';

/** What `decodeRecord` puts in place of JSON text when asked not to serialize values. */
const SKIPPED_JSON = '0';

/**
 * Parses one record line; throws `INVALID_INPUT` naming `where` (`line 12`) for anything that is
 * not a record. Field values are checked further by `DumpOrderChecker`. With `values: false` the
 * JSON text of values, event data and metadata is not rebuilt (a placeholder stands in), for a pass
 * that only checks the file: parsing the line has already proved them JSON.
 */
export function decodeRecord(
  line: string,
  where: string,
  options: { readonly values?: boolean } = {},
): RecordDump {
  const text = options.values === false ? (_value: JsonValue): string => SKIPPED_JSON : JSON.stringify;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw invalidInput(`${where} is not JSON (is the file truncated or damaged?)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalidInput(`${where} is not a record`);
  const fields = parsed as Fields;
  switch (fields.kind) {
    case 'document':
      return {
        kind: 'document',
        collection: field(fields, 'collection', where, isString),
        key: field(fields, 'key', where, isString),
        json: text(field(fields, 'value', where, isPresent)),
        version: field(fields, 'version', where, isNumber),
        createdAt: field(fields, 'createdAt', where, isNumber),
        updatedAt: field(fields, 'updatedAt', where, isNumber),
        expiresAt: field(fields, 'expiresAt', where, isNumberOrNull),
      };
    case 'stream':
      return {
        kind: 'stream',
        stream: field(fields, 'stream', where, isString),
        head: field(fields, 'head', where, isNumber),
        expiresAt: field(fields, 'expiresAt', where, isNumberOrNull),
      };
    case 'event':
      return {
        kind: 'event',
        stream: field(fields, 'stream', where, isString),
        seq: field(fields, 'seq', where, isNumber),
        type: field(fields, 'type', where, isString),
        json: text(field(fields, 'data', where, isPresent)),
        at: field(fields, 'at', where, isNumber),
      };
    case 'board':
      return {
        kind: 'board',
        board: field(fields, 'board', where, isString),
        order: field(fields, 'order', where, isOrder),
      };
    case 'member': {
      const metadata = field(fields, 'metadata', where, isObjectOrNull);
      return {
        kind: 'member',
        board: field(fields, 'board', where, isString),
        member: field(fields, 'member', where, isString),
        score: field(fields, 'score', where, isNumber),
        reachedAt: field(fields, 'reachedAt', where, isNumber),
        metadataJson: metadata === null ? null : text(metadata),
      };
    }
    default:
      throw invalidInput(`${where}: unknown record kind ${JSON.stringify(fields.kind)}`);
  }
}

/** The header line, padded to {@link HEADER_BYTES} (newline included). */
export function encodeHeader(header: ExportHeader): string {
  const json = JSON.stringify({
    format: header.format,
    formatVersion: header.formatVersion,
    exportedAt: header.exportedAt,
    driver: header.driver,
    counts: {
      documents: header.counts.documents,
      streams: header.counts.streams,
      events: header.counts.events,
      boards: header.counts.boards,
      members: header.counts.members,
    },
    checksum: header.checksum,
  });
  const bytes = Buffer.byteLength(json);
  if (bytes >= HEADER_BYTES) throw new SavepointError('INTERNAL', `The export header is ${bytes} bytes long`);
  return `${json}${' '.repeat(HEADER_BYTES - 1 - bytes)}\n`;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Parses and checks the header line; throws `INVALID_INPUT` saying what is wrong. */
export function decodeHeader(line: string | undefined): ExportHeader {
  const notExport = 'This is not a Savepoint export: its first line is not a savepoint-export header';
  if (line === undefined || line.trim().length === 0) throw invalidInput(`${notExport} (the file is empty)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw invalidInput(notExport);
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidInput(notExport);
  const header = parsed as Fields;
  if (header.format !== EXPORT_FORMAT) throw invalidInput(notExport);
  if (header.formatVersion !== EXPORT_FORMAT_VERSION) {
    throw invalidInput(
      typeof header.formatVersion === 'number' && header.formatVersion > EXPORT_FORMAT_VERSION
        ? `The export has format version ${header.formatVersion}; this Savepoint reads version ${EXPORT_FORMAT_VERSION}. Upgrade Savepoint to import it.`
        : `The export header has an unknown formatVersion ${JSON.stringify(header.formatVersion)}`,
    );
  }
  const counts = header.counts as Fields | undefined;
  const names = ['documents', 'streams', 'events', 'boards', 'members'] as const;
  if (typeof counts !== 'object' || counts === null || !names.every((name) => isCount(counts[name])))
    throw invalidInput('The export header lacks valid counts');
  if (typeof header.checksum !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(header.checksum))
    throw invalidInput('The export header lacks a sha256 checksum');
  if (typeof header.exportedAt !== 'string' || Number.isNaN(Date.parse(header.exportedAt)))
    throw invalidInput('The export header lacks a valid exportedAt');
  if (typeof header.driver !== 'string') throw invalidInput('The export header lacks the driver');
  return {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    exportedAt: header.exportedAt,
    driver: header.driver,
    counts: {
      documents: counts.documents as number,
      streams: counts.streams as number,
      events: counts.events as number,
      boards: counts.boards as number,
      members: counts.members as number,
    },
    checksum: header.checksum,
  };
}

/**
 * The checksum and counts of a record stream as the file format defines them; it also holds the
 * records to the canonical order. `add` returns each record's line (newline included).
 */
export class DumpDigest {
  readonly #hash: Hash = createHash('sha256');
  readonly #checker = new DumpOrderChecker();

  /** Checks the record, hashes its line and returns the line (with its newline). */
  add(record: RecordDump, where?: string): string {
    this.#checker.accept(record, where);
    const line = `${encodeRecord(record)}\n`;
    this.#hash.update(line);
    return line;
  }

  /** Hashes a line read from a file (without its newline); `record` is what it decoded to. */
  addLine(line: string, record: RecordDump, where: string): void {
    this.#checker.accept(record, where);
    this.#hash.update(line);
    this.#hash.update('\n');
  }

  get count(): number {
    return this.#checker.count;
  }

  /** Ends the stream; the digest cannot be used afterwards. */
  finish(where?: string): { readonly counts: ImportCounts; readonly checksum: string } {
    const counts = this.#checker.finish(where);
    return { counts, checksum: `sha256:${this.#hash.digest('hex')}` };
  }
}

/** Counts and checksum of every record `pages` yields, as an export file of them would carry. */
export async function digestOf(
  pages: AsyncIterable<readonly RecordDump[]>,
  onProgress?: (records: number) => void,
): Promise<{ readonly counts: ImportCounts; readonly checksum: string }> {
  const digest = new DumpDigest();
  for await (const page of pages) {
    for (const record of page) digest.add(record);
    onProgress?.(digest.count);
  }
  return digest.finish();
}
