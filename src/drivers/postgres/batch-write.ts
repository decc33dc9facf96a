/**
 * Writes a planned batch with set-based statements (one per kind of change, arrays as parameters),
 * pipelined together with the COMMIT, so that a batch costs two round trips (load, then write)
 * however many commits it holds. Only a board block that needs splitting or merging adds one.
 */
import type postgres from 'postgres';
import type { BatchPlan } from './batch-types.js';
import { applyBlockDeltas, maintainBlocks } from './board-blocks.js';
import type { Sql, Tables } from './postgres-client.js';

const BYTEA_OID = 17;

/** Keeps each statement's array parameters well under PostgreSQL's 1 GB limit per value. */
const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;

/** Splits rows into runs whose `size` adds up to at most {@link MAX_STATEMENT_BYTES} (at least one row each). */
function chunkBySize<T>(rows: readonly T[], size: (row: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const rowBytes = size(row);
    if (current.length > 0 && bytes + rowBytes > MAX_STATEMENT_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += rowBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * What makes a write wait for a guard: `and` ends a WHERE clause, `where` is one (for an INSERT
 * from unnest). Empty in a pipeline, where statements run in order anyway; inside one statement
 * (`guessed-batch.ts`), a reference to the guard's result, so no row is written before it passed.
 */
export interface WriteGate {
  readonly and: postgres.Fragment;
  readonly where: postgres.Fragment;
}

const ungated = (tx: Sql): WriteGate => ({ and: tx``, where: tx`` });

/** A statement of the pipeline: started in order, awaited together. */
export interface Statement extends PromiseLike<unknown> {
  execute(): unknown;
}

export function documentStatements(
  tx: Sql,
  tables: Tables,
  plan: BatchPlan,
  gate: WriteGate = ungated(tx),
): Statement[] {
  const { deletes, updates, inserts } = plan.documents;
  const statements: Statement[] = [];
  if (deletes.length > 0) {
    statements.push(tx`
      DELETE FROM ${tables.documents} d
      USING unnest(${deletes.map((d) => d.collection)}::text[], ${deletes.map((d) => d.key)}::text[])
        AS u(collection, key)
      WHERE d.collection = u.collection AND d.key = u.key ${gate.and}`);
  }
  for (const chunk of chunkBySize(updates, (row) => row.json.length)) {
    statements.push(tx`
      UPDATE ${tables.documents} d
      SET value = u.value::json, version = u.version, created_at = u.created_at,
          updated_at = u.updated_at, expires_at = u.expires_at
      FROM unnest(
        ${chunk.map((r) => r.collection)}::text[],
        ${chunk.map((r) => r.key)}::text[],
        ${chunk.map((r) => r.json)}::text[],
        ${chunk.map((r) => r.version)}::int8[],
        ${chunk.map((r) => r.createdAt)}::float8[],
        ${chunk.map((r) => r.updatedAt)}::float8[],
        ${chunk.map((r) => r.expiresAt)}::float8[]
      ) AS u(collection, key, value, version, created_at, updated_at, expires_at)
      WHERE d.collection = u.collection AND d.key = u.key ${gate.and}`);
  }
  // A plain INSERT, in key order: a key another batch inserted first fails with 23505 (retry).
  for (const chunk of chunkBySize(inserts, (row) => row.json.length)) {
    statements.push(tx`
      INSERT INTO ${tables.documents} (collection, key, value, version, created_at, updated_at, expires_at)
      SELECT u.collection, u.key, u.value::json, u.version, u.created_at, u.updated_at, u.expires_at
      FROM unnest(
        ${chunk.map((r) => r.collection)}::text[],
        ${chunk.map((r) => r.key)}::text[],
        ${chunk.map((r) => r.json)}::text[],
        ${chunk.map((r) => r.version)}::int8[],
        ${chunk.map((r) => r.createdAt)}::float8[],
        ${chunk.map((r) => r.updatedAt)}::float8[],
        ${chunk.map((r) => r.expiresAt)}::float8[]
      ) AS u(collection, key, value, version, created_at, updated_at, expires_at)
      ${gate.where}`);
  }
  return statements;
}

export function streamStatements(
  tx: Sql,
  tables: Tables,
  plan: BatchPlan,
  gate: WriteGate = ungated(tx),
): Statement[] {
  const { inserts, clears, drops, updates, events } = plan.streams;
  const statements: Statement[] = [];
  // A plain INSERT, in name order: a stream another batch created first fails with 23505 (retry).
  if (inserts.length > 0) {
    statements.push(tx`
      INSERT INTO ${tables.streams} (id, name, head, expires_at)
      SELECT * FROM unnest(
        ${inserts.map((s) => s.id)}::int8[],
        ${inserts.map((s) => s.name)}::text[],
        ${inserts.map((s) => s.head)}::int8[],
        ${inserts.map((s) => s.expiresAt)}::float8[]
      )`);
  }
  const emptied = [...clears, ...drops];
  // Deletions before insertions: a cleared stream gets new events with the same seqs.
  if (emptied.length > 0) {
    statements.push(tx`DELETE FROM ${tables.events} WHERE stream_id = ANY(${emptied}::int8[])`);
  }
  if (drops.length > 0) {
    statements.push(tx`DELETE FROM ${tables.streams} WHERE id = ANY(${drops}::int8[])`);
  }
  if (updates.length > 0) {
    statements.push(tx`
      UPDATE ${tables.streams} s SET head = u.head, expires_at = u.expires_at
      FROM unnest(
        ${updates.map((s) => s.id)}::int8[],
        ${updates.map((s) => s.head)}::int8[],
        ${updates.map((s) => s.expiresAt)}::float8[]
      ) AS u(id, head, expires_at)
      WHERE s.id = u.id ${gate.and}`);
  }
  for (const chunk of chunkBySize(events, (event) => event.json.length + event.type.length)) {
    statements.push(tx`
      INSERT INTO ${tables.events} (stream_id, seq, type, data, at)
      SELECT u.stream_id, u.seq, u.type, u.data::json, u.at
      FROM unnest(
        ${chunk.map((e) => e.streamId)}::int8[],
        ${chunk.map((e) => e.seq)}::int8[],
        ${chunk.map((e) => e.type)}::text[],
        ${chunk.map((e) => e.json)}::text[],
        ${chunk.map((e) => e.at)}::float8[]
      ) AS u(stream_id, seq, type, data, at)
      ${gate.where}`);
  }
  return statements;
}

function boardStatements(tx: Sql, tables: Tables, plan: BatchPlan): Statement[] {
  const { inserts, clears, drops, updates, freshBlocks, entryDeletes, entryUpserts } = plan.boards;
  const statements: Statement[] = [];
  // A plain INSERT, in name order: a board another batch created first fails with 23505 (retry).
  if (inserts.length > 0) {
    statements.push(tx`
      INSERT INTO ${tables.boards} (id, name, sort_order, member_count)
      SELECT * FROM unnest(
        ${inserts.map((b) => b.id)}::int8[],
        ${inserts.map((b) => b.name)}::text[],
        ${inserts.map((b) => b.order)}::text[],
        ${inserts.map((b) => b.count)}::int8[]
      )`);
  }
  const emptied = [...clears, ...drops];
  // Deletions before insertions: a cleared board gets a fresh first block and new entries.
  if (emptied.length > 0) {
    statements.push(tx`DELETE FROM ${tables.entries} WHERE board_id = ANY(${emptied}::int8[])`);
    statements.push(tx`DELETE FROM ${tables.blocks} WHERE board_id = ANY(${emptied}::int8[])`);
  }
  if (drops.length > 0) {
    statements.push(tx`DELETE FROM ${tables.boards} WHERE id = ANY(${drops}::int8[])`);
  }
  if (updates.length > 0) {
    statements.push(tx`
      UPDATE ${tables.boards} b SET sort_order = u.sort_order, member_count = u.member_count
      FROM unnest(
        ${updates.map((b) => b.id)}::int8[],
        ${updates.map((b) => b.order)}::text[],
        ${updates.map((b) => b.count)}::int8[]
      ) AS u(id, sort_order, member_count)
      WHERE b.id = u.id`);
  }
  if (freshBlocks.length > 0) {
    statements.push(tx`
      INSERT INTO ${tables.blocks} (board_id, lo, member_count)
      SELECT board_id, ''::bytea, 0 FROM unnest(${freshBlocks}::int8[]) AS u(board_id)`);
  }
  if (entryDeletes.length > 0) {
    statements.push(tx`
      DELETE FROM ${tables.entries} e
      USING unnest(
        ${entryDeletes.map((e) => e.boardId)}::int8[],
        ${entryDeletes.map((e) => e.member)}::text[]
      ) AS u(board_id, member)
      WHERE e.board_id = u.board_id AND e.member = u.member`);
  }
  for (const chunk of chunkBySize(entryUpserts, (e) => (e.metadataJson?.length ?? 0) + e.member.length)) {
    statements.push(tx`
      INSERT INTO ${tables.entries} (board_id, member, score, reached_at, metadata, sort_key)
      SELECT u.board_id, u.member, u.score, u.reached_at, u.metadata::json, u.sort_key
      FROM unnest(
        ${chunk.map((e) => e.boardId)}::int8[],
        ${chunk.map((e) => e.member)}::text[],
        ${chunk.map((e) => e.score)}::float8[],
        ${chunk.map((e) => e.reachedAt)}::float8[],
        ${chunk.map((e) => e.metadataJson)}::text[],
        ${tx.array(
          chunk.map((e) => e.sortKey),
          BYTEA_OID,
        )}::bytea[]
      ) AS u(board_id, member, score, reached_at, metadata, sort_key)
      ON CONFLICT (board_id, member) DO UPDATE
      SET score = EXCLUDED.score, reached_at = EXCLUDED.reached_at,
          metadata = EXCLUDED.metadata, sort_key = EXCLUDED.sort_key`);
  }
  return statements;
}

/**
 * Writes everything the plan changed, sends the change notifications (`payloads`) on `channel` in
 * the same transaction (so other instances hear exactly the committed changes), and commits.
 * `leading` statements (not started yet) go first in the same pipeline: a guessed batch sends its
 * BEGIN and its checks there (see `guessed-batch.ts`).
 */
export async function writeAndCommit(
  tx: Sql,
  tables: Tables,
  plan: BatchPlan,
  notification: { readonly channel: string; readonly payloads: readonly string[] },
  leading: readonly Statement[] = [],
): Promise<void> {
  const statements: Statement[] = [
    ...leading,
    ...documentStatements(tx, tables, plan),
    ...streamStatements(tx, tables, plan),
    ...boardStatements(tx, tables, plan),
  ];
  const deltas = plan.boards.blockDeltas;
  // After the board statements: a new board's first block must exist before its deltas land.
  const blocks = deltas.length === 0 ? undefined : applyBlockDeltas(tx, tables, deltas);
  if (blocks !== undefined) statements.push(blocks);
  if (notification.payloads.length > 0) {
    statements.push(tx`
      SELECT pg_notify(${notification.channel}, payload)
      FROM unnest(${notification.payloads as string[]}::text[]) AS payload`);
  }
  // Without blocks to check, COMMIT rides in the same round trip. After a failed statement the
  // server ends the transaction at COMMIT as a rollback, and the failure rejects below.
  if (blocks === undefined) statements.push(tx`COMMIT`);
  // Started in order and sent together (pipelined); the server runs them in that order.
  for (const statement of statements) statement.execute();
  await Promise.all(statements);
  if (blocks === undefined) return;
  const blockRows = await blocks;
  if (blockRows.length > 0) await maintainBlocks(tx, tables, blockRows);
  await tx`COMMIT`;
}
