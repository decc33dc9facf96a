import type { Change, PreparedCommit } from './driver.js';
import type { CommitResult } from './types.js';

/**
 * The change feed's view of one successful commit, derived from its ops and results. The store
 * emits it locally and the Redis layer publishes the same, so every instance sees one shape.
 * Ops that changed nothing (a delete of a missing record, a `best` score that did not win) are
 * still reported for boards, whose readers only re-read; documents and streams report real changes.
 */
export function changesOf(commit: PreparedCommit, result: CommitResult): Change[] {
  const changes: Change[] = [];
  commit.ops.forEach((op, index) => {
    const outcome = result.results[index];
    switch (op.op) {
      case 'put':
      case 'patch':
        if (outcome?.op === 'put' || outcome?.op === 'patch') {
          changes.push({
            kind: 'document',
            collection: op.collection,
            key: op.key,
            document: outcome.document,
          });
        }
        return;
      case 'delete':
        if (outcome?.op === 'delete' && outcome.deleted) {
          changes.push({ kind: 'document', collection: op.collection, key: op.key, document: null });
        }
        return;
      case 'append':
        if (outcome?.op === 'append')
          changes.push({ kind: 'stream', stream: op.stream, events: outcome.events });
        return;
      case 'deleteStream':
        if (outcome?.op === 'deleteStream' && outcome.deleted)
          changes.push({ kind: 'streamDeleted', stream: op.stream });
        return;
      case 'expireStream':
        return;
      case 'score':
      case 'removeMember':
      case 'deleteBoard':
        changes.push({ kind: 'board', board: op.board });
        return;
    }
  });
  return changes;
}
