/**
 * Sessions: transient game sessions that survive restarts, and exact counts of
 * them by status for the stats summary.
 *
 * A session is one document in {@link SESSION_COLLECTION}. The counters live in one document of
 * {@link SESSION_COUNTERS_COLLECTION} and change only in the same commit as the session they
 * count, with an `$inc`: a create bumps `created` and `active`; a status change moves one unit
 * between `active` and `completed`, conditional on the session's version so that two concurrent
 * transitions cannot both count; a delete takes one unit off the session's status. The counters
 * are therefore exact under any concurrency, in one process or many.
 */

import { randomUUID } from 'node:crypto';
import { retryOnConflict } from '../../engine/retry.js';
import type { Store } from '../../engine/store.js';
import type { CommitOp, JsonObject, JsonValue, StoredDocument } from '../../engine/types.js';
import { invalidInput, notFound, SavepointError } from '../../errors.js';

/** Where sessions are stored, one document per session keyed by its id. */
export const SESSION_COLLECTION = 'session';
/** Where the session counters are stored (one document, {@link SESSION_COUNTERS_KEY}). */
export const SESSION_COUNTERS_COLLECTION = 'session-stats';
export const SESSION_COUNTERS_KEY = 'counters';

export const SESSION_STATUSES = ['active', 'completed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A session as the API shows it. Times are ISO-8601 UTC strings. */
export interface Session {
  /** A random UUID, assigned on creation. */
  readonly sessionId: string;
  readonly state: JsonObject;
  readonly options: JsonObject;
  readonly status: SessionStatus;
  /** 1 on creation, +1 on every change. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Session counts for the stats summary. */
export interface SessionCounts {
  /** Sessions created since the last stats reset (a counter). */
  readonly created: number;
  /** Sessions stored now whose status is `active` (a gauge: deletes and completions lower it). */
  readonly active: number;
  /** Sessions stored now whose status is `completed` (a gauge). */
  readonly completed: number;
}

export interface CreateSessionInput {
  /** The initial game state; default `{}`. */
  readonly state?: JsonObject;
  /** The options the session was created with; default `{}`. */
  readonly options?: JsonObject;
}

export interface UpdateSessionInput {
  /** Replaces the whole state. */
  readonly state: JsonObject;
  /** Moves the session to this status; absent keeps it. */
  readonly status?: SessionStatus;
  /** Fail with `VERSION_CONFLICT` unless the session is at exactly this version. */
  readonly expectedVersion?: number;
}

export interface DeleteSessionOptions {
  /** Fail with `VERSION_CONFLICT` unless the session is at exactly this version. */
  readonly expectedVersion?: number;
}

export interface ListSessionsOptions {
  /** Only sessions with this status. */
  readonly status?: SessionStatus;
  /** 1 to 1000; default 100. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface SessionPage {
  readonly items: readonly Session[];
  /**
   * Pass as `cursor` for the next page; `null` at the end. With a `status` filter a page may hold
   * fewer than `limit` items (even none) and still have a next page: each call scans a bounded
   * number of sessions so that a rare status cannot make one request read the whole collection.
   */
  readonly nextCursor: string | null;
}

interface SessionValue extends JsonObject {
  state: JsonObject;
  options: JsonObject;
  status: SessionStatus;
}

/** How many stored sessions one filtered list call reads at most, in pages of up to 1,000. */
const MAX_SCANNED_PER_LIST = 10_000;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assertObject(value: unknown, what: string): asserts value is JsonObject {
  if (!isPlainObject(value)) throw invalidInput(`${what} must be a JSON object`);
}

function assertStatus(value: unknown): asserts value is SessionStatus {
  if (!SESSION_STATUSES.includes(value as SessionStatus)) {
    throw invalidInput(`status must be one of ${SESSION_STATUSES.join(', ')}`);
  }
}

function assertExpectedVersion(value: unknown): asserts value is number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 1)) {
    throw invalidInput('expectedVersion must be an integer >= 1');
  }
}

/** A session id is a UUID; anything else cannot name a session, so it reads as absent. */
export function isSessionId(id: string): boolean {
  return UUID_PATTERN.test(id);
}

function toSession(document: StoredDocument): Session {
  const value = document.value as SessionValue;
  return {
    sessionId: document.key,
    state: value.state,
    options: value.options,
    status: value.status,
    version: document.version,
    createdAt: new Date(document.createdAt).toISOString(),
    updatedAt: new Date(document.updatedAt).toISOString(),
  };
}

/** The `$inc` that keeps the counters in step with one session write. */
function countersOp(inc: Readonly<Record<string, number>>): CommitOp {
  return {
    op: 'patch',
    collection: SESSION_COUNTERS_COLLECTION,
    key: SESSION_COUNTERS_KEY,
    patch: { $inc: inc },
    upsert: true,
  };
}

/** Reads the session counters; zeros when nothing was ever counted. */
export async function readSessionCounts(store: Store): Promise<SessionCounts> {
  const document = await store.get(SESSION_COUNTERS_COLLECTION, SESSION_COUNTERS_KEY);
  const value = (document?.value ?? {}) as Partial<Record<keyof SessionCounts, JsonValue>>;
  const count = (field: keyof SessionCounts): number =>
    typeof value[field] === 'number' ? (value[field] as number) : 0;
  return { created: count('created'), active: count('active'), completed: count('completed') };
}

/** Game sessions over a {@link Store}. Stateless: any number of instances may share a store. */
export class Sessions {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Creates an `active` session with a fresh UUID, counting it in the same commit. */
  async create(input: CreateSessionInput = {}): Promise<Session> {
    const state = input.state ?? {};
    const options = input.options ?? {};
    assertObject(state, 'state');
    assertObject(options, 'options');
    const sessionId = randomUUID();
    const value: SessionValue = { state, options, status: 'active' };
    const { results } = await this.#store.commit([
      { op: 'put', collection: SESSION_COLLECTION, key: sessionId, value, mustNotExist: true },
      countersOp({ created: 1, active: 1 }),
    ]);
    const written = results[0];
    if (written?.op !== 'put') throw new SavepointError('INTERNAL', 'The session put returned no document');
    return toSession(written.document);
  }

  /** The session, or `undefined`. */
  async get(sessionId: string): Promise<Session | undefined> {
    if (!isSessionId(sessionId)) return undefined;
    const document = await this.#store.get(SESSION_COLLECTION, sessionId);
    return document === undefined ? undefined : toSession(document);
  }

  /**
   * Replaces the state and optionally the status. Without `expectedVersion` the write is
   * last-writer-wins on the state, retried on conflict so that the counters stay exact; with it,
   * a stale version fails with `VERSION_CONFLICT`. A missing session fails with `NOT_FOUND`.
   */
  async update(sessionId: string, input: UpdateSessionInput): Promise<Session> {
    assertObject(input.state, 'state');
    if (input.status !== undefined) assertStatus(input.status);
    assertExpectedVersion(input.expectedVersion);
    const step = async (): Promise<Session> => {
      const current = await this.#read(sessionId);
      if (input.expectedVersion !== undefined && current.version !== input.expectedVersion) {
        throw staleVersion(sessionId, input.expectedVersion, current.version);
      }
      const before = (current.value as SessionValue).status;
      const status = input.status ?? before;
      const value: SessionValue = { ...(current.value as SessionValue), state: input.state, status };
      const ops: CommitOp[] = [
        {
          op: 'put',
          collection: SESSION_COLLECTION,
          key: sessionId,
          value,
          expectedVersion: current.version,
        },
      ];
      if (status !== before) ops.push(countersOp({ [before]: -1, [status]: 1 }));
      const { results } = await this.#store.commit(ops);
      const written = results[0];
      if (written?.op !== 'put') throw new SavepointError('INTERNAL', 'The session put returned no document');
      return toSession(written.document);
    };
    // A caller-supplied version is the caller's own condition: a conflict is theirs to see.
    return input.expectedVersion === undefined ? retryOnConflict(step, { attempts: 20 }) : step();
  }

  /** Deletes the session and uncounts it; `false` when there was none. */
  async delete(sessionId: string, options: DeleteSessionOptions = {}): Promise<boolean> {
    assertExpectedVersion(options.expectedVersion);
    if (!isSessionId(sessionId)) return false;
    const step = async (): Promise<boolean> => {
      const current = await this.#store.get(SESSION_COLLECTION, sessionId);
      if (current === undefined) return false;
      if (options.expectedVersion !== undefined && current.version !== options.expectedVersion) {
        throw staleVersion(sessionId, options.expectedVersion, current.version);
      }
      const status = (current.value as SessionValue).status;
      await this.#store.commit([
        { op: 'delete', collection: SESSION_COLLECTION, key: sessionId, expectedVersion: current.version },
        countersOp({ [status]: -1 }),
      ]);
      return true;
    };
    return options.expectedVersion === undefined ? retryOnConflict(step, { attempts: 20 }) : step();
  }

  /** Sessions in id order, optionally only those with one status. */
  async list(options: ListSessionsOptions = {}): Promise<SessionPage> {
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
      throw invalidInput('limit must be an integer from 1 to 1000');
    }
    if (options.status !== undefined) assertStatus(options.status);
    if (options.cursor !== undefined && !isSessionId(options.cursor)) {
      throw invalidInput('cursor must be the nextCursor of a previous page');
    }
    const items: Session[] = [];
    let after = options.cursor;
    let scanned = 0;
    for (;;) {
      // Unfiltered pages are exactly what is asked for; filtered ones read ahead in full pages.
      const pageSize = options.status === undefined ? limit - items.length : 1000;
      const page = await this.#store.list(SESSION_COLLECTION, {
        limit: pageSize,
        ...(after === undefined ? {} : { after }),
      });
      for (const [index, document] of page.items.entries()) {
        scanned++;
        after = document.key;
        const session = toSession(document);
        if (options.status !== undefined && session.status !== options.status) continue;
        items.push(session);
        if (items.length === limit) {
          const last = index === page.items.length - 1 && page.nextCursor === null;
          return { items, nextCursor: last ? null : after };
        }
      }
      if (page.nextCursor === null) return { items, nextCursor: null };
      if (scanned >= MAX_SCANNED_PER_LIST) return { items, nextCursor: after ?? null };
    }
  }

  /** Exact session counts (see {@link SessionCounts}). */
  counts(): Promise<SessionCounts> {
    return readSessionCounts(this.#store);
  }

  async #read(sessionId: string): Promise<StoredDocument> {
    const document = isSessionId(sessionId)
      ? await this.#store.get(SESSION_COLLECTION, sessionId)
      : undefined;
    if (document === undefined) throw notFound(`No session ${sessionId}`, { sessionId });
    return document;
  }
}

function staleVersion(sessionId: string, expected: number, actual: number): SavepointError {
  return new SavepointError(
    'VERSION_CONFLICT',
    `Session ${sessionId} is at version ${actual}, not ${expected}; read it again and retry`,
    { details: { sessionId, expectedVersion: expected, currentVersion: actual } },
  );
}
