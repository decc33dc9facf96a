/**
 * Reads and locks every row a batch touches, in one round trip (the statements are pipelined).
 * Locks are taken in one global order (documents, then streams, then boards, each sorted by name),
 * so concurrent batches queue behind each other instead of deadlocking.
 */

import type { PreparedCommit } from '../../engine/driver.js';
import type { BoardOrder } from '../../engine/types.js';
import {
  type BatchTargets,
  documentKey,
  type LoadedBoard,
  type LoadedDocument,
  type LoadedEntry,
  type LoadedState,
  type LoadedStream,
} from './batch-types.js';
import type { Sql, Tables } from './postgres-client.js';

/** Every document, stream, board and member the batch's ops name. */
export function targetsOf(batch: readonly PreparedCommit[]): BatchTargets {
  const targets: BatchTargets = {
    documents: new Map(),
    streams: new Set(),
    boards: new Set(),
    members: new Map(),
  };
  for (const commit of batch) {
    for (const op of commit.ops) {
      switch (op.op) {
        case 'put':
        case 'patch':
        case 'delete': {
          const id = documentKey(op.collection, op.key);
          const target = targets.documents.get(id);
          const needsValue = op.op === 'patch';
          const onlyPuts = op.op === 'put';
          if (target === undefined)
            targets.documents.set(id, { collection: op.collection, key: op.key, needsValue, onlyPuts });
          else {
            if (needsValue) target.needsValue = true;
            if (!onlyPuts) target.onlyPuts = false;
          }
          break;
        }
        case 'append':
        case 'expireStream':
        case 'deleteStream':
          targets.streams.add(op.stream);
          break;
        case 'score':
        case 'removeMember': {
          targets.boards.add(op.board);
          let members = targets.members.get(op.board);
          if (members === undefined) {
            members = new Set();
            targets.members.set(op.board, members);
          }
          members.add(op.member);
          break;
        }
        case 'deleteBoard':
          targets.boards.add(op.board);
          break;
      }
    }
  }
  return targets;
}

interface BoardRow {
  readonly name: string;
  readonly id: number;
  readonly order: BoardOrder;
  readonly count: number;
}

const BOOL_OID = 16;

interface IdRow {
  readonly id: number;
}

/** Loads (and locks) the batch's rows; `tx` must be inside a transaction. */
export async function loadBatchState(tx: Sql, tables: Tables, targets: BatchTargets): Promise<LoadedState> {
  const documentTargets = [...targets.documents.values()];
  const streamNames = [...targets.streams];
  const boardNames = [...targets.boards];
  const memberBoards: string[] = [];
  const memberNames: string[] = [];
  for (const [board, members] of targets.members) {
    for (const member of members) {
      memberBoards.push(board);
      memberNames.push(member);
    }
  }

  // ORDER BY with FOR UPDATE locks rows in sorted order (LockRows runs above the sort).
  const documents =
    documentTargets.length === 0
      ? []
      : tx<LoadedDocument[]>`
          SELECT d.collection, d.key,
                 CASE WHEN u.needs_value THEN d.value::text END AS json,
                 d.version, d.created_at AS "createdAt", d.updated_at AS "updatedAt", d.expires_at AS "expiresAt"
          FROM ${tables.documents} d
          JOIN unnest(
            ${documentTargets.map((t) => t.collection)}::text[],
            ${documentTargets.map((t) => t.key)}::text[],
            ${tx.array(
              documentTargets.map((t) => t.needsValue),
              BOOL_OID,
            )}::bool[]
          ) AS u(collection, key, needs_value)
            ON d.collection = u.collection AND d.key = u.key
          ORDER BY d.collection, d.key
          FOR UPDATE OF d`;
  const streams =
    streamNames.length === 0
      ? []
      : tx<LoadedStream[]>`
          SELECT name, id, head, expires_at AS "expiresAt"
          FROM ${tables.streams}
          WHERE name = ANY(${streamNames}::text[])
          ORDER BY name
          FOR UPDATE`;
  // Entries need no row locks of their own: every writer of a board holds its board row's lock.
  const boards =
    boardNames.length === 0
      ? []
      : tx<BoardRow[]>`
          SELECT name, id, sort_order AS "order", member_count AS count
          FROM ${tables.boards}
          WHERE name = ANY(${boardNames}::text[])
          ORDER BY name
          FOR UPDATE`;
  const entries =
    memberNames.length === 0
      ? []
      : tx<LoadedEntry[]>`
          SELECT b.name AS board, e.member, e.score, e.reached_at AS "reachedAt",
                 e.metadata::text AS "metadataJson", e.sort_key AS "sortKey"
          FROM unnest(${memberBoards}::text[], ${memberNames}::text[]) AS u(board, member)
          JOIN ${tables.boards} b ON b.name = u.board
          JOIN ${tables.entries} e ON e.board_id = b.id AND e.member = u.member`;

  const freshIds = (sequence: string, count: number) =>
    count === 0
      ? []
      : tx<IdRow[]>`SELECT nextval(${sequence}::regclass) AS id FROM generate_series(1, ${count}::int)`;

  const [documentRows, streamRows, boardRows, entryRows, streamIds, boardIds] = await Promise.all([
    documents,
    streams,
    boards,
    entries,
    freshIds(tables.sequences.streams, streamNames.length),
    freshIds(tables.sequences.boards, boardNames.length),
  ]);

  const loadedEntries = new Map<string, Map<string, LoadedEntry>>();
  for (const entry of entryRows) {
    let members = loadedEntries.get(entry.board);
    if (members === undefined) {
      members = new Map();
      loadedEntries.set(entry.board, members);
    }
    members.set(entry.member, entry);
  }
  return {
    documents: new Map(documentRows.map((row) => [documentKey(row.collection, row.key), row])),
    streams: new Map(streamRows.map((row) => [row.name, row])),
    boards: new Map(boardRows.map((row): [string, LoadedBoard] => [row.name, row])),
    entries: loadedEntries,
    freshStreamIds: streamIds.map((row) => row.id),
    freshBoardIds: boardIds.map((row) => row.id),
  };
}
