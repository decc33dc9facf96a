/**
 * Conditional requests (RFC 9110 §13) over record versions. A record's entity tag is its version
 * in quotes: `ETag: "3"`. Writes honour `If-Match: "3"` (or `*`) and `If-None-Match: *`; a failed
 * header condition answers `412 VERSION_CONFLICT`, while a body `expectedVersion` answers `409`.
 */
import type { Store } from '../engine/store.js';
import type { DocumentCondition } from '../engine/types.js';
import { invalidInput, SavepointError, versionConflict } from '../errors.js';
import { asPreconditionFailure } from './problem.js';

/** The entity tag of a record version: `"3"`. */
export function entityTag(version: number): string {
  return `"${version}"`;
}

/** A parsed `If-Match` / `If-None-Match`: `*`, or the listed tags (weak ones flagged). */
type TagList = { readonly any: true } | { readonly any: false; readonly tags: readonly EntityTag[] };

interface EntityTag {
  readonly weak: boolean;
  /** The version the tag names, or `undefined` for a tag that is not one of ours. */
  readonly version: number | undefined;
}

const TAG = /^(W\/)?"([^"]*)"$/;

function parseTagList(header: string, name: string): TagList {
  const trimmed = header.trim();
  if (trimmed === '*') return { any: true };
  const tags = trimmed.split(',').map((part) => {
    const match = TAG.exec(part.trim());
    if (match === null) throw invalidInput(`${name} must be * or quoted versions such as "3"`);
    const opaque = match[2] as string;
    // A version beyond 2^53 - 1 cannot exist (and would round to a neighbour): it names none of ours.
    const number = /^[1-9]\d{0,15}$/.test(opaque) ? Number(opaque) : Number.NaN;
    const version = Number.isSafeInteger(number) ? number : undefined;
    return { weak: match[1] !== undefined, version };
  });
  return { any: false, tags };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * True when a GET's `If-None-Match` matches the current version (weak comparison, as RFC 9110
 * requires for If-None-Match), so the answer is `304 Not Modified`.
 */
export function notModified(ifNoneMatch: string | string[] | undefined, version: number): boolean {
  const header = headerValue(ifNoneMatch);
  if (header === undefined) return false;
  let list: TagList;
  try {
    list = parseTagList(header, 'If-None-Match');
  } catch {
    // A malformed validator on a read is ignored (RFC 9110 §13.1.2): the full answer is always correct.
    return false;
  }
  return list.any || list.tags.some((tag) => tag.version === version);
}

/** Headers and body fields that make a write conditional. */
export interface WriteConditionInput {
  readonly ifMatch?: string | string[] | undefined;
  readonly ifNoneMatch?: string | string[] | undefined;
  /** The body's `expectedVersion` (409 on mismatch). */
  readonly expectedVersion?: number | undefined;
}

/** A condition for an engine op, and whether it came from a header (so a conflict answers 412). */
export interface WriteCondition {
  readonly condition: DocumentCondition;
  readonly fromHeader: boolean;
}

function preconditionFailed(message: string): SavepointError {
  return asPreconditionFailure(versionConflict(message));
}

/**
 * A header condition that needs the record's current version (`If-Match: *`, tag lists): `check`
 * takes the version the write itself reads (`undefined` when there is no record) and throws `412`
 * (or `400` when the body's `expectedVersion` disagrees) unless the write may go ahead; the write
 * must then be conditional on that same version, so that it stays atomic.
 */
export interface CurrentVersionCheck {
  readonly check: (current: number | undefined) => void;
  readonly fromHeader: true;
}

/**
 * Turns conditional headers and `expectedVersion` into an engine condition for the record
 * `(collection, key)` without reading it: a single strong tag becomes `expectedVersion` directly;
 * `If-Match: *` and tag lists become a {@link CurrentVersionCheck} for the write's own read of the
 * record (a write that reads it anyway need not read it twice). Throws `400` for malformed or
 * contradictory conditions.
 */
export function parseWriteCondition(
  collection: string,
  key: string,
  input: WriteConditionInput,
): WriteCondition | CurrentVersionCheck {
  const ifMatch = headerValue(input.ifMatch);
  const ifNoneMatch = headerValue(input.ifNoneMatch);
  if (ifMatch !== undefined && ifNoneMatch !== undefined)
    throw invalidInput('Send If-Match or If-None-Match, not both');
  if (ifNoneMatch !== undefined) {
    const list = parseTagList(ifNoneMatch, 'If-None-Match');
    if (!list.any) throw invalidInput('On a write, If-None-Match takes only * (create only)');
    if (input.expectedVersion !== undefined)
      throw invalidInput('If-None-Match: * (create only) contradicts expectedVersion');
    return { condition: { mustNotExist: true }, fromHeader: true };
  }
  if (ifMatch === undefined) {
    return {
      condition: input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion },
      fromHeader: false,
    };
  }
  const list = parseTagList(ifMatch, 'If-Match');
  // If-Match uses strong comparison: a weak tag never matches (RFC 9110 §13.1.1).
  const versions = list.any
    ? []
    : list.tags.flatMap((tag) => (tag.weak || tag.version === undefined ? [] : [tag.version]));
  const agreeing = (expected: number): void => {
    if (input.expectedVersion !== undefined && input.expectedVersion !== expected)
      throw invalidInput(`If-Match (${expected}) and expectedVersion (${input.expectedVersion}) disagree`);
  };
  if (!list.any && versions.length === 1 && list.tags.length === 1) {
    const expected = versions[0] as number;
    agreeing(expected);
    return { condition: { expectedVersion: expected }, fromHeader: true };
  }
  return {
    fromHeader: true,
    check: (current) => {
      if (current === undefined)
        throw preconditionFailed(`If-Match failed: ${collection}/${key} does not exist`);
      if (!list.any && !versions.includes(current))
        throw preconditionFailed(`If-Match failed: ${collection}/${key} is at version ${current}`);
      agreeing(current);
    },
  };
}

/**
 * {@link parseWriteCondition}, with a {@link CurrentVersionCheck} resolved by reading the record
 * once and pinning its current version, for writes that do not read the record themselves.
 * Throws `400` for malformed or contradictory conditions and `412` when a header cannot match.
 */
export async function writeCondition(
  store: Store,
  collection: string,
  key: string,
  input: WriteConditionInput,
): Promise<WriteCondition> {
  const parsed = parseWriteCondition(collection, key, input);
  if (!('check' in parsed)) return parsed;
  const current = (await store.get(collection, key))?.version;
  parsed.check(current);
  return { condition: { expectedVersion: current as number }, fromHeader: true };
}

/**
 * Runs a write under a condition from {@link writeCondition} or {@link parseWriteCondition}: a
 * `VERSION_CONFLICT` it raises answers 412 when the condition came from a header.
 */
export async function underCondition<T>(
  condition: WriteCondition | CurrentVersionCheck,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (condition.fromHeader && error instanceof SavepointError && error.code === 'VERSION_CONFLICT')
      throw asPreconditionFailure(error);
    throw error;
  }
}
