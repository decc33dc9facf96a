/**
 * Export files on disk (the format is in `dump-format.ts`).
 *
 * Writing: records stream from the store's snapshot into a temporary file beside the target (see
 * `atomic-file.ts`) after a space-filled header line; once the last record is written and the
 * counts and checksum are known, the header is written over the placeholder, and the file is
 * fsynced, renamed into place and its directory fsynced. So the header comes first, the export is
 * read once, and a crash never leaves a half-written file under the final name: an import of that
 * name finds the previous whole export, or none. To a stream (stdout) the same file is written in the temporary directory, then
 * copied out and removed: nothing reaches the stream until the export is complete.
 *
 * Reading: {@link verifyExportFile} reads the whole file, checking the header, every record, the
 * canonical order, the counts and the checksum, and writes nothing. {@link readExportPages} then
 * reads it again as pages for `importRecords`, checking everything once more as it goes and
 * throwing at the end if the file changed in between (which rolls the import back).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { replaceFileAtomically } from '../atomic-file.js';
import { SavepointError } from '../errors.js';
import type { ImportCounts, RecordDump } from './driver.js';
import {
  DumpDigest,
  decodeHeader,
  decodeRecord,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  type ExportHeader,
  encodeHeader,
  HEADER_BYTES,
} from './dump-format.js';
import { describeCounts, sameCounts } from './dump-order.js';
import type { Store } from './store.js';

/** Bytes gathered before each write to the file. */
const WRITE_CHUNK_CHARS = 1024 * 1024;
/** Records per page handed to `importRecords`, unless their JSON passes {@link PAGE_CHARS} first. */
const PAGE_RECORDS = 1000;
const PAGE_CHARS = 8 * 1024 * 1024;

export interface ExportFileOptions {
  /** The instant records are judged live at; default the store's clock. */
  readonly now?: number;
  /** Called after each page with the records written so far. */
  readonly onProgress?: (records: number) => void;
}

/** Writes the export to `path`, which it creates or replaces. */
export async function writeExportFile(
  store: Store,
  path: string,
  options: ExportFileOptions = {},
): Promise<ExportHeader> {
  return replaceFileAtomically(path, (temporary) => writeDump(store, temporary, options));
}

/** Writes the export to `stream` (stdout), only once it is complete. */
export async function writeExportStream(
  store: Store,
  stream: NodeJS.WritableStream,
  options: ExportFileOptions = {},
): Promise<ExportHeader> {
  const temporary = join(
    tmpdir(),
    `savepoint-export-${process.pid}-${randomBytes(4).toString('hex')}.ndjson`,
  );
  try {
    const header = await writeDump(store, temporary, options);
    await pipeline(createReadStream(temporary), stream, { end: false });
    return header;
  } finally {
    await rm(temporary, { force: true });
  }
}

async function writeDump(store: Store, path: string, options: ExportFileOptions): Promise<ExportHeader> {
  const now = options.now ?? store.now();
  const file = await open(path, 'wx', 0o600);
  try {
    await file.write(`${' '.repeat(HEADER_BYTES - 1)}\n`);
    const digest = new DumpDigest();
    let chunk: string[] = [];
    let chunkChars = 0;
    for await (const page of store.exportRecords({ now })) {
      for (const record of page) {
        const line = digest.add(record);
        chunk.push(line);
        chunkChars += line.length;
        if (chunkChars >= WRITE_CHUNK_CHARS) {
          await file.write(chunk.join(''));
          chunk = [];
          chunkChars = 0;
        }
      }
      options.onProgress?.(digest.count);
    }
    if (chunk.length > 0) await file.write(chunk.join(''));
    const { counts, checksum } = digest.finish();
    const header: ExportHeader = {
      format: EXPORT_FORMAT,
      formatVersion: EXPORT_FORMAT_VERSION,
      exportedAt: new Date(now).toISOString(),
      driver: store.driverName,
      counts,
      checksum,
    };
    await file.write(encodeHeader(header), 0);
    await file.sync();
    return header;
  } finally {
    await file.close();
  }
}

/** The lines of a file, numbered from 1 (a final line without a newline counts). */
async function* linesOf(path: string): AsyncGenerator<readonly [number, string]> {
  let input: ReturnType<typeof createReadStream>;
  try {
    const handle = await open(path, 'r');
    input = handle.createReadStream({ encoding: 'utf8' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SavepointError(
      'INVALID_INPUT',
      code === 'ENOENT' ? `No such file: ${path}` : `Cannot read ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  try {
    for await (const line of lines) yield [++number, line] as const;
  } finally {
    lines.close();
    input.destroy();
  }
}

function corrupt(message: string): SavepointError {
  return new SavepointError('CORRUPT_DATA', message);
}

interface Reading {
  readonly header: ExportHeader;
  readonly digest: DumpDigest;
}

/** Checks what the records added up to against the header. */
function settle(reading: Reading, lastLine: number, path: string): void {
  const { header, digest } = reading;
  let result: { readonly counts: ImportCounts; readonly checksum: string };
  try {
    result = digest.finish(`the end of the file (line ${lastLine})`);
  } catch (error) {
    throw corrupt(`${path} ends early or is damaged: ${(error as Error).message}`);
  }
  if (!sameCounts(result.counts, header.counts)) {
    throw corrupt(
      `${path} holds ${describeCounts(result.counts)}, but its header says ${describeCounts(header.counts)}: the file is truncated or damaged`,
    );
  }
  if (result.checksum !== header.checksum) {
    throw corrupt(
      `${path} does not match its checksum (${result.checksum}, header says ${header.checksum}): the file was changed or damaged after export`,
    );
  }
}

/**
 * Yields every record of the file (with its line) after the header, checking the file as it goes;
 * checks the counts and checksum after the last.
 */
async function* recordsOf(
  path: string,
  onHeader: (header: ExportHeader) => void,
  values: boolean,
): AsyncGenerator<RecordDump> {
  let reading: Reading | undefined;
  let last = 0;
  for await (const [number, line] of linesOf(path)) {
    last = number;
    if (reading === undefined) {
      reading = { header: decodeHeader(line), digest: new DumpDigest() };
      onHeader(reading.header);
      continue;
    }
    const where = `line ${number} of ${path}`;
    if (line.length === 0) throw corrupt(`${where} is empty: the file is damaged`);
    const record = decodeRecord(line, where, { values });
    reading.digest.addLine(line, record, where);
    yield record;
  }
  if (reading === undefined) decodeHeader(undefined);
  else settle(reading, last, path);
}

/**
 * Reads and checks the whole file, writing nothing: the header, every record and its place in the
 * canonical order, the counts and the checksum. Resolves with the header; throws `INVALID_INPUT`
 * (not an export, a bad record) or `CORRUPT_DATA` (truncated, counts or checksum wrong).
 */
export async function verifyExportFile(
  path: string,
  onProgress?: (records: number, header: ExportHeader) => void,
): Promise<ExportHeader> {
  let header: ExportHeader | undefined;
  let records = 0;
  const found = (first: ExportHeader): void => {
    header = first;
  };
  for await (const _record of recordsOf(path, found, false)) {
    records++;
    if (onProgress !== undefined && records % PAGE_RECORDS === 0) onProgress(records, header as ExportHeader);
  }
  if (header === undefined) throw corrupt(`${path} has no header`);
  onProgress?.(records, header);
  return header;
}

/**
 * The file's records as pages for `importRecords`, checked again as they are read: a file that no
 * longer matches `expected` (changed since it was verified) throws, so the import rolls back.
 */
export async function* readExportPages(
  path: string,
  expected: ExportHeader,
  onProgress?: (records: number) => void,
): AsyncGenerator<RecordDump[]> {
  let page: RecordDump[] = [];
  let pageChars = 0;
  let records = 0;
  const check = (header: ExportHeader): void => {
    if (header.checksum !== expected.checksum || !sameCounts(header.counts, expected.counts))
      throw corrupt(`${path} changed after it was verified`);
  };
  for await (const record of recordsOf(path, check, true)) {
    page.push(record);
    records++;
    pageChars += record.kind === 'document' || record.kind === 'event' ? record.json.length : 64;
    if (page.length >= PAGE_RECORDS || pageChars >= PAGE_CHARS) {
      yield page;
      onProgress?.(records);
      page = [];
      pageChars = 0;
    }
  }
  if (page.length > 0) yield page;
  onProgress?.(records);
}
