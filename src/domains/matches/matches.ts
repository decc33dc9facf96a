/**
 * Matches, rounds and per-match scores, with lifetime stats and analytics alongside.
 *
 * Concurrency rules, all enforced by the engine rather than by locks:
 * - every score change is an `$inc` patch plus an `incr` of the match's board in one commit, so
 *   the board ranks players without a sort and always agrees with their score documents;
 * - every write to an open match's record, rounds or scores also patches its open marker
 *   (`match-open`/{matchId}, see match-keys.ts), which completion deletes;
 * - completion is one commit conditional on the marker's version: it counts each score exactly
 *   once, and racing completers conflict, retry, and find the match already completed.
 */

import { retryOnConflict } from '../../engine/retry.js';
import type { Store } from '../../engine/store.js';
import type {
  CommitOp,
  CommitResult,
  DocumentWriteResult,
  Patch,
  PatchOp,
  StoredDocument,
} from '../../engine/types.js';
import { invalidInput, isSavepointError, notFound, SavepointError } from '../../errors.js';
import { MatchAnalytics } from './match-analytics.js';
import {
  childPrefix,
  MATCH_BOARD_PREFIX,
  MATCH_COLLECTION,
  matchBoard,
  OPEN_MATCH_COLLECTION,
  ROUND_COLLECTION,
  roundKey,
  SCORE_COLLECTION,
  scoreKey,
} from './match-keys.js';
import {
  assertFiniteNumber,
  assertRoundIndex,
  type MatchInput,
  type MatchRecord,
  type MatchScore,
  matchValue,
  newRound,
  type RankedScore,
  type RoundInput,
  type RoundRecord,
  type StoredRound,
  toMatchRecord,
  toMatchScore,
  toRoundRecord,
} from './match-records.js';
import { assertTrophy, type LifetimeCredit, lifetimeCreditOps, PlayerLifetimes } from './player-lifetime.js';

export const DEFAULT_MATCH_TTL_MS = 7 * 24 * 3600 * 1000;

export interface MatchesOptions {
  /** How long a completed match, its rounds and its scores stay readable (`SAVEPOINT_MATCH_TTL`); default 7 days. */
  readonly matchTtlMs?: number;
  /** How long analytics live after their last write (`SAVEPOINT_ANALYTICS_TTL`); default 30 days. */
  readonly analyticsTtlMs?: number;
}

/** Conditions a caller may put on a match write (from `If-Match`, `If-None-Match: *` or `expectedVersion`). */
export interface WriteConditions {
  readonly expectedVersion?: number;
  readonly mustNotExist?: boolean;
}

export interface PutResult<T> {
  readonly record: T;
  /** True when this call created the record. */
  readonly created: boolean;
}

export interface WinnerInput {
  readonly winnerUser: string;
  readonly winnerCommentId?: string;
  /** Points the winner earns; default 1. */
  readonly points?: number;
}

export interface ScoreIncrement {
  /** Default 0. */
  readonly points?: number;
  /** An integer; default 0. */
  readonly wins?: number;
}

export interface CompleteInput {
  /** Trophies to append to players' lifetime records, by user. */
  readonly trophies?: Readonly<Record<string, readonly string[]>>;
}

export interface CompletionResult {
  readonly matchId: string;
  /** Users with a score in the match, ascending. */
  readonly participants: string[];
  /** True when an earlier call completed the match; this one changed nothing. */
  readonly alreadyCompleted: boolean;
}

/** A completion retries this often under contention; each try is a few reads and one commit. */
const COMPLETE_ATTEMPTS = 20;
const PAGE = 1000;

export class Matches {
  readonly #store: Store;
  readonly #matchTtlMs: number;
  /** Lifetime statistics and trophies. */
  readonly lifetimes: PlayerLifetimes;
  /** Per-match running metrics. */
  readonly analytics: MatchAnalytics;

  constructor(store: Store, options: MatchesOptions = {}) {
    this.#store = store;
    this.#matchTtlMs = options.matchTtlMs ?? DEFAULT_MATCH_TTL_MS;
    this.lifetimes = new PlayerLifetimes(store);
    this.analytics = new MatchAnalytics(store, { ttlMs: options.analyticsTtlMs });
  }

  // ---- matches ----

  async get(matchId: string): Promise<MatchRecord | undefined> {
    const document = await this.#store.get(MATCH_COLLECTION, matchId);
    return document === undefined ? undefined : toMatchRecord(document);
  }

  /**
   * Creates or replaces a match. Server fields in `input` (`matchId`, `version`, times) are ignored.
   * Creating also clears a board left by an expired match of the same id. A completed match is
   * final: replacing it fails with `ALREADY_CLOSED`.
   */
  async put(
    matchId: string,
    input: MatchInput,
    conditions: WriteConditions = {},
  ): Promise<PutResult<MatchRecord>> {
    const value = matchValue(input);
    const attempt = async (): Promise<PutResult<MatchRecord>> => {
      const [current, open] = await Promise.all([
        this.#store.get(MATCH_COLLECTION, matchId),
        this.#store.get(OPEN_MATCH_COLLECTION, matchId),
      ]);
      if (current !== undefined && open === undefined) throw alreadyCompleted(matchId);
      const ops: CommitOp[] = [
        {
          op: 'put',
          collection: MATCH_COLLECTION,
          key: matchId,
          value,
          ...conditionFor(conditions, current),
        },
      ];
      if (current === undefined) {
        ops.push(
          { op: 'put', collection: OPEN_MATCH_COLLECTION, key: matchId, value: { writes: 0 } },
          { op: 'deleteBoard', board: matchBoard(matchId) },
        );
      } else {
        ops.push(touchOpen(matchId));
      }
      const { results } = await this.#store.commit(ops);
      const written = results[0] as DocumentWriteResult;
      return { record: toMatchRecord(written.document), created: written.created };
    };
    // A caller's own condition failing is an answer, not contention: it is not retried.
    return hasConditions(conditions) ? attempt() : retryOnConflict(attempt);
  }

  /**
   * Applies a patch (`$set`, `$inc`, `$max`, `$min`, `$push`, `$unset`) atomically.
   * `NOT_FOUND` for an unknown match, `ALREADY_CLOSED` for a completed one.
   */
  async patch(
    matchId: string,
    patch: Patch,
    conditions: Pick<WriteConditions, 'expectedVersion'> = {},
  ): Promise<MatchRecord> {
    const op: PatchOp = {
      op: 'patch',
      collection: MATCH_COLLECTION,
      key: matchId,
      patch,
      ...(conditions.expectedVersion === undefined ? {} : { expectedVersion: conditions.expectedVersion }),
    };
    const { results } = await this.#guarded(matchId, [op]);
    return toMatchRecord((results[1] as DocumentWriteResult).document);
  }

  // ---- rounds ----

  async getRound(matchId: string, index: number): Promise<RoundRecord | undefined> {
    assertRoundIndex(index);
    const document = await this.#store.get(ROUND_COLLECTION, roundKey(matchId, index));
    return document === undefined ? undefined : toRoundRecord(document);
  }

  /** The match's rounds by index; `NOT_FOUND` for an unknown match. */
  async listRounds(matchId: string): Promise<RoundRecord[]> {
    await this.#requireMatch(matchId);
    const rounds = await this.#listChildren(ROUND_COLLECTION, matchId);
    return rounds.map(toRoundRecord).sort((a, b) => a.index - b.index);
  }

  /**
   * Creates or replaces a round as open (`closed: false`, no winner). A closed round keeps its
   * winner: replacing it fails with `ALREADY_CLOSED`, as does any round of a completed match.
   */
  async putRound(
    matchId: string,
    index: number,
    input: RoundInput,
    conditions: WriteConditions = {},
  ): Promise<PutResult<RoundRecord>> {
    assertRoundIndex(index);
    const value = newRound(matchId, index, input);
    const key = roundKey(matchId, index);
    const attempt = async (): Promise<PutResult<RoundRecord>> => {
      const current = await this.#store.get(ROUND_COLLECTION, key);
      if ((current?.value as StoredRound | undefined)?.closed === true) throw roundClosed(matchId, index);
      const { results } = await this.#guarded(matchId, [
        { op: 'put', collection: ROUND_COLLECTION, key, value, ...conditionFor(conditions, current) },
      ]);
      const written = results[1] as DocumentWriteResult;
      return { record: toRoundRecord(written.document), created: written.created };
    };
    return hasConditions(conditions) ? attempt() : retryOnConflict(attempt);
  }

  /**
   * Closes a round with its winner and credits the winner's match score (`points += points`,
   * `wins += 1`) in one commit, conditional on the round's version. A second call fails with
   * `ALREADY_CLOSED`.
   */
  async closeRound(
    matchId: string,
    index: number,
    input: WinnerInput,
  ): Promise<{ round: RoundRecord; score: MatchScore }> {
    assertRoundIndex(index);
    if (typeof input?.winnerUser !== 'string' || input.winnerUser.length === 0)
      throw invalidInput('winnerUser must be a non-empty string');
    if (input.winnerCommentId !== undefined && typeof input.winnerCommentId !== 'string')
      throw invalidInput('winnerCommentId must be a string');
    assertFiniteNumber(input.points, 'points');
    const points = input.points ?? 1;
    const key = roundKey(matchId, index);
    return retryOnConflict(async () => {
      const current = await this.#store.get(ROUND_COLLECTION, key);
      if (current === undefined) {
        await this.#requireMatch(matchId);
        throw notFound(`Match ${matchId} has no round ${index}`, { matchId, index });
      }
      if ((current.value as StoredRound).closed) throw roundClosed(matchId, index);
      const { results } = await this.#guarded(matchId, [
        {
          op: 'patch',
          collection: ROUND_COLLECTION,
          key,
          expectedVersion: current.version,
          patch: {
            $set: {
              closed: true,
              winnerUser: input.winnerUser,
              winnerCommentId: input.winnerCommentId ?? null,
              closedAt: new Date(this.#store.now()).toISOString(),
            },
          },
        },
        ...scoreOps(matchId, input.winnerUser, points, 1),
      ]);
      return {
        round: toRoundRecord((results[1] as DocumentWriteResult).document),
        score: toMatchScore((results[2] as DocumentWriteResult).document),
      };
    });
  }

  // ---- scores ----

  /** Adds to a player's match totals atomically and answers the new totals. */
  async addScore(matchId: string, user: string, increment: ScoreIncrement = {}): Promise<MatchScore> {
    assertFiniteNumber(increment.points, 'points');
    if (increment.wins !== undefined && !Number.isSafeInteger(increment.wins))
      throw invalidInput('wins must be an integer');
    const { results } = await this.#guarded(
      matchId,
      scoreOps(matchId, user, increment.points ?? 0, increment.wins ?? 0),
    );
    return toMatchScore((results[1] as DocumentWriteResult).document);
  }

  /** The top `limit` (1–1000, default 100) players by points, read from the match's board. */
  async scores(matchId: string, options: { readonly limit?: number } = {}): Promise<RankedScore[]> {
    await this.#requireMatch(matchId);
    const entries = await this.#store.boardRange(matchBoard(matchId), { limit: options.limit });
    const documents = await this.#store.getMany(
      SCORE_COLLECTION,
      entries.map((entry) => scoreKey(matchId, entry.member)),
    );
    const wins = new Map(documents.map(toMatchScore).map((score) => [score.user, score.wins]));
    // Points come from the board, so they always agree with the ranks beside them.
    return entries.map((entry) => ({
      rank: entry.rank,
      user: entry.member,
      points: entry.score,
      wins: wins.get(entry.member) ?? 0,
    }));
  }

  // ---- completion ----

  /**
   * Completes a match in one commit: status `completed`; each participant's lifetime record gets
   * `matchesPlayed + 1`, `totalWins +` their wins, and their trophies (trophies for other users are
   * appended too, without counting a match); `lifetime-wins` gets each participant's wins; the
   * match, its rounds and its scores expire after `matchTtlMs`. Idempotent: a later call changes
   * nothing and answers `alreadyCompleted: true`.
   */
  async complete(matchId: string, input: CompleteInput = {}): Promise<CompletionResult> {
    const trophies = checkTrophies(input.trophies);
    return retryOnConflict(
      async () => {
        // The marker is read first: everything read after it is what the commit's condition protects.
        const open = await this.#store.get(OPEN_MATCH_COLLECTION, matchId);
        const match = await this.#requireMatch(matchId);
        const scoreDocuments = await this.#listChildren(SCORE_COLLECTION, matchId);
        const scores = scoreDocuments.map(toMatchScore);
        const participants = scores.map((score) => score.user);
        if (open === undefined) return { matchId, participants, alreadyCompleted: true };
        const rounds = await this.#listChildren(ROUND_COLLECTION, matchId);
        const ttlMs = this.#matchTtlMs;
        const ops: CommitOp[] = [
          { op: 'delete', collection: OPEN_MATCH_COLLECTION, key: matchId, expectedVersion: open.version },
          {
            op: 'patch',
            collection: MATCH_COLLECTION,
            key: matchId,
            expectedVersion: match.version,
            ttlMs,
            patch: { $set: { status: 'completed', completedAt: new Date(this.#store.now()).toISOString() } },
          },
        ];
        for (const round of rounds) ops.push(expireOp(ROUND_COLLECTION, round, ttlMs));
        for (const score of scoreDocuments) ops.push(expireOp(SCORE_COLLECTION, score, ttlMs));
        for (const credit of creditsOf(scores, trophies)) ops.push(...lifetimeCreditOps(credit));
        await this.#store.commit(ops);
        return { matchId, participants, alreadyCompleted: false };
      },
      { attempts: COMPLETE_ATTEMPTS },
    );
  }

  // ---- maintenance ----

  /**
   * Deletes the score boards of matches that no longer exist (boards have no TTL, so they go when
   * their expired match does). Run it beside `store.sweepExpired()`. Answers how many were deleted.
   */
  async sweepBoards(): Promise<number> {
    let deleted = 0;
    for (const { board } of await this.#store.listBoards(MATCH_BOARD_PREFIX)) {
      const matchId = board.slice(MATCH_BOARD_PREFIX.length);
      if ((await this.#store.get(MATCH_COLLECTION, matchId)) !== undefined) continue;
      try {
        // Re-checked inside the commit: a match re-created since the read keeps its board.
        await this.#store.commit([...assertAbsent(MATCH_COLLECTION, matchId), { op: 'deleteBoard', board }]);
        deleted++;
      } catch (error) {
        if (!isSavepointError(error, 'VERSION_CONFLICT')) throw error;
      }
    }
    return deleted;
  }

  // ---- internals ----

  async #requireMatch(matchId: string): Promise<StoredDocument> {
    const document = await this.#store.get(MATCH_COLLECTION, matchId);
    if (document === undefined) throw notFound(`No match ${matchId}`, { matchId });
    return document;
  }

  /**
   * Commits `ops` behind the open marker (op 0, so `ops[i]`'s result is `results[i + 1]`). A missing
   * marker means the match is unknown (`NOT_FOUND`) or completed (`ALREADY_CLOSED`).
   */
  async #guarded(matchId: string, ops: readonly CommitOp[]): Promise<CommitResult> {
    try {
      return await this.#store.commit([touchOpen(matchId), ...ops]);
    } catch (error) {
      if (!isSavepointError(error, 'NOT_FOUND') || error.details.opIndex !== 0) throw error;
      await this.#requireMatch(matchId);
      throw alreadyCompleted(matchId);
    }
  }

  /** Every round or score document of a match, ascending by key. */
  async #listChildren(collection: string, matchId: string): Promise<StoredDocument[]> {
    const prefix = childPrefix(matchId);
    const documents: StoredDocument[] = [];
    let after: string | null = null;
    do {
      const page = await this.#store.list(collection, {
        prefix,
        limit: PAGE,
        ...(after === null ? {} : { after }),
      });
      documents.push(...page.items);
      after = page.nextCursor;
    } while (after !== null);
    return documents;
  }
}

const hasConditions = (conditions: WriteConditions): boolean =>
  conditions.expectedVersion !== undefined || conditions.mustNotExist === true;

/**
 * The condition of a put: the caller's, when it set one; otherwise "unchanged since `current` was
 * read", so that the decisions taken on that read (closed? created?) still hold when it commits.
 */
function conditionFor(conditions: WriteConditions, current: StoredDocument | undefined): WriteConditions {
  if (conditions.expectedVersion !== undefined) return { expectedVersion: conditions.expectedVersion };
  if (conditions.mustNotExist === true || current === undefined) return { mustNotExist: true };
  return { expectedVersion: current.version };
}

/** Bumps the open marker's version; fails with `NOT_FOUND` once the match is completed. */
function touchOpen(matchId: string): PatchOp {
  return { op: 'patch', collection: OPEN_MATCH_COLLECTION, key: matchId, patch: { $inc: { writes: 1 } } };
}

/** A score change: the score document and the match board move together. */
function scoreOps(matchId: string, user: string, points: number, wins: number): CommitOp[] {
  return [
    {
      op: 'patch',
      collection: SCORE_COLLECTION,
      key: scoreKey(matchId, user),
      upsert: true,
      patch: { $set: { user }, $inc: { points, wins } },
    },
    { op: 'score', board: matchBoard(matchId), member: user, score: points, mode: 'incr', order: 'desc' },
  ];
}

function expireOp(collection: string, document: StoredDocument, ttlMs: number): PatchOp {
  return { op: 'patch', collection, key: document.key, patch: {}, ttlMs, expectedVersion: document.version };
}

/**
 * Two ops that succeed only while `collection/key` does not exist, and leave nothing behind: the
 * engine has no bare "must not exist" check, so a placeholder is created and removed in one commit.
 */
function assertAbsent(collection: string, key: string): CommitOp[] {
  return [
    { op: 'put', collection, key, value: null, mustNotExist: true },
    { op: 'delete', collection, key },
  ];
}

function checkTrophies(trophies: CompleteInput['trophies']): ReadonlyMap<string, readonly string[]> {
  if (trophies === undefined) return new Map();
  if (typeof trophies !== 'object' || trophies === null || Array.isArray(trophies))
    throw invalidInput('trophies must be an object of { user: [trophy, ...] }');
  for (const [user, list] of Object.entries(trophies)) {
    if (!Array.isArray(list)) throw invalidInput(`trophies of ${user} must be an array of strings`);
    for (const trophy of list) assertTrophy(trophy);
  }
  return new Map(Object.entries(trophies));
}

function creditsOf(
  scores: readonly MatchScore[],
  trophies: ReadonlyMap<string, readonly string[]>,
): LifetimeCredit[] {
  const credits: LifetimeCredit[] = scores.map((score) => ({
    user: score.user,
    played: true,
    wins: score.wins,
    trophies: trophies.get(score.user) ?? [],
  }));
  const participants = new Set(scores.map((score) => score.user));
  for (const [user, list] of trophies) {
    if (!participants.has(user) && list.length > 0)
      credits.push({ user, played: false, wins: 0, trophies: list });
  }
  return credits;
}

const alreadyCompleted = (matchId: string): SavepointError =>
  new SavepointError(
    'ALREADY_CLOSED',
    `Match ${matchId} is completed; its record, rounds and scores are final`,
    {
      details: { matchId },
    },
  );

const roundClosed = (matchId: string, index: number): SavepointError =>
  new SavepointError('ALREADY_CLOSED', `Round ${index} of match ${matchId} is closed and has its winner`, {
    details: { matchId, index },
  });
