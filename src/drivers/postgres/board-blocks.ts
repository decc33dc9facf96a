/**
 * Block counts for board ranks. `board_blocks` splits a board's sort-key space into ranges; block i
 * covers `[lo_i, lo_{i+1})` and stores how many entries fall in it, the first block starting at the
 * empty key. A rank is then the sum of the counts before the member's block plus a count of at most
 * {@link MAX_BLOCK} index entries inside it, instead of a count over up to a million entries.
 *
 * After every batch, each block holds at most {@link MAX_BLOCK} entries and each block but the
 * first at least {@link MIN_BLOCK}: an over-full block is split into even pieces of about
 * {@link BLOCK_SIZE}, and an under-full one merges into its predecessor. So a board of n entries
 * has at most n / MIN_BLOCK + 1 blocks. All of it runs under the board row's lock.
 */
import type { BlockDelta } from './batch-types.js';
import type { Sql, Tables } from './postgres-client.js';

/** Entries per block after a split. */
export const BLOCK_SIZE = 512;
/** A block with more entries than this is split. */
export const MAX_BLOCK = 2 * BLOCK_SIZE;
/** A block (other than the first) with fewer entries than this merges into the one before it. */
export const MIN_BLOCK = BLOCK_SIZE / 4;

const BYTEA_OID = 17;

/** A block whose count left the allowed range. */
export interface BlockRow {
  readonly boardId: number;
  readonly lo: Buffer;
  readonly count: number;
}

/**
 * Adds the deltas to the blocks that cover their keys (one statement for any number of boards) and
 * returns the blocks that now need a split or a merge.
 */
export function applyBlockDeltas(tx: Sql, tables: Tables, deltas: readonly BlockDelta[]) {
  return tx<BlockRow[]>`
    WITH deltas AS (
      SELECT u.board_id, covering.lo, sum(u.delta)::int AS delta
      FROM unnest(
        ${deltas.map((d) => d.boardId)}::int8[],
        ${tx.array(
          deltas.map((d) => d.sortKey),
          BYTEA_OID,
        )}::bytea[],
        ${deltas.map((d) => d.delta)}::int[]
      ) AS u(board_id, sort_key, delta)
      CROSS JOIN LATERAL (
        SELECT b.lo FROM ${tables.blocks} b
        WHERE b.board_id = u.board_id AND b.lo <= u.sort_key
        ORDER BY b.lo DESC
        LIMIT 1
      ) AS covering
      GROUP BY u.board_id, covering.lo
    ),
    updated AS (
      UPDATE ${tables.blocks} b SET member_count = b.member_count + d.delta
      FROM deltas d
      WHERE b.board_id = d.board_id AND b.lo = d.lo AND d.delta <> 0
      RETURNING b.board_id, b.lo, b.member_count
    )
    SELECT board_id AS "boardId", lo, member_count AS count
    FROM updated
    WHERE member_count > ${MAX_BLOCK} OR member_count < 0 OR (member_count < ${MIN_BLOCK} AND lo <> ''::bytea)
    ORDER BY board_id, lo`;
}

/**
 * Splits an over-full block into `ceil(count / BLOCK_SIZE)` pieces whose sizes differ by at most
 * one, so that every piece stays at or above {@link MIN_BLOCK}.
 */
async function splitBlock(tx: Sql, tables: Tables, block: BlockRow): Promise<void> {
  const pieces = Math.ceil(block.count / BLOCK_SIZE);
  await tx`
    WITH ranked AS (
      SELECT sort_key, ((row_number() OVER (ORDER BY sort_key) - 1) * ${pieces}::int8 / ${block.count}::int8)::int AS piece
      FROM (
        SELECT sort_key FROM ${tables.entries}
        WHERE board_id = ${block.boardId} AND sort_key >= ${block.lo}
        ORDER BY sort_key
        LIMIT ${block.count}
      ) AS inside
    ),
    pieces AS (
      SELECT DISTINCT ON (piece) piece, sort_key AS lo, count(*) OVER (PARTITION BY piece)::int AS size
      FROM ranked
      ORDER BY piece, sort_key
    ),
    fresh AS (
      INSERT INTO ${tables.blocks} (board_id, lo, member_count)
      SELECT ${block.boardId}, lo, size FROM pieces WHERE piece > 0
    )
    UPDATE ${tables.blocks} SET member_count = (SELECT size FROM pieces WHERE piece = 0)
    WHERE board_id = ${block.boardId} AND lo = ${block.lo}`;
}

/** Folds an under-full block into its predecessor; returns the predecessor, or undefined if nothing merged. */
async function mergeBlock(tx: Sql, tables: Tables, block: BlockRow): Promise<BlockRow | undefined> {
  const [merged] = await tx<BlockRow[]>`
    WITH gone AS (
      DELETE FROM ${tables.blocks}
      WHERE board_id = ${block.boardId} AND lo = ${block.lo} AND lo <> ''::bytea AND member_count < ${MIN_BLOCK}
      RETURNING member_count
    )
    UPDATE ${tables.blocks} p SET member_count = p.member_count + (SELECT member_count FROM gone)
    WHERE p.board_id = ${block.boardId}
      AND p.lo = (
        SELECT lo FROM ${tables.blocks}
        WHERE board_id = ${block.boardId} AND lo < ${block.lo}
        ORDER BY lo DESC
        LIMIT 1
      )
      AND EXISTS (SELECT 1 FROM gone)
    RETURNING p.board_id AS "boardId", p.lo, p.member_count AS count`;
  return merged;
}

/** Splits and merges the blocks {@link applyBlockDeltas} reported, one statement each (rare). */
export async function maintainBlocks(tx: Sql, tables: Tables, blocks: readonly BlockRow[]): Promise<void> {
  for (const block of blocks) {
    if (block.count < 0) {
      throw new Error(`Board ${block.boardId}: block ${block.lo.toString('hex')} has a negative count`);
    }
    if (block.count > MAX_BLOCK) {
      await splitBlock(tx, tables, block);
      continue;
    }
    const merged = await mergeBlock(tx, tables, block);
    if (merged !== undefined && merged.count > MAX_BLOCK) await splitBlock(tx, tables, merged);
  }
}
