/**
 * What a batch of commits changed, as the Redis layer needs it: the documents to invalidate and the
 * change-feed entries to publish for other instances.
 */
import { changesOf } from '../../engine/changes.js';
import type { Change, PreparedCommit } from '../../engine/driver.js';
import type { CommitResult } from '../../engine/types.js';
import { SavepointError } from '../../errors.js';

/** A document address a commit writes (put, patch or delete), whether or not it succeeds. */
export interface DocumentAddress {
  readonly collection: string;
  readonly key: string;
}

export function documentAddressesOf(commit: PreparedCommit): DocumentAddress[] {
  const addresses: DocumentAddress[] = [];
  for (const op of commit.ops) {
    if (op.op === 'put' || op.op === 'patch' || op.op === 'delete') {
      addresses.push({ collection: op.collection, key: op.key });
    }
  }
  return addresses;
}

/** The documents written and the changes made by the batch's successful commits. */
export function batchEffects(
  batch: readonly PreparedCommit[],
  outcomes: readonly (CommitResult | SavepointError)[],
): { readonly written: DocumentAddress[]; readonly changes: Change[] } {
  const written: DocumentAddress[] = [];
  const changes: Change[] = [];
  batch.forEach((commit, index) => {
    const outcome = outcomes[index];
    if (outcome === undefined || outcome instanceof SavepointError) return;
    written.push(...documentAddressesOf(commit));
    changes.push(...changesOf(commit, outcome));
  });
  return { written, changes };
}
