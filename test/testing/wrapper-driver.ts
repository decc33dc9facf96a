/**
 * A driver written outside src/, as a third party would write one: it sees Savepoint only through
 * the package's published names (`savepoint`, `savepoint/testing`), and keeps every record in a
 * memory driver underneath. It counts the calls that reach it, so a test can tell the suite ran
 * through it; `boards: false` makes it a driver without leaderboards, which refuses board ops.
 */
import type {
  BoardEntry,
  BoardInfo,
  CommitResult,
  DocumentPage,
  Driver,
  SavepointError,
  StoredDocument,
  StreamEvent,
  SweepResult,
} from 'savepoint';
import { openMemoryDriver } from 'savepoint/testing';

type Inner = Awaited<ReturnType<typeof openMemoryDriver>>;
type Batch = Parameters<Driver['applyBatch']>[0];
type RecordPages = ReturnType<Driver['exportRecords']>;
type ImportArguments = Parameters<Driver['importRecords']>;
type ImportCounts = Awaited<ReturnType<Driver['importRecords']>>;

const BOARD_OPS = new Set(['score', 'removeMember', 'deleteBoard']);

export class WrapperDriver implements Driver {
  readonly name = 'wrapper';
  readonly capabilities: Driver['capabilities'];
  /** How many calls reached this driver, over every instance (the suite opens several). */
  static calls = 0;
  readonly #inner: Inner;
  readonly #boards: boolean;

  constructor(inner: Inner, options: { readonly boards: boolean }) {
    this.#inner = inner;
    this.#boards = options.boards;
    this.capabilities = inner.capabilities;
  }

  #count(): Inner {
    WrapperDriver.calls++;
    return this.#inner;
  }

  #refuseBoards(what: string): void {
    if (!this.#boards) throw new Error(`the wrapper driver without boards was asked for ${what}`);
  }

  getDocument(collection: string, key: string, now: number): Promise<StoredDocument | undefined> {
    return this.#count().getDocument(collection, key, now);
  }

  getDocuments(collection: string, keys: readonly string[], now: number): Promise<StoredDocument[]> {
    return this.#count().getDocuments(collection, keys, now);
  }

  listDocuments(
    collection: string,
    options: { readonly prefix: string; readonly after: string | null; readonly limit: number },
    now: number,
  ): Promise<DocumentPage> {
    return this.#count().listDocuments(collection, options, now);
  }

  readStream(stream: string, after: number, limit: number, now: number): Promise<StreamEvent[]> {
    return this.#count().readStream(stream, after, limit, now);
  }

  streamHead(stream: string, now: number): Promise<number> {
    return this.#count().streamHead(stream, now);
  }

  boardInfo(board: string): Promise<BoardInfo | undefined> {
    this.#refuseBoards('boardInfo');
    return this.#count().boardInfo(board);
  }

  boardRange(board: string, offset: number, limit: number): Promise<BoardEntry[]> {
    this.#refuseBoards('boardRange');
    return this.#count().boardRange(board, offset, limit);
  }

  boardMember(board: string, member: string): Promise<BoardEntry | undefined> {
    this.#refuseBoards('boardMember');
    return this.#count().boardMember(board, member);
  }

  listBoards(prefix: string): Promise<BoardInfo[]> {
    this.#refuseBoards('listBoards');
    return this.#count().listBoards(prefix);
  }

  applyBatch(batch: Batch): Promise<Array<CommitResult | SavepointError>> {
    for (const commit of batch)
      for (const op of commit.ops) if (BOARD_OPS.has(op.op)) this.#refuseBoards(`a ${op.op} op`);
    return this.#count().applyBatch(batch);
  }

  sweepExpired(now: number, limit: number): Promise<SweepResult> {
    return this.#count().sweepExpired(now, limit);
  }

  exportRecords(now: number): RecordPages {
    return this.#count().exportRecords(now);
  }

  importRecords(...[pages, now, options]: ImportArguments): Promise<ImportCounts> {
    return this.#count().importRecords(pages, now, options);
  }

  countRecords(now: number): Promise<ImportCounts> {
    return this.#count().countRecords(now);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** A fresh wrapper over a fresh memory driver: the conformance suite's driver factory. */
export async function openWrapperDriver(options: { readonly boards?: boolean } = {}): Promise<WrapperDriver> {
  return new WrapperDriver(await openMemoryDriver(), { boards: options.boards ?? true });
}
