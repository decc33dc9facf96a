/**
 * Plans a batch of commits in memory, against the rows the batch locked (see `batch-load.ts`).
 *
 * Why plan instead of one SAVEPOINT per commit: PostgreSQL starts a subtransaction per savepoint,
 * and a group-commit transaction of a few hundred commits overflows the per-backend subtransaction
 * cache (64), which slows every snapshot on the server while it runs. It also costs 3 to 6 round
 * trips per commit. Here each commit runs against in-memory slots with an undo log (like the memory
 * driver), so a failing commit leaves no trace while its neighbours apply, and the surviving
 * changes are written with a constant number of set-based statements per batch. The rows are
 * locked, so nobody else can change them between the load and the write.
 */
import { boardSortKey, compareCodePoints } from '../../engine/board-sort-key.js';
import { checkDocumentCondition, checkStreamHead } from '../../engine/conditions.js';
import type {
  PreparedAppend,
  PreparedCommit,
  PreparedDelete,
  PreparedOp,
  PreparedPatch,
  PreparedPut,
  PreparedScore,
} from '../../engine/driver.js';
import { completeRecordOp } from '../../engine/idempotency.js';
import { parseStoredJson, serializeJson } from '../../engine/json.js';
import { applyPatch } from '../../engine/patch.js';
import { decideScore } from '../../engine/scoring.js';
import type { BoardOrder, CommitResult, OpResult, StreamEvent } from '../../engine/types.js';
import { notFound, SavepointError, toSavepointError, versionConflict } from '../../errors.js';
import {
  type BatchImages,
  type BatchPlan,
  type BatchTargets,
  type BoardRowWrite,
  type BoardWrites,
  type ChangeRef,
  type DocumentImageEntry,
  type DocumentWrite,
  type DocumentWrites,
  documentKey,
  type EventWrite,
  type LoadedBoard,
  type LoadedEntry,
  type LoadedState,
  type StreamImageEntry,
  type StreamRowWrite,
  type StreamWrites,
} from './batch-types.js';

// ---- in-memory slots ----

interface DocumentState {
  readonly json: string | null;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number | null;
}

/** One document as the batch sees it: `current` is `null` when absent (expired still counts as present here). */
interface DocumentSlot {
  readonly collection: string;
  readonly key: string;
  /** A row exists in the table (live or expired), so the write is an UPDATE or DELETE. */
  readonly stored: boolean;
  current: DocumentState | null;
  changed: boolean;
}

interface StreamSlot {
  readonly name: string;
  /** The stored row's id, or a fresh one for a stream this batch may create. */
  readonly id: number;
  readonly stored: boolean;
  exists: boolean;
  head: number;
  expiresAt: number | null;
  /** The stored events must all be deleted (the stream was deleted, or restarted after expiry). */
  clearsStored: boolean;
  /** Events appended in this batch since the stream was last cleared. */
  pending: EventWrite[];
  changed: boolean;
}

interface MemberState {
  readonly score: number;
  readonly reachedAt: number;
  readonly metadataJson: string | null;
}

interface MemberSlot {
  readonly member: string;
  readonly stored: LoadedEntry | undefined;
  current: MemberState | null;
  changed: boolean;
}

interface BoardSlot {
  readonly name: string;
  /** The stored row's id, or a fresh one for a board this batch may create. */
  readonly id: number;
  readonly stored: LoadedBoard | undefined;
  exists: boolean;
  order: BoardOrder;
  count: number;
  /** The stored entries and blocks must all be deleted (the board was deleted, maybe written again). */
  clearsStored: boolean;
  changed: boolean;
  /** The members the batch's ops name; a cleared board's other members are gone with it. */
  readonly members: Map<string, MemberSlot>;
}

const isLive = (expiresAt: number | null, now: number): boolean => expiresAt === null || expiresAt > now;

function byDocument(
  a: { readonly collection: string; readonly key: string },
  b: { readonly collection: string; readonly key: string },
): number {
  return compareCodePoints(a.collection, b.collection) || compareCodePoints(a.key, b.key);
}

function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return compareCodePoints(a.name, b.name);
}

function takeId(ids: number[], what: string): number {
  const id = ids.pop();
  if (id === undefined) throw new SavepointError('INTERNAL', `No fresh ${what} id was allocated`);
  return id;
}

class BatchPlanner {
  readonly #documents = new Map<string, DocumentSlot>();
  readonly #streams = new Map<string, StreamSlot>();
  readonly #boards = new Map<string, BoardSlot>();
  #undo: Array<() => void> = [];
  #commit: PreparedCommit | undefined;
  readonly changes: ChangeRef[] = [];

  constructor(targets: BatchTargets, loaded: LoadedState) {
    for (const [id, target] of targets.documents) {
      const row = loaded.documents.get(id);
      this.#documents.set(id, {
        collection: target.collection,
        key: target.key,
        stored: row !== undefined,
        current: row ?? null,
        changed: false,
      });
    }
    const freshStreamIds = [...loaded.freshStreamIds];
    for (const name of targets.streams) {
      const row = loaded.streams.get(name);
      this.#streams.set(name, {
        name,
        id: row?.id ?? takeId(freshStreamIds, 'stream'),
        stored: row !== undefined,
        exists: row !== undefined,
        head: row?.head ?? 0,
        expiresAt: row?.expiresAt ?? null,
        clearsStored: false,
        pending: [],
        changed: false,
      });
    }
    const freshBoardIds = [...loaded.freshBoardIds];
    for (const name of targets.boards) {
      const row = loaded.boards.get(name);
      const entries = loaded.entries.get(name);
      const members = new Map<string, MemberSlot>();
      for (const member of targets.members.get(name) ?? []) {
        const entry = entries?.get(member);
        members.set(member, { member, stored: entry, current: entry ?? null, changed: false });
      }
      this.#boards.set(name, {
        name,
        id: row?.id ?? takeId(freshBoardIds, 'board'),
        stored: row,
        exists: row !== undefined,
        order: row?.order ?? 'desc',
        count: row?.count ?? 0,
        clearsStored: false,
        changed: false,
        members,
      });
    }
  }

  /** Applies one commit to the slots, or undoes all of it and returns its error. */
  apply(commit: PreparedCommit): CommitResult | SavepointError {
    this.#commit = commit;
    this.#undo = [];
    try {
      const results: OpResult[] = [];
      commit.ops.forEach((op, index) => {
        results.push(this.#apply(completeRecordOp(op, results, commit.at), index));
      });
      this.#recordChanges(commit, results);
      return { results, at: commit.at };
    } catch (error) {
      for (let i = this.#undo.length - 1; i >= 0; i--) (this.#undo[i] as () => void)();
      return toSavepointError(error);
    } finally {
      this.#undo = [];
    }
  }

  get #at(): number {
    return (this.#commit as PreparedCommit).at;
  }

  /** Changes fields of a slot, remembering the old values for a rollback. */
  #assign<T extends object>(target: T, changes: Partial<T>): void {
    const previous: Partial<T> = {};
    for (const field of Object.keys(changes) as Array<keyof T>) previous[field] = target[field];
    Object.assign(target, changes);
    this.#undo.push(() => Object.assign(target, previous));
  }

  #apply(op: PreparedOp, opIndex: number): OpResult {
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
        const slot = this.#stream(op.stream);
        if (!this.#streamIsLive(slot)) return { op: 'expireStream', found: false };
        this.#assign(slot, { expiresAt: op.expiresAt, changed: true });
        return { op: 'expireStream', found: true };
      }
      case 'deleteStream': {
        const slot = this.#stream(op.stream);
        if (!slot.exists) return { op: 'deleteStream', deleted: false };
        const deleted = this.#streamIsLive(slot);
        this.#assign(slot, {
          exists: false,
          head: 0,
          expiresAt: null,
          clearsStored: slot.stored,
          pending: [],
          changed: true,
        });
        return { op: 'deleteStream', deleted };
      }
      case 'score':
        return this.#score(op, opIndex);
      case 'removeMember': {
        const board = this.#board(op.board);
        const slot = board.members.get(op.member);
        if (!board.exists || slot === undefined || slot.current === null)
          return { op: 'removeMember', deleted: false };
        this.#assign(slot, { current: null, changed: true });
        this.#assign(board, { count: board.count - 1, changed: true });
        return { op: 'removeMember', deleted: true };
      }
      case 'deleteBoard': {
        const board = this.#board(op.board);
        if (!board.exists) return { op: 'deleteBoard', deleted: false };
        this.#assign(board, {
          exists: false,
          count: 0,
          clearsStored: board.stored !== undefined,
          changed: true,
        });
        for (const slot of board.members.values()) {
          if (slot.current !== null) this.#assign(slot, { current: null, changed: true });
        }
        return { op: 'deleteBoard', deleted: true };
      }
    }
  }

  // ---- documents ----

  #document(collection: string, key: string): DocumentSlot {
    const slot = this.#documents.get(documentKey(collection, key));
    if (slot === undefined)
      throw new SavepointError('INTERNAL', `Document ${collection}/${key} was not loaded`);
    return slot;
  }

  #live(slot: DocumentSlot): DocumentState | undefined {
    const current = slot.current;
    return current !== null && isLive(current.expiresAt, this.#at) ? current : undefined;
  }

  #put(op: PreparedPut, opIndex: number): OpResult {
    const slot = this.#document(op.collection, op.key);
    const current = this.#live(slot);
    checkDocumentCondition(op, current?.version, opIndex);
    const at = this.#at;
    const next: DocumentState = {
      json: op.json,
      version: (current?.version ?? 0) + 1,
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
      expiresAt: op.expiresAt,
    };
    this.#assign(slot, { current: next, changed: true });
    return {
      op: 'put',
      // A fresh copy, as a read would return: the caller may go on mutating the value it passed.
      document: {
        collection: op.collection,
        key: op.key,
        value: parseStoredJson(op.json, `${op.collection}/${op.key}`),
        version: next.version,
        createdAt: next.createdAt,
        updatedAt: next.updatedAt,
        expiresAt: next.expiresAt,
      },
      created: current === undefined,
    };
  }

  #patch(op: PreparedPatch, opIndex: number): OpResult {
    const slot = this.#document(op.collection, op.key);
    const current = this.#live(slot);
    checkDocumentCondition(op, current?.version, opIndex);
    if (current === undefined && !op.upsert) {
      throw notFound(
        `Cannot patch ${op.collection}/${op.key}: it does not exist (pass upsert to create it)`,
        {
          opIndex,
        },
      );
    }
    const where = `${op.collection}/${op.key}`;
    if (current !== undefined && current.json === null)
      throw new SavepointError('INTERNAL', `The value of ${where} was not loaded for a patch`);
    // Parsed fresh for every patch: applyPatch mutates its input, and the text stays the batch's truth.
    const base = current === undefined ? undefined : parseStoredJson(current.json as string, where);
    const value = applyPatch(base, op.patch);
    const commit = this.#commit as PreparedCommit;
    const at = commit.at;
    const next: DocumentState = {
      json: serializeJson(value, commit.maxValueBytes, `value of ${where}`),
      version: (current?.version ?? 0) + 1,
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
      expiresAt: op.expiresAt === undefined ? (current?.expiresAt ?? null) : op.expiresAt,
    };
    this.#assign(slot, { current: next, changed: true });
    return {
      op: 'patch',
      document: {
        collection: op.collection,
        key: op.key,
        value,
        version: next.version,
        createdAt: next.createdAt,
        updatedAt: next.updatedAt,
        expiresAt: next.expiresAt,
      },
      created: current === undefined,
    };
  }

  #delete(op: PreparedDelete, opIndex: number): OpResult {
    const slot = this.#document(op.collection, op.key);
    const current = this.#live(slot);
    checkDocumentCondition(op, current?.version, opIndex);
    if (current === undefined) return { op: 'delete', deleted: false };
    this.#assign(slot, { current: null, changed: true });
    return { op: 'delete', deleted: true };
  }

  // ---- streams ----

  #stream(name: string): StreamSlot {
    const slot = this.#streams.get(name);
    if (slot === undefined) throw new SavepointError('INTERNAL', `Stream ${name} was not loaded`);
    return slot;
  }

  #streamIsLive(slot: StreamSlot): boolean {
    return slot.exists && isLive(slot.expiresAt, this.#at);
  }

  #append(op: PreparedAppend, opIndex: number): OpResult {
    const slot = this.#stream(op.stream);
    const live = this.#streamIsLive(slot);
    const head = live ? slot.head : 0;
    checkStreamHead(op, head, opIndex);
    if (!live) {
      // A missing or expired stream starts afresh at seq 1, without expiry.
      this.#assign(slot, {
        exists: true,
        head: 0,
        expiresAt: null,
        clearsStored: slot.clearsStored || slot.stored,
        pending: [],
      });
    }
    const at = this.#at;
    const written: StreamEvent[] = op.events.map((event, index) => ({
      seq: head + index + 1,
      type: event.type,
      data: event.data,
      at,
    }));
    const pending = slot.pending;
    const pendingLength = pending.length;
    for (const [index, event] of op.events.entries()) {
      pending.push({ streamId: slot.id, seq: head + index + 1, type: event.type, json: event.json, at });
    }
    this.#undo.push(() => {
      pending.length = pendingLength;
    });
    this.#assign(slot, {
      head: head + op.events.length,
      expiresAt: op.expiresAt === undefined ? slot.expiresAt : op.expiresAt,
      changed: true,
    });
    return {
      op: 'append',
      stream: op.stream,
      events: written,
      firstSeq: head + 1,
      lastSeq: head + op.events.length,
    };
  }

  // ---- boards ----

  #board(name: string): BoardSlot {
    const slot = this.#boards.get(name);
    if (slot === undefined) throw new SavepointError('INTERNAL', `Board ${name} was not loaded`);
    return slot;
  }

  #score(op: PreparedScore, opIndex: number): OpResult {
    const board = this.#board(op.board);
    if (!board.exists) {
      this.#assign(board, { exists: true, order: op.order ?? 'desc', count: 0, changed: true });
    } else if (op.order !== undefined && op.order !== board.order) {
      throw versionConflict(`Board ${op.board} is ordered ${board.order}, not ${op.order}`, {
        opIndex,
        board: op.board,
      });
    }
    const slot = board.members.get(op.member);
    if (slot === undefined) throw new SavepointError('INTERNAL', `Member ${op.member} was not loaded`);
    const current = slot.current;
    const decision = decideScore(op, board.order, current ?? undefined, this.#at, opIndex);
    if (!decision.changed) {
      const { score, reachedAt } = decision;
      return { op: 'score', board: op.board, member: op.member, score, reachedAt, changed: false };
    }
    const { score } = decision;
    const next: MemberState = { score, reachedAt: decision.reachedAt, metadataJson: decision.metadataJson };
    this.#assign(slot, { current: next, changed: true });
    if (current === null) this.#assign(board, { count: board.count + 1, changed: true });
    return {
      op: 'score',
      board: op.board,
      member: op.member,
      score,
      reachedAt: next.reachedAt,
      changed: true,
    };
  }

  // ---- results ----

  #recordChanges(commit: PreparedCommit, results: readonly OpResult[]): void {
    commit.ops.forEach((op, index) => {
      const outcome = results[index];
      switch (op.op) {
        case 'put':
        case 'patch':
          this.changes.push({ kind: 'document', collection: op.collection, key: op.key });
          return;
        case 'delete':
          if (outcome?.op === 'delete' && outcome.deleted)
            this.changes.push({ kind: 'document', collection: op.collection, key: op.key });
          return;
        case 'append':
          if (outcome?.op === 'append') {
            this.changes.push({
              kind: 'stream',
              stream: op.stream,
              firstSeq: outcome.firstSeq,
              lastSeq: outcome.lastSeq,
            });
          }
          return;
        case 'deleteStream':
          this.changes.push({ kind: 'streamDeleted', stream: op.stream });
          return;
        case 'expireStream':
          return;
        case 'score':
        case 'removeMember':
        case 'deleteBoard':
          this.changes.push({ kind: 'board', board: op.board });
          return;
      }
    });
  }

  documentWrites(): DocumentWrites {
    const writes: DocumentWrites = { deletes: [], updates: [], inserts: [] };
    for (const slot of this.#documents.values()) {
      if (!slot.changed) continue;
      const current = slot.current;
      if (current === null) {
        if (slot.stored) writes.deletes.push({ collection: slot.collection, key: slot.key });
        continue;
      }
      const write: DocumentWrite = {
        collection: slot.collection,
        key: slot.key,
        json: current.json as string,
        version: current.version,
        createdAt: current.createdAt,
        updatedAt: current.updatedAt,
        expiresAt: current.expiresAt,
      };
      (slot.stored ? writes.updates : writes.inserts).push(write);
    }
    // One order for every transaction, so that concurrent batches wait for each other's new keys
    // in the same order and never deadlock.
    writes.deletes.sort(byDocument);
    writes.updates.sort(byDocument);
    writes.inserts.sort(byDocument);
    return writes;
  }

  streamWrites(): StreamWrites {
    const writes: StreamWrites = { inserts: [], updates: [], clears: [], drops: [], events: [] };
    for (const slot of this.#streams.values()) {
      if (!slot.changed) continue;
      if (!slot.exists) {
        if (slot.stored) writes.drops.push(slot.id);
        continue;
      }
      const row: StreamRowWrite = {
        id: slot.id,
        name: slot.name,
        head: slot.head,
        expiresAt: slot.expiresAt,
      };
      if (!slot.stored) writes.inserts.push(row);
      else {
        if (slot.clearsStored) writes.clears.push(slot.id);
        writes.updates.push(row);
      }
      writes.events.push(...slot.pending);
    }
    writes.inserts.sort(byName);
    return writes;
  }

  /** Every target document and stream as the batch leaves it (see `row-images.ts`). */
  images(): BatchImages {
    const documents: DocumentImageEntry[] = [];
    for (const slot of this.#documents.values()) {
      const current = slot.current;
      documents.push({
        collection: slot.collection,
        key: slot.key,
        image: current === null ? null : { collection: slot.collection, key: slot.key, ...current },
      });
    }
    const streams: StreamImageEntry[] = [];
    for (const slot of this.#streams.values()) {
      streams.push({
        name: slot.name,
        image: slot.exists
          ? { name: slot.name, id: slot.id, head: slot.head, expiresAt: slot.expiresAt }
          : null,
      });
    }
    return { documents, streams };
  }

  boardWrites(): BoardWrites {
    const writes: BoardWrites = {
      inserts: [],
      updates: [],
      clears: [],
      drops: [],
      freshBlocks: [],
      entryDeletes: [],
      entryUpserts: [],
      blockDeltas: [],
    };
    for (const board of this.#boards.values()) {
      const stored = board.stored;
      const boardId = board.id;
      if (!board.exists) {
        if (board.changed && stored !== undefined) writes.drops.push(boardId);
        continue;
      }
      const row: BoardRowWrite = { id: boardId, name: board.name, order: board.order, count: board.count };
      if (stored === undefined) {
        writes.inserts.push(row);
        writes.freshBlocks.push(boardId);
      } else {
        if (board.clearsStored) {
          writes.clears.push(boardId);
          writes.freshBlocks.push(boardId);
        }
        if (board.clearsStored || board.count !== stored.count || board.order !== stored.order)
          writes.updates.push(row);
      }
      for (const slot of board.members.values()) {
        if (!slot.changed) continue;
        const before = board.clearsStored ? undefined : slot.stored;
        const after = slot.current;
        if (after === null) {
          if (before !== undefined) {
            writes.entryDeletes.push({ boardId, member: slot.member });
            writes.blockDeltas.push({ boardId, sortKey: before.sortKey, delta: -1 });
          }
          continue;
        }
        if (
          before !== undefined &&
          before.score === after.score &&
          before.reachedAt === after.reachedAt &&
          before.metadataJson === after.metadataJson
        )
          continue;
        const sortKey = boardSortKey(board.order, after.score, after.reachedAt, slot.member);
        writes.entryUpserts.push({
          boardId,
          member: slot.member,
          score: after.score,
          reachedAt: after.reachedAt,
          metadataJson: after.metadataJson,
          sortKey,
        });
        if (before === undefined) {
          writes.blockDeltas.push({ boardId, sortKey, delta: 1 });
        } else if (!before.sortKey.equals(sortKey)) {
          writes.blockDeltas.push({ boardId, sortKey: before.sortKey, delta: -1 });
          writes.blockDeltas.push({ boardId, sortKey, delta: 1 });
        }
      }
    }
    writes.inserts.sort(byName);
    return writes;
  }
}

/** Runs every commit of the batch, in order, against the loaded rows; pure, no I/O. */
export function planBatch(
  batch: readonly PreparedCommit[],
  targets: BatchTargets,
  loaded: LoadedState,
): BatchPlan {
  const planner = new BatchPlanner(targets, loaded);
  const outcomes = batch.map((commit) => planner.apply(commit));
  return {
    outcomes,
    documents: planner.documentWrites(),
    streams: planner.streamWrites(),
    boards: planner.boardWrites(),
    changes: planner.changes,
    images: planner.images(),
  };
}
