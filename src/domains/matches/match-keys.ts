/**
 * Where the matches module keeps its records: the key patterns of the match data model, e.g.
 * `round:{postId}:{index}` is the document `round`/`{postId}:{index}`.
 *
 * The match id inside a child key is encoded ({@link encodeNameSegment}: `:` becomes `%3A`), because
 * ids may contain `:`: otherwise match `a` with user `b:c` and match `a:b` with user `c` would share
 * the score key `a:b:c`, and the prefix `a:` would also list the rounds of match `a:b`. Ids without
 * `:` keep the plain pattern.
 */
import { encodeNameSegment } from '../leaderboards/board-names.js';

export const MATCH_COLLECTION = 'match';
export const ROUND_COLLECTION = 'round';
export const SCORE_COLLECTION = 'score';
export const LIFETIME_COLLECTION = 'lifetime';
export const ANALYTICS_COLLECTION = 'analytics';
/**
 * One document per match that is still open for rounds and scores, keyed by match id. Every write
 * to a match's rounds or scores patches it (without upsert) in the same commit, which does two
 * things: once completion deletes it, those writes fail instead of landing uncounted and without
 * expiry; and while it exists, each such write bumps its version, so completion (conditional on that
 * version) can never miss a score written while it was reading.
 */
export const OPEN_MATCH_COLLECTION = 'match-open';

/** Every collection this module owns (read-only through the Documents API). */
export const MATCH_COLLECTIONS: readonly string[] = [
  MATCH_COLLECTION,
  ROUND_COLLECTION,
  SCORE_COLLECTION,
  LIFETIME_COLLECTION,
  ANALYTICS_COLLECTION,
  OPEN_MATCH_COLLECTION,
];

/** Prefix of the keys of a match's rounds and scores, and of no other match's. */
export const childPrefix = (matchId: string): string => `${encodeNameSegment(matchId)}:`;

export const roundKey = (matchId: string, index: number): string => `${childPrefix(matchId)}${index}`;

export const scoreKey = (matchId: string, user: string): string => `${childPrefix(matchId)}${user}`;

/** Prefix of the per-match score boards. */
export const MATCH_BOARD_PREFIX = 'match-scores:';

/** The board ranking a match's players by points, written in the same commit as their score documents. */
export const matchBoard = (matchId: string): string => `${MATCH_BOARD_PREFIX}${matchId}`;
