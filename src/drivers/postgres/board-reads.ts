/**
 * Board reads. Each is one statement, so it reads one consistent snapshot: the block counts and
 * the entries always agree (see `board-blocks.ts` for the structure).
 */
import { parseStoredJson } from '../../engine/json.js';
import type { BoardEntry, JsonObject } from '../../engine/types.js';
import type { Sql, Tables } from './postgres-client.js';

interface EntryRow {
  readonly member: string;
  readonly score: number;
  readonly reachedAt: number;
  readonly metadataJson: string | null;
}

interface RankedEntryRow extends EntryRow {
  readonly rank: number;
}

function toEntry(board: string, row: EntryRow, rank: number): BoardEntry {
  return {
    member: row.member,
    score: row.score,
    reachedAt: row.reachedAt,
    metadata:
      row.metadataJson === null
        ? null
        : (parseStoredJson(row.metadataJson, `metadata of ${row.member} on ${board}`) as JsonObject),
    rank,
  };
}

/** Entries at ranks `offset + 1 ...`, at most `limit`. */
export async function readBoardRange(
  sql: Sql,
  tables: Tables,
  board: string,
  offset: number,
  limit: number,
): Promise<BoardEntry[]> {
  // From the top, the rank index alone answers. Further down, the running sum of block counts
  // finds the block holding rank `offset + 1`, and the scan skips only inside that block.
  const rows =
    offset === 0
      ? await sql<EntryRow[]>`
          SELECT member, score, reached_at AS "reachedAt", metadata::text AS "metadataJson"
          FROM ${tables.entries}
          WHERE board_id = (SELECT id FROM ${tables.boards} WHERE name = ${board})
          ORDER BY sort_key
          LIMIT ${limit}`
      : await sql<EntryRow[]>`
          WITH board AS (
            SELECT id FROM ${tables.boards} WHERE name = ${board}
          ),
          starts AS (
            SELECT lo, sum(member_count) OVER (ORDER BY lo) - member_count AS before
            FROM ${tables.blocks}
            WHERE board_id = (SELECT id FROM board)
          ),
          start AS (
            SELECT lo, before FROM starts WHERE before <= ${offset}::int8 ORDER BY lo DESC LIMIT 1
          )
          SELECT member, score, reached_at AS "reachedAt", metadata::text AS "metadataJson"
          FROM ${tables.entries}
          WHERE board_id = (SELECT id FROM board) AND sort_key >= (SELECT lo FROM start)
          ORDER BY sort_key
          OFFSET (SELECT ${offset}::int8 - before FROM start)
          LIMIT ${limit}`;
  return rows.map((row, index) => toEntry(board, row, offset + index + 1));
}

/** The member's entry with its rank: counts of earlier blocks plus a count inside its own block. */
export async function readBoardMember(
  sql: Sql,
  tables: Tables,
  board: string,
  member: string,
): Promise<BoardEntry | undefined> {
  const [row] = await sql<RankedEntryRow[]>`
    SELECT e.member, e.score, e.reached_at AS "reachedAt", e.metadata::text AS "metadataJson",
      (SELECT coalesce(sum(x.member_count), 0) FROM ${tables.blocks} x
        WHERE x.board_id = e.board_id AND x.lo < covering.lo)
      + (SELECT count(*) FROM ${tables.entries} y
        WHERE y.board_id = e.board_id AND y.sort_key >= covering.lo AND y.sort_key < e.sort_key)
      + 1 AS rank
    FROM ${tables.boards} b
    JOIN ${tables.entries} e ON e.board_id = b.id AND e.member = ${member}
    CROSS JOIN LATERAL (
      SELECT z.lo FROM ${tables.blocks} z
      WHERE z.board_id = e.board_id AND z.lo <= e.sort_key
      ORDER BY z.lo DESC
      LIMIT 1
    ) AS covering
    WHERE b.name = ${board}`;
  return row === undefined ? undefined : toEntry(board, row, row.rank);
}
