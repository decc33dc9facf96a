/**
 * Engine names for leaderboards, after the data model's key patterns: board `global` is the
 * engine board `leaderboard:global`, and period `2026-01-13` of board `daily` is
 * `leaderboard:daily:2026-01-13`.
 */

/**
 * Makes an id safe to join with `:`: `%` becomes `%25` and `:` becomes `%3A`. Ids may contain `:`
 * (docs/api.md#conventions), and without this board `a` in period `2026-01-13` and board
 * `a:2026-01-13` would share an engine name. Ids without `:` or `%` (nearly all) are unchanged,
 * so stored names read as the plain key patterns above.
 */
export function encodeNameSegment(id: string): string {
  return id.replace(/%/g, '%25').replace(/:/g, '%3A');
}

/** The engine board holding `board` in `period` (`null` for boards without periods). */
export function engineBoardName(board: string, period: string | null): string {
  const base = `leaderboard:${encodeNameSegment(board)}`;
  return period === null ? base : `${base}:${period}`;
}

/** The prefix shared by every period board of `board`, and by no other board's. */
export function periodBoardPrefix(board: string): string {
  return `${engineBoardName(board, null)}:`;
}
