/**
 * The dialect-free half of every driver's `importRecords`. A driver opens the connection its
 * import writes on and hands {@link importDump} an {@link ImportTarget}: its own SQL for beginning,
 * counting, emptying, writing one record and committing. Everything else happens here, once, the
 * same way for every driver:
 * - the empty-target check (unless replacing), inside the import's transaction;
 * - the kept stream (`ImportOptions.keepStream`, the audit log for the CLI): read before the
 *   target is emptied, left out of the empty-target check, and spliced back into the records
 *   written ({@link KeptStreamSplice}), so it survives in the same transaction;
 * - every record through {@link DumpOrderChecker}, before it is written, so a driver only ever
 *   writes checked records in canonical order and the counts returned are the dump's own;
 * - the sorting of failures: the source's error (a file reader, another store's export) comes
 *   back unchanged, a unique-key violation is reported as a record the dump holds twice, and the
 *   driver translates the rest into catalog errors.
 *
 * The rank blocks of imported boards are built here too ({@link RankBlockBuilder}): both SQL
 * drivers keep the same shape, only with their own block sizes.
 */
import { SavepointError } from '../errors.js';
import { boardSortKey, compareCodePoints } from './board-sort-key.js';
import type { ImportCounts, ImportOptions, RecordDump } from './driver.js';
import { DumpOrderChecker, describeCounts, isEmptyCounts, watchSource } from './dump-order.js';
import type { BoardOrder } from './types.js';

/** An event of a kept stream, as the target holds it. */
export type KeptEvent = Omit<Extract<RecordDump, { kind: 'event' }>, 'kind' | 'stream'>;

/** A live stream of the target that the import keeps (see `ImportOptions.keepStream`). */
export interface KeptStream {
  readonly stream: string;
  readonly expiresAt: number | null;
  /** Every event, seq 1 to head, oldest first. */
  readonly events: readonly KeptEvent[];
}

/** A driver's side of an import: its SQL, run on the one connection (and transaction) it writes on. */
export interface ImportTarget {
  /** Starts the transaction (and takes whatever locks keep writers out until it ends). */
  begin(): Promise<void>;
  /** Live records of each kind, as the transaction sees them. */
  count(): Promise<ImportCounts>;
  /** The live stream `name` with all its events, as the transaction sees it; undefined when missing or expired. */
  readStream(name: string): Promise<KeptStream | undefined>;
  /** Removes every record, live or expired: the dump replaces them. */
  clear(): Promise<void>;
  /**
   * Writes (or buffers) one checked record. A promise, when it returns one, is awaited before the
   * next record: a driver that pipelines returns it only when its buffer is full.
   */
  write(record: RecordDump): Promise<void> | undefined;
  /** Writes whatever is still buffered, then commits. */
  commit(): Promise<void>;
  /** True when `error` is the storage refusing a second row with the same key. */
  isDuplicate(error: unknown): boolean;
  /** Any other storage error as a catalog error. */
  translate(error: unknown): SavepointError;
}

/** `live` without the kept stream: what decides whether the target is empty. */
export function liveOutside(live: ImportCounts, kept: KeptStream | undefined): ImportCounts {
  if (kept === undefined) return live;
  return { ...live, streams: live.streams - 1, events: live.events - kept.events.length };
}

/** Refuses a target holding live records, with the counts that make it non-empty. */
export function assertEmptyTarget(live: ImportCounts): void {
  if (isEmptyCounts(live)) return;
  throw new SavepointError(
    'VERSION_CONFLICT',
    `The store is not empty (${describeCounts(live)}); import only into an empty store, or replace its contents`,
    { details: { ...live } },
  );
}

/**
 * Runs one import on `target`: see the module comment. Resolves with the dump's counts once the
 * transaction committed; on any failure the driver rolls back (it owns the connection).
 */
export async function importDump(
  target: ImportTarget,
  pages: AsyncIterable<readonly RecordDump[]>,
  options: ImportOptions = {},
): Promise<ImportCounts> {
  const source = watchSource(pages);
  try {
    await target.begin();
    // Read before the target is emptied, in the same transaction: nothing appended in between is lost.
    const kept = options.keepStream === undefined ? undefined : await target.readStream(options.keepStream);
    if (options.replace !== true) assertEmptyTarget(liveOutside(await target.count(), kept));
    // What is left is expired and unswept (or, replacing, everything): it goes with the import.
    await target.clear();
    const checker = new DumpOrderChecker();
    const splice = kept === undefined || kept.events.length === 0 ? undefined : new KeptStreamSplice(kept);
    const write = async (records: readonly RecordDump[]): Promise<void> => {
      for (const record of records) {
        const flushing = target.write(record);
        if (flushing !== undefined) await flushing;
      }
    };
    for await (const page of source.pages) {
      for (const record of page) {
        checker.accept(record);
        if (splice !== undefined) {
          await write(splice.through(record));
          continue;
        }
        // The common case, kept apart so that it allocates nothing per record.
        const flushing = target.write(record);
        if (flushing !== undefined) await flushing;
      }
    }
    const counts = checker.finish();
    if (splice !== undefined) await write(splice.end());
    await target.commit();
    return counts;
  } catch (error) {
    if (error instanceof SavepointError || source.threw(error)) throw error;
    if (target.isDuplicate(error)) {
      throw new SavepointError(
        'INVALID_INPUT',
        `The dump holds a record twice: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    throw target.translate(error);
  }
}

/**
 * A kept event as written back at `seq`: `type` and `at` as they were, and `originalSeq` (its seq
 * before this import) added to its data, so an operator can still match it with what referred to
 * it. Object data gains the field (replacing one an earlier import added); any other data is
 * wrapped as `{ originalSeq, data }`.
 */
export function keptEvent(stream: string, seq: number, event: KeptEvent): RecordDump {
  const data: unknown = JSON.parse(event.json);
  const marked =
    typeof data === 'object' && data !== null && !Array.isArray(data)
      ? { ...data, originalSeq: event.seq }
      : { originalSeq: event.seq, data };
  return {
    kind: 'event',
    stream,
    seq,
    type: event.type,
    json: JSON.stringify(marked),
    at: event.at,
  };
}

/** True when the dump's event is the kept one, to the letter: the target got it from this source. */
function sameEvent(kept: KeptEvent, record: Extract<RecordDump, { kind: 'event' }>): boolean {
  return (
    kept.seq === record.seq && kept.type === record.type && kept.at === record.at && kept.json === record.json
  );
}

interface HeldStream {
  readonly stream: Extract<RecordDump, { kind: 'stream' }>;
  readonly events: RecordDump[];
}

/**
 * Splices a kept stream into the canonical record stream of a dump as it passes: after the dump's
 * own events of that stream (its head grows by the kept events), or, where the dump has no such
 * stream, as a whole stream at its place in name order: before the first later stream, or before
 * the boards, or at the end. Records come checked, so a stream's events follow it and seqs run
 * 1 to head: the dump's last event of the stream is the one whose seq is its head.
 *
 * Kept events the dump already holds at the start of its stream, the same to the letter, are not
 * written twice: the target got them from this source before (an earlier import of the same dump,
 * or an older export of the same store), and the dump keeps them in place. Only the target's own
 * events, from the first that differs, are carried. To know the head before writing the stream
 * record, the dump's events that match are held back until the first that differs, or the last;
 * there are no more of them than kept events, which are in memory anyway.
 */
export class KeptStreamSplice {
  readonly #kept: KeptStream;
  /** The dump's record of the kept stream and its events that match the kept ones so far. */
  #held: HeldStream | undefined;
  /** The dump's head of the kept stream, once released. */
  #base = 0;
  /** Kept events the dump already holds (a shared start). */
  #shared = 0;
  #done = false;

  constructor(kept: KeptStream) {
    this.#kept = kept;
  }

  /** The records to write for `record`: itself (unless held back), and the kept stream where it belongs. */
  through(record: RecordDump): readonly RecordDump[] {
    if (this.#done) return [record];
    const name = this.#kept.stream;
    switch (record.kind) {
      case 'document':
        return [record];
      case 'stream': {
        const order = compareCodePoints(record.stream, name);
        if (order < 0) return [record];
        if (order > 0) return [...this.#whole(), record];
        this.#held = { stream: record, events: [] };
        return record.head === 0 ? [...this.#release(), ...this.#carried()] : [];
      }
      case 'event': {
        if (record.stream !== name) return [record];
        const last = record.seq === (this.#held?.stream.head ?? this.#base);
        const held = this.#held;
        if (held === undefined) return last ? [record, ...this.#carried()] : [record];
        const candidate = this.#kept.events[held.events.length];
        if (candidate !== undefined && sameEvent(candidate, record)) {
          held.events.push(record);
          // Still matching, with kept events left to compare: hold on.
          if (!last && held.events.length < this.#kept.events.length) return [];
          return last ? [...this.#release(), ...this.#carried()] : this.#release();
        }
        const released = this.#release();
        return last ? [...released, record, ...this.#carried()] : [...released, record];
      }
      case 'board':
      case 'member':
        return [...this.#whole(), record];
    }
  }

  /** What is still to write after the dump's last record. */
  end(): readonly RecordDump[] {
    return this.#done ? [] : this.#whole();
  }

  /** The dump's stream record, its head grown by the events to carry, and the events held back. */
  #release(): RecordDump[] {
    const held = this.#held as HeldStream;
    this.#held = undefined;
    this.#base = held.stream.head;
    this.#shared = held.events.length;
    const head = this.#base + this.#kept.events.length - this.#shared;
    return [{ ...held.stream, head }, ...held.events];
  }

  #whole(): RecordDump[] {
    const { stream, expiresAt, events } = this.#kept;
    return [{ kind: 'stream', stream, head: events.length, expiresAt }, ...this.#carried()];
  }

  /** The kept events past the shared start, numbered on from the dump's head. */
  #carried(): RecordDump[] {
    this.#done = true;
    return this.#kept.events
      .slice(this.#shared)
      .map((event, index) => keptEvent(this.#kept.stream, this.#base + index + 1, event));
  }
}

/**
 * The inverse of the splice, for verifying a copy: `pages` (the target's export) without the
 * events the import kept, that is the events of `stream` past `sourceHead` (its head in the source;
 * undefined when the source had no such stream, whose record then goes too).
 */
export async function* withoutKeptEvents(
  pages: AsyncIterable<readonly RecordDump[]>,
  stream: string,
  sourceHead: number | undefined,
): AsyncGenerator<readonly RecordDump[]> {
  for await (const page of pages) {
    const copied: RecordDump[] = [];
    for (const record of page) {
      if (record.kind === 'stream' && record.stream === stream) {
        if (sourceHead !== undefined) copied.push({ ...record, head: sourceHead });
      } else if (record.kind === 'event' && record.stream === stream) {
        if (sourceHead !== undefined && record.seq <= sourceHead) copied.push(record);
      } else {
        copied.push(record);
      }
    }
    yield copied;
  }
}

/**
 * The rank blocks of one board being imported. Members arrive in rank order, so a new block starts
 * every `blockSize` members, and a short last block (under `mergeBelow`) is folded into the one
 * before it: exactly the shape each driver's `board-blocks.ts` maintains afterwards.
 */
export class RankBlockBuilder<Board> {
  /** How the driver names the board in its statements (its name, or its row id). */
  readonly board: Board;
  readonly order: BoardOrder;
  count = 0;
  readonly #blockSize: number;
  readonly #mergeBelow: number;
  readonly #starts: Buffer[] = [Buffer.alloc(0)];

  constructor(
    board: Board,
    order: BoardOrder,
    sizes: { readonly blockSize: number; readonly mergeBelow: number },
  ) {
    this.board = board;
    this.order = order;
    this.#blockSize = sizes.blockSize;
    this.#mergeBelow = sizes.mergeBelow;
  }

  /** Takes the next member (in rank order) and returns its sort key. */
  add(member: string, score: number, reachedAt: number): Buffer {
    const sortKey = boardSortKey(this.order, score, reachedAt, member);
    if (this.count > 0 && this.count % this.#blockSize === 0) this.#starts.push(sortKey);
    this.count++;
    return sortKey;
  }

  /** `[lo, count]` of every block, the last folded into its predecessor when short. */
  blocks(): Array<{ readonly lo: Buffer; readonly count: number }> {
    const blocks = this.#starts.map((lo, index) => ({
      lo,
      count: Math.min(this.#blockSize, this.count - index * this.#blockSize),
    }));
    const last = blocks.at(-1);
    if (blocks.length > 1 && last !== undefined && last.count < this.#mergeBelow) {
      blocks.pop();
      const previous = blocks.pop() as { lo: Buffer; count: number };
      blocks.push({ lo: previous.lo, count: previous.count + last.count });
    }
    return blocks;
  }
}
