/**
 * Turns caller-supplied ops into prepared ops: every name, value and condition checked, JSON
 * serialized once, expiry made absolute. Whatever fails here fails before any driver is touched.
 */
import { invalidInput, SavepointError } from '../errors.js';
import type { PreparedCommit, PreparedEvent, PreparedOp } from './driver.js';
import { assertJsonSize, assertJsonValue, jsonTextOf, serializeJson } from './json.js';
import { assertPatch } from './patch.js';
import type { CommitOp, Expiry, JsonObject } from './types.js';

/** Longest collection, key, stream, board or member name, in UTF-16 units. */
export const MAX_NAME_LENGTH = 512;
/** Most ops in one commit; bulk imports split into several commits or use the import tools. */
export const MAX_OPS_PER_COMMIT = 200_000;
/** Most events in one append op. */
export const MAX_EVENTS_PER_APPEND = 10_000;

// Control characters and lone surrogates would not survive every driver and every export format.
const UNSAFE_NAME =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters.
  /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Checks a collection, key, stream, board or member name. */
export function assertName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw invalidInput(`${what} must be a non-empty string`);
  if (name.length > MAX_NAME_LENGTH) {
    throw invalidInput(`${what} is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`);
  }
  if (UNSAFE_NAME.test(name)) throw invalidInput(`${what} contains a control character or a lone surrogate`);
}

function assertWholeNumber(value: unknown, what: string, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidInput(`${what} must be an integer >= ${min}`);
  }
}

function assertTime(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidInput(`${what} must be a time in milliseconds since the epoch`);
  }
}

/** Resolves `expiresAt`/`ttlMs` against the commit time; `undefined` means "not given". */
function resolveExpiry(expiry: Expiry, at: number): number | null | undefined {
  if (expiry.expiresAt !== undefined && expiry.ttlMs !== undefined) {
    throw invalidInput('Give either expiresAt or ttlMs, not both');
  }
  if (expiry.ttlMs !== undefined) {
    if (expiry.ttlMs === null) return null;
    if (typeof expiry.ttlMs !== 'number' || !Number.isFinite(expiry.ttlMs) || expiry.ttlMs <= 0) {
      throw invalidInput('ttlMs must be a positive number of milliseconds');
    }
    return at + Math.ceil(expiry.ttlMs);
  }
  if (expiry.expiresAt === undefined || expiry.expiresAt === null) return expiry.expiresAt;
  assertTime(expiry.expiresAt, 'expiresAt');
  return expiry.expiresAt;
}

function assertDocumentCondition(op: { expectedVersion?: number; mustNotExist?: boolean }): void {
  if (op.expectedVersion !== undefined) assertWholeNumber(op.expectedVersion, 'expectedVersion', 1);
  if (op.mustNotExist !== undefined && typeof op.mustNotExist !== 'boolean')
    throw invalidInput('mustNotExist must be a boolean');
  if (op.expectedVersion !== undefined && op.mustNotExist === true) {
    throw invalidInput('expectedVersion and mustNotExist cannot both hold');
  }
}

function prepareOp(op: CommitOp, at: number, maxValueBytes: number): PreparedOp {
  if (typeof op !== 'object' || op === null) throw invalidInput('Each op must be an object');
  switch (op.op) {
    case 'put': {
      assertName(op.collection, 'collection');
      assertName(op.key, 'key');
      assertDocumentCondition(op);
      if (op.value === undefined) throw invalidInput('put needs a value');
      const what = `value of ${op.collection}/${op.key}`;
      // A value built around JSON its caller already checked and serialized is not walked again.
      const known = jsonTextOf(op.value);
      let json: string;
      if (known === undefined) {
        assertJsonValue(op.value, what);
        json = serializeJson(op.value, maxValueBytes, what);
      } else {
        json = assertJsonSize(known, maxValueBytes, what);
      }
      return {
        op: 'put',
        collection: op.collection,
        key: op.key,
        value: op.value,
        json,
        expiresAt: resolveExpiry(op, at) ?? null,
        ...(op.expectedVersion === undefined ? {} : { expectedVersion: op.expectedVersion }),
        ...(op.mustNotExist === undefined ? {} : { mustNotExist: op.mustNotExist }),
      };
    }
    case 'patch': {
      assertName(op.collection, 'collection');
      assertName(op.key, 'key');
      assertDocumentCondition(op);
      assertPatch(op.patch);
      if (op.upsert !== undefined && typeof op.upsert !== 'boolean')
        throw invalidInput('upsert must be a boolean');
      return {
        op: 'patch',
        collection: op.collection,
        key: op.key,
        patch: op.patch,
        upsert: op.upsert ?? false,
        expiresAt: resolveExpiry(op, at),
        ...(op.expectedVersion === undefined ? {} : { expectedVersion: op.expectedVersion }),
        ...(op.mustNotExist === undefined ? {} : { mustNotExist: op.mustNotExist }),
      };
    }
    case 'delete':
      assertName(op.collection, 'collection');
      assertName(op.key, 'key');
      if (op.expectedVersion !== undefined) assertWholeNumber(op.expectedVersion, 'expectedVersion', 1);
      return {
        op: 'delete',
        collection: op.collection,
        key: op.key,
        ...(op.expectedVersion === undefined ? {} : { expectedVersion: op.expectedVersion }),
      };
    case 'append': {
      assertName(op.stream, 'stream');
      if (!Array.isArray(op.events) || op.events.length === 0)
        throw invalidInput('append needs at least one event');
      if (op.events.length > MAX_EVENTS_PER_APPEND) {
        throw invalidInput(`append takes at most ${MAX_EVENTS_PER_APPEND} events at once`);
      }
      if (op.expectedHead !== undefined) assertWholeNumber(op.expectedHead, 'expectedHead', 0);
      const events = op.events.map((event, index): PreparedEvent => {
        if (typeof event !== 'object' || event === null)
          throw invalidInput(`event ${index} must be an object`);
        assertName(event.type, `event ${index} type`);
        const data = event.data === undefined ? null : event.data;
        const known = jsonTextOf(data);
        if (known !== undefined)
          return {
            type: event.type,
            data,
            json: assertJsonSize(known, maxValueBytes, `event ${index} data`),
          };
        assertJsonValue(data, `event ${index} data`);
        return { type: event.type, data, json: serializeJson(data, maxValueBytes, `event ${index} data`) };
      });
      return {
        op: 'append',
        stream: op.stream,
        events,
        expiresAt: resolveExpiry({ expiresAt: op.expiresAt }, at),
        ...(op.expectedHead === undefined ? {} : { expectedHead: op.expectedHead }),
      };
    }
    case 'expireStream':
      assertName(op.stream, 'stream');
      if (op.expiresAt !== null) assertTime(op.expiresAt, 'expiresAt');
      return { op: 'expireStream', stream: op.stream, expiresAt: op.expiresAt };
    case 'deleteStream':
      assertName(op.stream, 'stream');
      return { op: 'deleteStream', stream: op.stream };
    case 'score': {
      assertName(op.board, 'board');
      assertName(op.member, 'member');
      if (typeof op.score !== 'number' || !Number.isFinite(op.score))
        throw invalidInput('score must be a finite number');
      if (op.mode !== 'set' && op.mode !== 'best' && op.mode !== 'incr') {
        throw invalidInput('score mode must be "set", "best" or "incr"');
      }
      if (op.order !== undefined && op.order !== 'desc' && op.order !== 'asc') {
        throw invalidInput('board order must be "desc" or "asc"');
      }
      let metadataJson: string | null | undefined;
      if (op.metadata !== undefined && op.metadata !== null) {
        if (typeof op.metadata !== 'object' || Array.isArray(op.metadata))
          throw invalidInput('metadata must be an object');
        assertJsonValue(op.metadata, 'metadata');
        metadataJson = serializeJson(op.metadata, maxValueBytes, 'metadata');
      } else {
        metadataJson = op.metadata;
      }
      return {
        op: 'score',
        board: op.board,
        member: op.member,
        score: op.score,
        mode: op.mode,
        metadata: op.metadata as JsonObject | null | undefined,
        metadataJson,
        order: op.order,
      };
    }
    case 'removeMember':
      assertName(op.board, 'board');
      assertName(op.member, 'member');
      return { op: 'removeMember', board: op.board, member: op.member };
    case 'deleteBoard':
      assertName(op.board, 'board');
      return { op: 'deleteBoard', board: op.board };
    default:
      throw invalidInput(`Unknown op "${String((op as { op?: unknown }).op)}"`);
  }
}

/** Validates and prepares a whole commit; throws `INVALID_INPUT` or `PAYLOAD_TOO_LARGE` naming the op. */
export function prepareCommit(ops: readonly CommitOp[], at: number, maxValueBytes: number): PreparedCommit {
  if (!Array.isArray(ops) || ops.length === 0) throw invalidInput('A commit needs at least one op');
  if (ops.length > MAX_OPS_PER_COMMIT) throw invalidInput(`A commit takes at most ${MAX_OPS_PER_COMMIT} ops`);
  const prepared = new Array<PreparedOp>(ops.length);
  for (let index = 0; index < ops.length; index++) {
    try {
      prepared[index] = prepareOp(ops[index] as CommitOp, at, maxValueBytes);
    } catch (error) {
      if (!(error instanceof SavepointError)) throw error;
      throw new SavepointError(error.code, ops.length > 1 ? `op ${index}: ${error.message}` : error.message, {
        details: { ...error.details, opIndex: index },
      });
    }
  }
  return { ops: prepared, at, maxValueBytes };
}
