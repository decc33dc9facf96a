/**
 * The conditions an op can carry, checked the same way by every driver: each driver finds the live
 * version or stream head its own way, then asks here. One wording for every conflict, so clients
 * and logs read the same whatever the storage.
 */
import { versionConflict } from '../errors.js';

export interface DocumentConditionTarget {
  readonly collection: string;
  readonly key: string;
  readonly expectedVersion?: number;
  readonly mustNotExist?: boolean;
}

/** Throws `VERSION_CONFLICT` unless the document's live version (`undefined`: absent or expired) meets the op's condition. */
export function checkDocumentCondition(
  op: DocumentConditionTarget,
  liveVersion: number | undefined,
  opIndex: number,
): void {
  const where = `${op.collection}/${op.key}`;
  const details = { opIndex, collection: op.collection, key: op.key };
  if (op.mustNotExist === true && liveVersion !== undefined) {
    throw versionConflict(`Version conflict on ${where}: it already exists (version ${liveVersion})`, {
      ...details,
      actual: liveVersion,
    });
  }
  if (op.expectedVersion !== undefined && liveVersion !== op.expectedVersion) {
    throw versionConflict(
      `Version conflict on ${where}: expected version ${op.expectedVersion}, found ${liveVersion ?? 'none'}`,
      { ...details, expected: op.expectedVersion, actual: liveVersion ?? null },
    );
  }
}

/** Throws `VERSION_CONFLICT` unless the stream's live head is the append's `expectedHead` (when it has one). */
export function checkStreamHead(
  op: { readonly stream: string; readonly expectedHead?: number },
  head: number,
  opIndex: number,
): void {
  if (op.expectedHead !== undefined && op.expectedHead !== head) {
    throw versionConflict(
      `Version conflict on stream ${op.stream}: expected head ${op.expectedHead}, found ${head}`,
      {
        opIndex,
        stream: op.stream,
        expected: op.expectedHead,
        actual: head,
      },
    );
  }
}
