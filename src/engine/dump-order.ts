/**
 * Checks a record dump as it streams past: every field well-typed, and the canonical order of
 * {@link RecordDump} (documents by collection and key, then each stream followed by its events
 * seq 1..head, then each board followed by its members in rank order). Every driver's
 * `importRecords` and the export-file reader run records through it, so a dump that loads is one
 * that any driver exports back identically, and a driver can write each record as it arrives
 * (a stream's head and a board's rank blocks are known the moment its last record has passed).
 *
 * It holds O(1) state (the previous record of each kind), never the dump.
 */
import { invalidInput } from '../errors.js';
import { compareBoardEntries, compareCodePoints } from './board-sort-key.js';
import type { ImportCounts, RecordDump } from './driver.js';
import { assertName } from './prepare.js';
import type { BoardOrder } from './types.js';

const PHASE = { document: 0, stream: 1, event: 1, board: 2, member: 2 } as const;

const NO_RECORDS: ImportCounts = { documents: 0, streams: 0, events: 0, boards: 0, members: 0 };

export function emptyCounts(): ImportCounts {
  return { ...NO_RECORDS };
}

/** True when every count is zero. */
export function isEmptyCounts(counts: ImportCounts): boolean {
  return counts.documents + counts.streams + counts.events + counts.boards + counts.members === 0;
}

/** Total records of every kind. */
export function totalOf(counts: ImportCounts): number {
  return counts.documents + counts.streams + counts.events + counts.boards + counts.members;
}

/** `3 documents, 1 stream, 12 events, 0 boards, 0 members`. */
export function describeCounts(counts: ImportCounts): string {
  const part = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  return [
    part(counts.documents, 'document', 'documents'),
    part(counts.streams, 'stream', 'streams'),
    part(counts.events, 'event', 'events'),
    part(counts.boards, 'board', 'boards'),
    part(counts.members, 'member', 'members'),
  ].join(', ');
}

export function sameCounts(a: ImportCounts, b: ImportCounts): boolean {
  return (
    a.documents === b.documents &&
    a.streams === b.streams &&
    a.events === b.events &&
    a.boards === b.boards &&
    a.members === b.members
  );
}

function wholeNumber(value: unknown, what: string, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw invalidInput(`${what} must be an integer >= ${min}`);
}

function time(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidInput(`${what} must be a time in milliseconds since the epoch`);
}

function optionalTime(value: unknown, what: string): asserts value is number | null {
  if (value !== null) time(value, what);
}

function jsonText(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw invalidInput(`${what} must be JSON text`);
}

interface OpenStream {
  readonly name: string;
  readonly head: number;
  seen: number;
}

interface OpenBoard {
  readonly name: string;
  readonly order: BoardOrder;
  previous: { readonly member: string; readonly score: number; readonly reachedAt: number } | undefined;
}

/** Feed it every record with {@link accept}, then call {@link finish}; both throw `INVALID_INPUT`. */
export class DumpOrderChecker {
  #documents = 0;
  #streams = 0;
  #events = 0;
  #boards = 0;
  #members = 0;
  #phase = 0;
  #lastCollection: string | undefined;
  #lastKey = '';
  #lastStream: string | undefined;
  #stream: OpenStream | undefined;
  #lastBoard: string | undefined;
  #board: OpenBoard | undefined;

  /** Records accepted so far. */
  get count(): number {
    return this.#documents + this.#streams + this.#events + this.#boards + this.#members;
  }

  counts(): ImportCounts {
    return {
      documents: this.#documents,
      streams: this.#streams,
      events: this.#events,
      boards: this.#boards,
      members: this.#members,
    };
  }

  /** Checks one record against the fields and the order; `where` names it in errors (`line 12`). */
  accept(record: RecordDump, where = `record ${this.count + 1}`): void {
    if (typeof record !== 'object' || record === null) throw invalidInput(`${where}: not a record`);
    const phase = PHASE[record.kind as keyof typeof PHASE];
    if (phase === undefined)
      throw invalidInput(`${where}: unknown record kind ${JSON.stringify(record.kind)}`);
    if (phase < this.#phase) {
      throw invalidInput(
        `${where}: a ${record.kind} record after the ${['documents', 'streams', 'boards'][this.#phase]}; a dump holds documents, then streams, then boards`,
      );
    }
    if (phase > this.#phase) {
      this.#closeStream(where);
      this.#phase = phase;
    }
    switch (record.kind) {
      case 'document':
        this.#document(record, where);
        break;
      case 'stream':
        this.#openStream(record, where);
        break;
      case 'event':
        this.#event(record, where);
        break;
      case 'board':
        this.#openBoard(record, where);
        break;
      case 'member':
        this.#member(record, where);
        break;
    }
  }

  /** Checks that the last stream got all its events; returns the counts. */
  finish(where = 'the end of the dump'): ImportCounts {
    this.#closeStream(where);
    return this.counts();
  }

  #document(record: Extract<RecordDump, { kind: 'document' }>, where: string): void {
    assertName(record.collection, `${where}: collection`);
    assertName(record.key, `${where}: key`);
    jsonText(record.json, `${where}: value`);
    wholeNumber(record.version, `${where}: version`, 1);
    time(record.createdAt, `${where}: createdAt`);
    time(record.updatedAt, `${where}: updatedAt`);
    optionalTime(record.expiresAt, `${where}: expiresAt`);
    if (this.#lastCollection !== undefined) {
      const byCollection = compareCodePoints(record.collection, this.#lastCollection);
      if (byCollection < 0 || (byCollection === 0 && compareCodePoints(record.key, this.#lastKey) <= 0)) {
        throw invalidInput(
          `${where}: document ${record.collection}/${record.key} is out of order or repeated (documents come sorted by collection, then key)`,
        );
      }
    }
    this.#lastCollection = record.collection;
    this.#lastKey = record.key;
    this.#documents++;
  }

  #openStream(record: Extract<RecordDump, { kind: 'stream' }>, where: string): void {
    assertName(record.stream, `${where}: stream`);
    wholeNumber(record.head, `${where}: head`, 0);
    optionalTime(record.expiresAt, `${where}: expiresAt`);
    this.#closeStream(where);
    if (this.#lastStream !== undefined && compareCodePoints(record.stream, this.#lastStream) <= 0) {
      throw invalidInput(
        `${where}: stream ${record.stream} is out of order or repeated (streams come sorted by name)`,
      );
    }
    this.#lastStream = record.stream;
    this.#stream = { name: record.stream, head: record.head, seen: 0 };
    this.#streams++;
  }

  #event(record: Extract<RecordDump, { kind: 'event' }>, where: string): void {
    const stream = this.#stream;
    if (stream === undefined || record.stream !== stream.name) {
      throw invalidInput(
        `${where}: an event of stream ${String(record.stream)} that does not follow its stream record`,
      );
    }
    wholeNumber(record.seq, `${where}: seq`, 1);
    if (typeof record.type !== 'string' || record.type.length === 0)
      throw invalidInput(`${where}: type must be a non-empty string`);
    jsonText(record.json, `${where}: data`);
    time(record.at, `${where}: at`);
    if (record.seq !== stream.seen + 1 || record.seq > stream.head) {
      throw invalidInput(
        `${where}: event ${record.seq} of stream ${stream.name} breaks its seqs (expected ${stream.seen + 1}, head ${stream.head})`,
      );
    }
    stream.seen = record.seq;
    this.#events++;
  }

  #closeStream(where: string): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    if (stream.seen !== stream.head) {
      throw invalidInput(
        `${where}: stream ${stream.name} has head ${stream.head} but ${stream.seen} events came with it`,
      );
    }
    this.#stream = undefined;
  }

  #openBoard(record: Extract<RecordDump, { kind: 'board' }>, where: string): void {
    assertName(record.board, `${where}: board`);
    if (record.order !== 'desc' && record.order !== 'asc')
      throw invalidInput(`${where}: order must be "desc" or "asc"`);
    if (this.#lastBoard !== undefined && compareCodePoints(record.board, this.#lastBoard) <= 0) {
      throw invalidInput(
        `${where}: board ${record.board} is out of order or repeated (boards come sorted by name)`,
      );
    }
    this.#lastBoard = record.board;
    this.#board = { name: record.board, order: record.order, previous: undefined };
    this.#boards++;
  }

  #member(record: Extract<RecordDump, { kind: 'member' }>, where: string): void {
    const board = this.#board;
    if (board === undefined || record.board !== board.name) {
      throw invalidInput(
        `${where}: a member of board ${String(record.board)} that does not follow its board record`,
      );
    }
    assertName(record.member, `${where}: member`);
    if (typeof record.score !== 'number' || !Number.isFinite(record.score))
      throw invalidInput(`${where}: score must be a finite number`);
    time(record.reachedAt, `${where}: reachedAt`);
    if (record.metadataJson !== null) jsonText(record.metadataJson, `${where}: metadata`);
    if (board.previous !== undefined && compareBoardEntries(board.order, board.previous, record) >= 0) {
      throw invalidInput(
        `${where}: member ${record.member} of board ${board.name} is out of rank order (members come best first)`,
      );
    }
    board.previous = { member: record.member, score: record.score, reachedAt: record.reachedAt };
    this.#members++;
  }
}

/**
 * Wraps an import's `pages` so that the importer can tell an error thrown by the source (a file
 * reader, another store's export) from its own, and rethrow the source's unchanged.
 */
export function watchSource(pages: AsyncIterable<readonly RecordDump[]>): {
  readonly pages: AsyncIterable<readonly RecordDump[]>;
  /** True when `error` is what reading the pages threw. */
  threw(error: unknown): boolean;
} {
  let failure: { readonly error: unknown } | undefined;
  async function* watched(): AsyncGenerator<readonly RecordDump[]> {
    try {
      yield* pages;
    } catch (error) {
      failure = { error };
      throw error;
    }
  }
  return { pages: watched(), threw: (error) => failure !== undefined && failure.error === error };
}
