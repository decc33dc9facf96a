/**
 * Exactly-once commits. A commit given an idempotency key also writes one record, in the reserved
 * collection `_idempotency`, in the SAME driver transaction as its ops: the request's fingerprint,
 * the commit's results and, optionally, an answer derived from those results. A later commit with
 * the same key finds the record and returns what it holds instead of applying anything. Because
 * the record and the effect are one commit, a crash keeps both or neither.
 *
 * The record is an ordinary document put, conditioned on `mustNotExist`, appended as the commit's
 * last op; its value is completed by the driver from the results of the ops before it (see
 * {@link completeRecordOp}). So every driver (memory, SQLite, PostgreSQL, the Redis layer) applies
 * it with the code that already makes its puts atomic, caches invalidate it like any document, and
 * the store's sweep removes it when it expires. Two racing commits with one key: the second fails
 * the `mustNotExist` condition, applies nothing, and is answered from the first one's record.
 *
 * Work made of several commits (an HTTP request, a game call) runs inside a {@link KeyScope}: its
 * commits are keyed `<scope>#<ordinal>`, so a re-run after a crash finds each commit that already
 * applied and gets its results back.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { invalidInput, SavepointError } from '../errors.js';
import type { PreparedOp, PreparedPut } from './driver.js';
import type { JsonObject, JsonValue, OpResult } from './types.js';

/** The reserved collection of idempotency records. `_` keeps it out of reach of the HTTP documents API. */
export const IDEMPOTENCY_COLLECTION = '_idempotency';

/** How long a key's record is kept by default: 24 hours. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** 1–200 characters of `[A-Za-z0-9._:@-]`, the same alphabet as ids. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:@-]{1,200}$/;

export function assertIdempotencyKey(key: unknown, what = 'Idempotency-Key'): asserts key is string {
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw invalidInput(`${what} must be 1 to 200 characters of A-Z a-z 0-9 . _ : @ -`);
  }
}

/** A stable digest of what a key was first used for; a repeat must match it exactly. */
export function fingerprintOf(...parts: readonly unknown[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(JSON.stringify(part) ?? 'undefined').update('\u0000');
  return hash.digest('base64url');
}

/**
 * The record's document key: a digest of the scope's parts, so keys of any length and alphabet
 * (a game id, a player id and a client key together) fit the store's name rules.
 */
export function recordKeyOf(...scope: readonly string[]): string {
  return `k:${createHash('sha256').update(scope.join('\u0000')).digest('base64url')}`;
}

/** A commit record as stored. */
export interface CommitRecord {
  readonly kind: 'commit';
  readonly fingerprint: string;
  readonly results: readonly OpResult[];
  readonly at: number;
  readonly answer?: JsonValue;
}

/**
 * Drivers call this on every op, with the results of the commit's earlier ops, before applying it.
 * Ops other than an idempotency record come back unchanged (one property read, no allocation).
 */
export function completeRecordOp(op: PreparedOp, results: readonly OpResult[], at: number): PreparedOp {
  if (op.op !== 'put' || op.completion === undefined) return op;
  const record: JsonObject = {
    kind: 'commit',
    fingerprint: op.completion.fingerprint,
    results: results as unknown as JsonValue,
    at,
  };
  if (op.completion.answer !== undefined) record.answer = op.completion.answer(results, at);
  // No size limit of its own: the values in it already passed theirs, and refusing the record
  // would refuse a commit that is otherwise fine.
  const { completion: _done, ...put } = op;
  return { ...put, value: record, json: JSON.stringify(record) } satisfies PreparedPut;
}

/** Reads a stored record back; anything that is not one (a hand-written document) is corrupt data. */
export function parseCommitRecord(value: JsonValue, key: string): CommitRecord {
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    value.kind === 'commit' &&
    typeof value.fingerprint === 'string' &&
    Array.isArray(value.results) &&
    typeof value.at === 'number'
  ) {
    return value as unknown as CommitRecord;
  }
  throw new SavepointError('CORRUPT_DATA', `The idempotency record ${key} cannot be read`, {
    details: { collection: IDEMPOTENCY_COLLECTION, key },
  });
}

export const keyReused = (what: string): SavepointError =>
  new SavepointError(
    'IDEMPOTENCY_KEY_REUSED',
    `This Idempotency-Key was already used for a different ${what}; use a new key for a new request`,
  );

/**
 * A unit of work (one HTTP request, one keyed game call) whose commits are keyed by ordinal.
 * An ordinal is taken when a commit starts and given back if it fails, so a commit retried after
 * a conflict keeps the ordinal, and a re-run of the same work meets its commits in the same order.
 */
export class KeyScope {
  readonly recordKey: string;
  readonly fingerprint: string;
  #next = 0;
  #closed = false;

  constructor(recordKey: string, fingerprint: string) {
    this.recordKey = recordKey;
    this.fingerprint = fingerprint;
  }

  /**
   * Ends the scope: work it started that outlives it (a timer, a background retry) commits
   * unkeyed from then on, instead of taking ordinals a re-run would not take.
   */
  close(): void {
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The key the scope's next commit will get. */
  peek(): string {
    return `${this.recordKey}#${this.#next}`;
  }

  /** The key of the scope's next commit, and a function that gives it back when that commit fails. */
  take(): { readonly key: string; readonly release: () => void } {
    const ordinal = this.#next++;
    return {
      key: `${this.recordKey}#${ordinal}`,
      release: () => {
        if (this.#next === ordinal + 1) this.#next = ordinal;
      },
    };
  }
}

const scopes = new AsyncLocalStorage<KeyScope>();

/** Runs `work` with its commits keyed by `scope` (commits given their own key are left alone). */
export function runInKeyScope<T>(scope: KeyScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** The scope the current work runs in, if any. */
export function currentKeyScope(): KeyScope | undefined {
  const scope = scopes.getStore();
  return scope?.closed === true ? undefined : scope;
}

/** Runs `work` outside any key scope: for a scope's own bookkeeping commits and for commits that must count each time. */
export function outsideKeyScope<T>(work: () => T): T {
  return scopes.exit(work);
}
