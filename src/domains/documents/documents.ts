/**
 * The documents API's logic: wire shapes to engine ops and back. Every write goes through one
 * `store.commit`; the routes only add HTTP's conditional headers and status codes.
 */
import { parseDuration } from '../../config.js';
import type {
  CommitResult,
  DocumentCondition,
  CommitOp as EngineOp,
  JsonValue,
  Patch,
  StoredDocument,
} from '../../engine/types.js';
import { invalidInput, SavepointError } from '../../errors.js';
import type { ReservedCollections } from '../../http-kit/reserved-collections.js';
import type { CommitOp, DocumentRecord, PatchOperators } from './documents.schema.js';

/** The longest TTL a document takes: 100 years, which keeps every expiry a valid date. */
const MAX_TTL_MS = 100 * 365 * 86_400_000;

const iso = (ms: number): string => new Date(ms).toISOString();

/** A stored document as the API shows it. */
export function toRecord(document: StoredDocument): DocumentRecord {
  return {
    collection: document.collection,
    key: document.key,
    value: document.value,
    version: document.version,
    createdAt: iso(document.createdAt),
    updatedAt: iso(document.updatedAt),
    expiresAt: document.expiresAt === null ? null : iso(document.expiresAt),
  };
}

/** A `ttl` field as engine `ttlMs`: `undefined` stays "not given", `null` clears the expiry. */
export function ttlMs(ttl: string | null | undefined, field = 'ttl'): number | null | undefined {
  if (ttl === undefined || ttl === null) return ttl;
  const ms = parseDuration(ttl);
  if (ms <= 0 || ms > MAX_TTL_MS) throw invalidInput(`${field} must be above 0 and at most 100 years`);
  return ms;
}

/**
 * A body's patch operators as an engine patch. The schema has checked their shape; the engine
 * checks paths and operand values (finite numbers, plain JSON) before anything is written.
 */
export function toPatch(operators: PatchOperators): Patch {
  const patch: Record<string, unknown> = {};
  for (const name of ['$set', '$unset', '$inc', '$max', '$min', '$push'] as const) {
    if (operators[name] !== undefined) patch[name] = operators[name];
  }
  return patch as Patch;
}

/** Only the condition fields that are set, so the engine sees no `undefined` keys. */
function conditionOf(op: { expectedVersion?: number; mustNotExist?: boolean }): DocumentCondition {
  return {
    ...(op.expectedVersion === undefined ? {} : { expectedVersion: op.expectedVersion }),
    ...(op.mustNotExist === undefined ? {} : { mustNotExist: op.mustNotExist }),
  };
}

/**
 * Turns one `POST /v1/commit` op into an engine op, refusing writes to module-owned collections
 * (`403 FORBIDDEN`) and bad TTLs (`400`) with the op's index in the message.
 */
export function toEngineOp(op: CommitOp, index: number, collections: ReservedCollections): EngineOp {
  const where = `op ${index}: `;
  collections.assertWritable(op.collection, where);
  try {
    switch (op.op) {
      case 'put': {
        const ttl = ttlMs(op.ttl, 'ttl');
        return {
          op: 'put',
          collection: op.collection,
          key: op.key,
          // `unknown` from the schema; the engine checks that it is plain JSON before writing.
          value: op.value as JsonValue,
          ...conditionOf(op),
          ...(ttl === undefined ? {} : { ttlMs: ttl }),
        };
      }
      case 'patch': {
        const ttl = ttlMs(op.ttl, 'ttl');
        return {
          op: 'patch',
          collection: op.collection,
          key: op.key,
          patch: toPatch(op.patch),
          ...(op.upsert === undefined ? {} : { upsert: op.upsert }),
          ...conditionOf(op),
          ...(ttl === undefined ? {} : { ttlMs: ttl }),
        };
      }
      case 'delete':
        return { op: 'delete', collection: op.collection, key: op.key, ...conditionOf(op) };
    }
  } catch (error) {
    if (!(error instanceof SavepointError)) throw error;
    throw new SavepointError(error.code, `${where}${error.message}`, {
      details: { ...error.details, opIndex: index },
    });
  }
}

/** A commit's results as the API shows them. */
export function toCommitAnswer(result: CommitResult) {
  return {
    at: iso(result.at),
    results: result.results.map((outcome) => {
      if (outcome.op === 'put' || outcome.op === 'patch') {
        return { op: outcome.op, created: outcome.created, document: toRecord(outcome.document) };
      }
      if (outcome.op === 'delete') return { op: 'delete' as const, deleted: outcome.deleted };
      // Only document ops are accepted over HTTP, so no other result can appear.
      throw new Error(`Unexpected ${outcome.op} result in a documents commit`);
    }),
  };
}
