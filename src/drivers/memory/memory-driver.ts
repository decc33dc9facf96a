/**
 * The in-memory driver: for tests, prototypes and games that need no durability. It keeps values
 * as JSON text, exactly as the SQL drivers do, so every read returns a fresh copy and the
 * conformance suite holds it to the same semantics.
 */

import { compareBoardEntries, compareCodePoints } from '../../engine/board-sort-key.js';
import { checkDocumentCondition, checkStreamHead } from '../../engine/conditions.js';
import type {
  Driver,
  ImportCounts,
  ImportOptions,
  PreparedAppend,
  PreparedCommit,
  PreparedDelete,
  PreparedOp,
  PreparedPatch,
  PreparedPut,
  PreparedScore,
  RecordDump,
} from '../../engine/driver.js';
import {
  assertEmptyTarget,
  type ImportTarget,
  importDump,
  type KeptStream,
  liveOutside,
} from '../../engine/dump-import.js';
import { completeRecordOp } from '../../engine/idempotency.js';
import { parseStoredJson, serializeJson } from '../../engine/json.js';
import { applyPatch } from '../../engine/patch.js';
import { decideScore } from '../../engine/scoring.js';
import type {
  BoardEntry,
  BoardInfo,
  BoardOrder,
  CommitResult,
  DocumentPage,
  JsonObject,
  OpResult,
  StoredDocument,
  StreamEvent,
  SweepResult,
} from '../../engine/types.js';
import { notFound, SavepointError, toSavepointError, versionConflict } from '../../errors.js';

interface DocumentRow {
  readonly json: string;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
}

interface StoredEvent {
  readonly seq: number;
  readonly type: string;
  readonly json: string;
  readonly at: number;
}

interface StreamRow {
  events: StoredEvent[];
  expiresAt: number | null;
}

interface MemberRow {
  readonly member: string;
  readonly score: number;
  readonly reachedAt: number;
  readonly metadataJson: string | null;
}

interface BoardRow {
  readonly order: BoardOrder;
  /** Kept in rank order; binary search finds positions, so ranks are O(log n). */
  readonly ranked: MemberRow[];
  readonly byMember: Map<string, MemberRow>;
}

/**
 * One collection's rows, with its keys kept sorted lazily: listing pages through the sorted keys,
 * and only adding or removing a key (not updating a row) forces a new sort.
 */
class DocumentCollection {
  readonly #rows = new Map<string, DocumentRow>();
  #sortedKeys: string[] | null = null;

  get(key: string): DocumentRow | undefined {
    return this.#rows.get(key);
  }

  set(key: string, row: DocumentRow): void {
    if (!this.#rows.has(key)) this.#sortedKeys = null;
    this.#rows.set(key, row);
  }

  delete(key: string): void {
    if (this.#rows.delete(key)) this.#sortedKeys = null;
  }

  entries(): IterableIterator<[string, DocumentRow]> {
    return this.#rows.entries();
  }

  /** Keys in code-point order, from `start` on (`start` itself only when `inclusive`). */
  *keysFrom(start: string, inclusive: boolean): Generator<string> {
    this.#sortedKeys ??= [...this.#rows.keys()].sort(compareCodePoints);
    const keys = this.#sortedKeys;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareCodePoints(keys[middle] as string, start);
      if (order < 0 || (order === 0 && !inclusive)) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < keys.length; i++) yield keys[i] as string;
  }
}

/** Records per page of `exportRecords`. */
const EXPORT_PAGE_SIZE = 1000;

/** The whole state; a commit changes it in place and undoes its changes if any op fails. */
interface State {
  documents: Map<string, DocumentCollection>;
  streams: Map<string, StreamRow>;
  boards: Map<string, BoardRow>;
}

const isLive = (expiresAt: number | null, now: number): boolean => expiresAt === null || expiresAt > now;

function toDocument(collection: string, key: string, row: DocumentRow): StoredDocument {
  return {
    collection,
    key,
    value: parseStoredJson(row.json, `${collection}/${key}`),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    expiresAt: row.expiresAt,
  };
}

/** Position of the first entry not ranked before `probe`. */
function lowerBound(board: BoardRow, probe: MemberRow): number {
  let low = 0;
  let high = board.ranked.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareBoardEntries(board.order, board.ranked[middle] as MemberRow, probe) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function toEntry(row: MemberRow, rank: number): BoardEntry {
  return {
    member: row.member,
    score: row.score,
    reachedAt: row.reachedAt,
    metadata:
      row.metadataJson === null ? null : (parseStoredJson(row.metadataJson, 'board metadata') as JsonObject),
    rank,
  };
}

/**
 * Applies one commit's ops to the live state. Writes are staged in undo records so that a failure
 * midway restores exactly what was there, with no copy of the whole state.
 */
class CommitApplier {
  readonly #undo: Array<() => void> = [];

  constructor(
    readonly state: State,
    readonly commit: PreparedCommit,
  ) {}

  rollback(): void {
    for (let i = this.#undo.length - 1; i >= 0; i--) (this.#undo[i] as () => void)();
  }

  apply(op: PreparedOp, opIndex: number): OpResult {
    switch (op.op) {
      case 'put':
        return this.#put(op, opIndex);
      case 'patch':
        return this.#patch(op, opIndex);
      case 'delete':
        return this.#delete(op, opIndex);
      case 'append':
        return this.#append(op, opIndex);
      case 'expireStream': {
        const stream = this.#liveStream(op.stream);
        if (stream === undefined) return { op: 'expireStream', found: false };
        const previous = stream.expiresAt;
        stream.expiresAt = op.expiresAt;
        this.#undo.push(() => {
          stream.expiresAt = previous;
        });
        return { op: 'expireStream', found: true };
      }
      case 'deleteStream': {
        const previous = this.state.streams.get(op.stream);
        if (previous === undefined) return { op: 'deleteStream', deleted: false };
        this.state.streams.delete(op.stream);
        this.#undo.push(() => this.state.streams.set(op.stream, previous));
        return { op: 'deleteStream', deleted: isLive(previous.expiresAt, this.commit.at) };
      }
      case 'score':
        return this.#score(op, opIndex);
      case 'removeMember': {
        const board = this.state.boards.get(op.board);
        const row = board?.byMember.get(op.member);
        if (board === undefined || row === undefined) return { op: 'removeMember', deleted: false };
        this.#removeRanked(board, row);
        return { op: 'removeMember', deleted: true };
      }
      case 'deleteBoard': {
        const board = this.state.boards.get(op.board);
        if (board === undefined) return { op: 'deleteBoard', deleted: false };
        this.state.boards.delete(op.board);
        this.#undo.push(() => this.state.boards.set(op.board, board));
        return { op: 'deleteBoard', deleted: true };
      }
    }
  }

  #collection(name: string): DocumentCollection {
    let collection = this.state.documents.get(name);
    if (collection === undefined) {
      collection = new DocumentCollection();
      this.state.documents.set(name, collection);
    }
    return collection;
  }

  #liveDocument(collection: string, key: string): DocumentRow | undefined {
    const row = this.state.documents.get(collection)?.get(key);
    return row !== undefined && isLive(row.expiresAt, this.commit.at) ? row : undefined;
  }

  #write(collection: string, key: string, row: DocumentRow): void {
    const map = this.#collection(collection);
    const previous = map.get(key);
    map.set(key, row);
    this.#undo.push(() => (previous === undefined ? map.delete(key) : map.set(key, previous)));
  }

  #put(op: PreparedPut, opIndex: number): OpResult {
    const current = this.#liveDocument(op.collection, op.key);
    checkDocumentCondition(op, current?.version, opIndex);
    const at = this.commit.at;
    const row: DocumentRow = {
      json: op.json,
      version: (current?.version ?? 0) + 1,
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
      expiresAt: op.expiresAt,
    };
    this.#write(op.collection, op.key, row);
    return { op: 'put', document: toDocument(op.collection, op.key, row), created: current === undefined };
  }

  #patch(op: PreparedPatch, opIndex: number): OpResult {
    const current = this.#liveDocument(op.collection, op.key);
    checkDocumentCondition(op, current?.version, opIndex);
    if (current === undefined && !op.upsert) {
      throw notFound(
        `Cannot patch ${op.collection}/${op.key}: it does not exist (pass upsert to create it)`,
        {
          opIndex,
        },
      );
    }
    const base =
      current === undefined ? undefined : parseStoredJson(current.json, `${op.collection}/${op.key}`);
    const value = applyPatch(base, op.patch);
    const at = this.commit.at;
    const row: DocumentRow = {
      json: serializeJson(value, this.commit.maxValueBytes, `value of ${op.collection}/${op.key}`),
      version: (current?.version ?? 0) + 1,
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
      expiresAt: op.expiresAt === undefined ? (current?.expiresAt ?? null) : op.expiresAt,
    };
    this.#write(op.collection, op.key, row);
    return {
      op: 'patch',
      document: { ...toDocument(op.collection, op.key, row), value },
      created: current === undefined,
    };
  }

  #delete(op: PreparedDelete, opIndex: number): OpResult {
    const current = this.#liveDocument(op.collection, op.key);
    checkDocumentCondition(op, current?.version, opIndex);
    if (current === undefined) return { op: 'delete', deleted: false };
    const map = this.#collection(op.collection);
    map.delete(op.key);
    this.#undo.push(() => map.set(op.key, current));
    return { op: 'delete', deleted: true };
  }

  #liveStream(name: string): StreamRow | undefined {
    const stream = this.state.streams.get(name);
    return stream !== undefined && isLive(stream.expiresAt, this.commit.at) ? stream : undefined;
  }

  #append(op: PreparedAppend, opIndex: number): OpResult {
    const existing = this.#liveStream(op.stream);
    const head = existing?.events.length ?? 0;
    checkStreamHead(op, head, opIndex);
    let stream = existing;
    if (stream === undefined) {
      // A missing or expired stream starts afresh at seq 1.
      const replaced = this.state.streams.get(op.stream);
      stream = { events: [], expiresAt: null };
      this.state.streams.set(op.stream, stream);
      this.#undo.push(() =>
        replaced === undefined
          ? this.state.streams.delete(op.stream)
          : this.state.streams.set(op.stream, replaced),
      );
    }
    const target = stream;
    const previousExpiry = target.expiresAt;
    const at = this.commit.at;
    const written: StreamEvent[] = op.events.map((event, index) => ({
      seq: head + index + 1,
      type: event.type,
      data: event.data,
      at,
    }));
    for (const event of op.events)
      target.events.push({ seq: target.events.length + 1, type: event.type, json: event.json, at });
    if (op.expiresAt !== undefined) target.expiresAt = op.expiresAt;
    this.#undo.push(() => {
      target.events.length = head;
      target.expiresAt = previousExpiry;
    });
    return {
      op: 'append',
      stream: op.stream,
      events: written,
      firstSeq: head + 1,
      lastSeq: head + op.events.length,
    };
  }

  #board(op: PreparedScore, opIndex: number): BoardRow {
    const existing = this.state.boards.get(op.board);
    if (existing !== undefined) {
      if (op.order !== undefined && op.order !== existing.order) {
        throw versionConflict(`Board ${op.board} is ordered ${existing.order}, not ${op.order}`, {
          opIndex,
          board: op.board,
        });
      }
      return existing;
    }
    const board: BoardRow = { order: op.order ?? 'desc', ranked: [], byMember: new Map() };
    this.state.boards.set(op.board, board);
    this.#undo.push(() => this.state.boards.delete(op.board));
    return board;
  }

  #removeRanked(board: BoardRow, row: MemberRow): void {
    const index = lowerBound(board, row);
    board.ranked.splice(index, 1);
    board.byMember.delete(row.member);
    this.#undo.push(() => {
      board.ranked.splice(lowerBound(board, row), 0, row);
      board.byMember.set(row.member, row);
    });
  }

  #insertRanked(board: BoardRow, row: MemberRow): void {
    board.ranked.splice(lowerBound(board, row), 0, row);
    board.byMember.set(row.member, row);
    this.#undo.push(() => {
      board.ranked.splice(lowerBound(board, row), 1);
      board.byMember.delete(row.member);
    });
  }

  #score(op: PreparedScore, opIndex: number): OpResult {
    const board = this.#board(op, opIndex);
    const current = board.byMember.get(op.member);
    const decision = decideScore(op, board.order, current, this.commit.at, opIndex);
    if (!decision.changed) {
      const { score, reachedAt } = decision;
      return { op: 'score', board: op.board, member: op.member, score, reachedAt, changed: false };
    }
    const { score } = decision;
    const row: MemberRow = {
      member: op.member,
      score,
      reachedAt: decision.reachedAt,
      metadataJson: decision.metadataJson,
    };
    if (current !== undefined) this.#removeRanked(board, current);
    this.#insertRanked(board, row);
    return {
      op: 'score',
      board: op.board,
      member: op.member,
      score,
      reachedAt: row.reachedAt,
      changed: true,
    };
  }
}

export class MemoryDriver implements Driver {
  readonly name = 'memory';
  readonly capabilities = {
    persistent: false,
    sharedAcrossProcesses: false,
    maxConcurrentBatches: 1,
  } as const;
  readonly #state: State = { documents: new Map(), streams: new Map(), boards: new Map() };
  #closed = false;

  #open(): State {
    if (this.#closed) throw new SavepointError('STORAGE_UNAVAILABLE', 'The memory driver is closed');
    return this.#state;
  }

  async getDocument(collection: string, key: string, now: number): Promise<StoredDocument | undefined> {
    const row = this.#open().documents.get(collection)?.get(key);
    return row !== undefined && isLive(row.expiresAt, now) ? toDocument(collection, key, row) : undefined;
  }

  async getDocuments(collection: string, keys: readonly string[], now: number): Promise<StoredDocument[]> {
    const map = this.#open().documents.get(collection);
    const found: StoredDocument[] = [];
    for (const key of new Set(keys)) {
      const row = map?.get(key);
      if (row !== undefined && isLive(row.expiresAt, now)) found.push(toDocument(collection, key, row));
    }
    return found;
  }

  async listDocuments(
    collection: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
    now: number,
  ): Promise<DocumentPage> {
    const map = this.#open().documents.get(collection);
    if (map === undefined) return { items: [], nextCursor: null };
    const items: StoredDocument[] = [];
    let nextCursor: string | null = null;
    const resume = options.after !== null && compareCodePoints(options.after, options.prefix) >= 0;
    for (const key of map.keysFrom(resume ? (options.after as string) : options.prefix, !resume)) {
      if (!key.startsWith(options.prefix)) break;
      const row = map.get(key) as DocumentRow;
      if (!isLive(row.expiresAt, now)) continue;
      if (items.length === options.limit) {
        nextCursor = items.at(-1)?.key ?? null;
        break;
      }
      items.push(toDocument(collection, key, row));
    }
    return { items, nextCursor };
  }

  async readStream(stream: string, after: number, limit: number, now: number): Promise<StreamEvent[]> {
    const row = this.#open().streams.get(stream);
    if (row === undefined || !isLive(row.expiresAt, now)) return [];
    return row.events.slice(after, after + limit).map((event) => ({
      seq: event.seq,
      type: event.type,
      data: parseStoredJson(event.json, `event ${event.seq} of ${stream}`),
      at: event.at,
    }));
  }

  async streamHead(stream: string, now: number): Promise<number> {
    const row = this.#open().streams.get(stream);
    return row === undefined || !isLive(row.expiresAt, now) ? 0 : row.events.length;
  }

  async boardInfo(board: string): Promise<BoardInfo | undefined> {
    const row = this.#open().boards.get(board);
    return row === undefined ? undefined : { board, order: row.order, count: row.ranked.length };
  }

  async boardRange(board: string, offset: number, limit: number): Promise<BoardEntry[]> {
    const row = this.#open().boards.get(board);
    if (row === undefined) return [];
    return row.ranked.slice(offset, offset + limit).map((entry, index) => toEntry(entry, offset + index + 1));
  }

  async boardMember(board: string, member: string): Promise<BoardEntry | undefined> {
    const row = this.#open().boards.get(board);
    const entry = row?.byMember.get(member);
    if (row === undefined || entry === undefined) return undefined;
    return toEntry(entry, lowerBound(row, entry) + 1);
  }

  async listBoards(prefix: string): Promise<BoardInfo[]> {
    return [...this.#open().boards.entries()]
      .filter(([name]) => name.startsWith(prefix))
      .sort(([a], [b]) => compareCodePoints(a, b))
      .map(([board, row]) => ({ board, order: row.order, count: row.ranked.length }));
  }

  async applyBatch(batch: readonly PreparedCommit[]): Promise<Array<CommitResult | SavepointError>> {
    const state = this.#open();
    return batch.map((commit) => {
      const applier = new CommitApplier(state, commit);
      try {
        const results: OpResult[] = [];
        commit.ops.forEach((op, index) => {
          results.push(applier.apply(completeRecordOp(op, results, commit.at), index));
        });
        return { results, at: commit.at };
      } catch (error) {
        applier.rollback();
        return toSavepointError(error);
      }
    });
  }

  async sweepExpired(now: number, limit: number): Promise<SweepResult> {
    const state = this.#open();
    const documents: Record<string, number> = {};
    let removed = 0;
    for (const [collection, map] of state.documents) {
      for (const [key, row] of map.entries()) {
        if (isLive(row.expiresAt, now)) continue;
        if (removed === limit) return { documents, streams: 0, more: true };
        map.delete(key);
        documents[collection] = (documents[collection] ?? 0) + 1;
        removed++;
      }
    }
    let streams = 0;
    for (const [name, row] of state.streams) {
      if (isLive(row.expiresAt, now)) continue;
      if (removed === limit) return { documents, streams, more: true };
      state.streams.delete(name);
      streams++;
      removed++;
    }
    return { documents, streams, more: false };
  }

  // ---- dump and load ----

  /** The snapshot is a copy of the live records' references taken at the call (rows are immutable). */
  exportRecords(now: number): AsyncIterable<readonly RecordDump[]> {
    const records = snapshotRecords(this.#open(), now);
    return (async function* pages() {
      for (let start = 0; start < records.length; start += EXPORT_PAGE_SIZE) {
        yield records.slice(start, start + EXPORT_PAGE_SIZE);
      }
    })();
  }

  /**
   * Builds the new state aside while the pages stream in, then swaps it in at once: a failure, or
   * a commit that made the store non-empty meanwhile, leaves the store as it was.
   */
  async importRecords(
    pages: AsyncIterable<readonly RecordDump[]>,
    now: number,
    options: ImportOptions = {},
  ): Promise<ImportCounts> {
    return importDump(new MemoryImport(() => this.#open(), now, options), pages, options);
  }

  async countRecords(now: number): Promise<ImportCounts> {
    return countLive(this.#open(), now);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * One import, for `importDump`. There is no transaction to hold writers off: the new state is built
 * aside and swapped in by `commit`, which first checks again what `begin` saw, since commits may
 * have landed while the pages were read.
 */
class MemoryImport implements ImportTarget {
  readonly #state: () => State;
  readonly #now: number;
  readonly #options: ImportOptions;
  #next: State = { documents: new Map(), streams: new Map(), boards: new Map() };
  #stream: StreamRow | undefined;
  #board: BoardRow | undefined;
  /** How many events the kept stream had when it was read. */
  #keptEvents: number | undefined;

  /** `state` is the driver's (it throws once the driver is closed). */
  constructor(state: () => State, now: number, options: ImportOptions) {
    this.#state = state;
    this.#now = now;
    this.#options = options;
  }

  async begin(): Promise<void> {
    this.#state();
  }

  async count(): Promise<ImportCounts> {
    return countLive(this.#state(), this.#now);
  }

  async readStream(name: string): Promise<KeptStream | undefined> {
    const stream = this.#state().streams.get(name);
    if (stream === undefined || !isLive(stream.expiresAt, this.#now)) return undefined;
    this.#keptEvents = stream.events.length;
    // A copy: appends push onto the driver's array.
    return { stream: name, expiresAt: stream.expiresAt, events: stream.events.slice() };
  }

  async clear(): Promise<void> {
    // Nothing to delete: the state built aside replaces the whole of the old one.
  }

  write(record: RecordDump): undefined {
    const next = this.#next;
    switch (record.kind) {
      case 'document': {
        let collection = next.documents.get(record.collection);
        if (collection === undefined) {
          collection = new DocumentCollection();
          next.documents.set(record.collection, collection);
        }
        collection.set(record.key, {
          json: record.json,
          version: record.version,
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
          expiresAt: record.expiresAt,
        });
        return;
      }
      case 'stream':
        this.#stream = { events: [], expiresAt: record.expiresAt };
        next.streams.set(record.stream, this.#stream);
        return;
      case 'event':
        (this.#stream as StreamRow).events.push({
          seq: record.seq,
          type: record.type,
          json: record.json,
          at: record.at,
        });
        return;
      case 'board':
        this.#board = { order: record.order, ranked: [], byMember: new Map() };
        next.boards.set(record.board, this.#board);
        return;
      case 'member': {
        const target = this.#board as BoardRow;
        if (target.byMember.has(record.member)) {
          throw new SavepointError(
            'INVALID_INPUT',
            `Member ${record.member} appears twice on board ${record.board}`,
          );
        }
        const row: MemberRow = {
          member: record.member,
          score: record.score,
          reachedAt: record.reachedAt,
          metadataJson: record.metadataJson,
        };
        // The checker holds members to rank order, so appending keeps `ranked` sorted.
        target.ranked.push(row);
        target.byMember.set(record.member, row);
        return;
      }
    }
  }

  async commit(): Promise<void> {
    const state = this.#state();
    const keep = this.#options.keepStream;
    const seen = this.#keptEvents ?? 0;
    const kept = keep === undefined ? undefined : await this.readStream(keep);
    if ((kept?.events.length ?? 0) !== seen) {
      throw new SavepointError(
        'VERSION_CONFLICT',
        `Stream ${keep} changed while the import ran; nothing was imported: import again`,
      );
    }
    if (this.#options.replace !== true) assertEmptyTarget(liveOutside(countLive(state, this.#now), kept));
    state.documents = this.#next.documents;
    state.streams = this.#next.streams;
    state.boards = this.#next.boards;
  }

  isDuplicate(): boolean {
    // A member twice is caught in `write`; the maps cannot hold anything else twice.
    return false;
  }

  translate(error: unknown): SavepointError {
    return toSavepointError(error);
  }
}

/** Every live record, in the canonical order of `RecordDump`. */
function snapshotRecords(state: State, now: number): RecordDump[] {
  const records: RecordDump[] = [];
  for (const name of [...state.documents.keys()].sort(compareCodePoints)) {
    const collection = state.documents.get(name) as DocumentCollection;
    for (const key of collection.keysFrom('', true)) {
      const row = collection.get(key) as DocumentRow;
      if (!isLive(row.expiresAt, now)) continue;
      records.push({
        kind: 'document',
        collection: name,
        key,
        json: row.json,
        version: row.version,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        expiresAt: row.expiresAt,
      });
    }
  }
  for (const name of [...state.streams.keys()].sort(compareCodePoints)) {
    const stream = state.streams.get(name) as StreamRow;
    if (!isLive(stream.expiresAt, now)) continue;
    records.push({ kind: 'stream', stream: name, head: stream.events.length, expiresAt: stream.expiresAt });
    for (const event of stream.events) {
      records.push({
        kind: 'event',
        stream: name,
        seq: event.seq,
        type: event.type,
        json: event.json,
        at: event.at,
      });
    }
  }
  for (const name of [...state.boards.keys()].sort(compareCodePoints)) {
    const board = state.boards.get(name) as BoardRow;
    records.push({ kind: 'board', board: name, order: board.order });
    for (const row of board.ranked) {
      records.push({
        kind: 'member',
        board: name,
        member: row.member,
        score: row.score,
        reachedAt: row.reachedAt,
        metadataJson: row.metadataJson,
      });
    }
  }
  return records;
}

function countLive(state: State, now: number): ImportCounts {
  let documents = 0;
  for (const collection of state.documents.values()) {
    for (const [, row] of collection.entries()) if (isLive(row.expiresAt, now)) documents++;
  }
  let streams = 0;
  let events = 0;
  for (const stream of state.streams.values()) {
    if (!isLive(stream.expiresAt, now)) continue;
    streams++;
    events += stream.events.length;
  }
  let members = 0;
  for (const board of state.boards.values()) members += board.ranked.length;
  return { documents, streams, events, boards: state.boards.size, members };
}

/** Opens an empty in-memory store. */
export async function openMemoryDriver(): Promise<Driver> {
  return new MemoryDriver();
}
