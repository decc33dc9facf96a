/**
 * Leaderboards: named boards with a fixed order, score operator and period, over
 * the engine's boards. Ranking is the engine's: score in the board's order, then the earliest time
 * the score was reached, then member; every rank is an index read, never a sort.
 *
 * A board's definition is a document (`leaderboard-def`/{board}). Its order, operator and period
 * never change once set, so a write needs no condition on it: only the first write to an undefined
 * board creates the definition, with `mustNotExist` in the same commit as the score.
 */

import { retryOnConflict } from '../../engine/retry.js';
import type { Store } from '../../engine/store.js';
import type {
  BoardEntry,
  BoardOrder,
  CommitOp,
  JsonObject,
  ScoreMode,
  ScoreResult,
  StoredDocument,
} from '../../engine/types.js';
import { invalidInput, notFound, SavepointError, versionConflict } from '../../errors.js';
import { engineBoardName, periodBoardPrefix } from './board-names.js';
import { isPeriodName, PERIOD_KINDS, type PeriodKind, periodOf, resolvePeriod } from './periods.js';

/** Collection of board definitions, keyed by board name. */
export const LEADERBOARD_DEFINITION_COLLECTION = 'leaderboard-def';

/** The board that lifetime `totalWins` feeds (the matches module adds each completed match's wins). */
export const LIFETIME_WINS_BOARD = 'lifetime-wins';

/** What a board ranks by and how a new score combines with a member's current one. */
export interface LeaderboardDefinition {
  /** `desc`: highest first; `asc`: lowest first (speedruns). */
  readonly order: BoardOrder;
  /** `best` keeps the better score, `set` replaces it, `incr` adds to it. */
  readonly operator: ScoreMode;
  readonly period: PeriodKind;
  /** How many periods stay readable, the current one included; `null` for boards without periods. */
  readonly keepPeriods: number | null;
}

/** A defined board. */
export interface Leaderboard extends LeaderboardDefinition {
  readonly board: string;
}

/** What `define` takes. `keepPeriods` defaults to {@link DEFAULT_KEEP_PERIODS} and is ignored without periods. */
export interface DefineLeaderboardInput {
  readonly order: BoardOrder;
  readonly operator: ScoreMode;
  readonly period: PeriodKind;
  readonly keepPeriods?: number;
}

/** Periods kept when a definition names no `keepPeriods`: a month of days, a quarter of weeks, a year of months. */
export const DEFAULT_KEEP_PERIODS: Readonly<Record<Exclude<PeriodKind, 'none'>, number>> = {
  daily: 31,
  weekly: 13,
  monthly: 12,
};

/** Most periods a board may keep. */
export const MAX_KEEP_PERIODS = 1000;

/** What writing to an undefined board defines it as (docs/api.md#leaderboards). */
export const DEFAULT_DEFINITION: LeaderboardDefinition = {
  order: 'desc',
  operator: 'best',
  period: 'none',
  keepPeriods: null,
};

/** Boards defined by Savepoint itself: they exist before any write and keep their definition. */
const BUILT_IN_DEFINITIONS: ReadonlyMap<string, LeaderboardDefinition> = new Map([
  [LIFETIME_WINS_BOARD, { order: 'desc', operator: 'incr', period: 'none', keepPeriods: null }],
]);

export interface SubmitScoreInput {
  readonly member: string;
  readonly score: number;
  /** Replaces the member's metadata when the score is written (a `best` that does not improve writes nothing). */
  readonly metadata?: JsonObject;
}

export interface SubmitScoreResult {
  readonly member: string;
  /** The member's score after the write (for `best`, the better of the old and the new). */
  readonly score: number;
  /** The rank just after the write; `null` only if the member was removed in between. */
  readonly rank: number | null;
  /** The period written to; `null` for boards without periods. */
  readonly period: string | null;
  /** False when a `best` submission did not beat the current score. */
  readonly changed: boolean;
}

export interface LeaderboardEntry {
  /** 1-based. */
  readonly rank: number;
  readonly member: string;
  readonly score: number;
  readonly metadata: JsonObject | null;
}

export interface LeaderboardPage {
  readonly board: string;
  readonly period: string | null;
  /** Members on the board in this period. */
  readonly total: number;
  readonly entries: LeaderboardEntry[];
}

export interface MemberStanding extends LeaderboardEntry {
  readonly period: string | null;
  /** The member and up to `around` entries on each side of it, in rank order. */
  readonly around: LeaderboardEntry[];
}

export interface PeriodOption {
  /** A period name of the board's kind; default the current period. */
  readonly period?: string;
}

export interface TopOptions extends PeriodOption {
  /** 1 to 1000; default 100. */
  readonly limit?: number;
  /** Default 0. */
  readonly offset?: number;
}

export interface MemberOptions extends PeriodOption {
  /** Entries on each side of the member, 0 to 500; default 0 (the member alone). */
  readonly around?: number;
}

type DefineOutcome =
  | { readonly kind: 'rulesChanged'; readonly current: LeaderboardDefinition }
  | { readonly kind: 'written' | 'unchanged' };

const ORDERS: readonly BoardOrder[] = ['desc', 'asc'];
const OPERATORS: readonly ScoreMode[] = ['best', 'set', 'incr'];

function resolveDefinition(input: DefineLeaderboardInput): LeaderboardDefinition {
  if (!ORDERS.includes(input.order)) throw invalidInput('order must be "desc" or "asc"');
  if (!OPERATORS.includes(input.operator)) throw invalidInput('operator must be "best", "set" or "incr"');
  if (!PERIOD_KINDS.includes(input.period))
    throw invalidInput('period must be "none", "daily", "weekly" or "monthly"');
  const { keepPeriods } = input;
  if (
    keepPeriods !== undefined &&
    (!Number.isSafeInteger(keepPeriods) || keepPeriods < 1 || keepPeriods > MAX_KEEP_PERIODS)
  ) {
    throw invalidInput(`keepPeriods must be an integer from 1 to ${MAX_KEEP_PERIODS}`);
  }
  return {
    order: input.order,
    operator: input.operator,
    period: input.period,
    keepPeriods: input.period === 'none' ? null : (keepPeriods ?? DEFAULT_KEEP_PERIODS[input.period]),
  };
}

/** Reads a stored definition, refusing anything this module did not write. */
function storedDefinition(document: StoredDocument): LeaderboardDefinition {
  const value = document.value as Partial<Record<keyof LeaderboardDefinition, unknown>> | null;
  if (
    typeof value !== 'object' ||
    value === null ||
    !ORDERS.includes(value.order as BoardOrder) ||
    !OPERATORS.includes(value.operator as ScoreMode) ||
    !PERIOD_KINDS.includes(value.period as PeriodKind) ||
    !(value.keepPeriods === null || Number.isSafeInteger(value.keepPeriods))
  ) {
    throw new SavepointError('CORRUPT_DATA', `The definition of leaderboard ${document.key} cannot be read`);
  }
  return value as LeaderboardDefinition;
}

const sameShape = (a: LeaderboardDefinition, b: LeaderboardDefinition): boolean =>
  a.order === b.order && a.operator === b.operator && a.period === b.period;

const describeShape = (d: LeaderboardDefinition): string => `${d.order}/${d.operator}/${d.period}`;

function toEntry(entry: BoardEntry): LeaderboardEntry {
  return { rank: entry.rank, member: entry.member, score: entry.score, metadata: entry.metadata };
}

export class Leaderboards {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The board's definition, or `undefined` while nobody has defined it or written to it. */
  async get(board: string): Promise<Leaderboard | undefined> {
    const definition = await this.#definition(board);
    return definition === undefined ? undefined : { board, ...definition };
  }

  /**
   * Defines a board; idempotent. Changing the order, operator or period of an existing board fails
   * with `VERSION_CONFLICT` (its scores were combined and ranked under the old rules);
   * `keepPeriods` may change, and lowering it prunes at once.
   */
  async define(board: string, input: DefineLeaderboardInput): Promise<Leaderboard> {
    const wanted = resolveDefinition(input);
    // A changed rule is the caller's error, not contention: it is thrown after the retry loop.
    const outcome = await retryOnConflict(async (): Promise<DefineOutcome> => {
      const document = await this.#store.get(LEADERBOARD_DEFINITION_COLLECTION, board);
      const current = document === undefined ? BUILT_IN_DEFINITIONS.get(board) : storedDefinition(document);
      if (current !== undefined && !sameShape(current, wanted)) return { kind: 'rulesChanged', current };
      if (document !== undefined && current?.keepPeriods === wanted.keepPeriods) return { kind: 'unchanged' };
      await this.#store.commit([
        {
          op: 'put',
          collection: LEADERBOARD_DEFINITION_COLLECTION,
          key: board,
          value: { ...wanted },
          ...(document === undefined ? { mustNotExist: true } : { expectedVersion: document.version }),
        },
      ]);
      return { kind: 'written' };
    });
    if (outcome.kind === 'rulesChanged') {
      throw versionConflict(
        `Leaderboard ${board} is defined as ${describeShape(outcome.current)}; its order, operator and period cannot change`,
        { board },
      );
    }
    if (outcome.kind === 'written' && wanted.period !== 'none') {
      await this.#prune(board, wanted, periodOf(wanted.period, this.#store.now()) as string);
    }
    return { board, ...wanted };
  }

  /**
   * Writes a score with the board's operator into the current period. Writing to an undefined board
   * defines it as `desc`/`best`/`none`. The first write of a new period prunes periods beyond
   * `keepPeriods`.
   */
  async submit(board: string, input: SubmitScoreInput): Promise<SubmitScoreResult> {
    if (typeof input.score !== 'number' || !Number.isFinite(input.score))
      throw invalidInput('score must be a finite number');
    const { definition, period, name, result, startsPeriod } = await retryOnConflict(async () => {
      const document = await this.#store.get(LEADERBOARD_DEFINITION_COLLECTION, board);
      const known = document === undefined ? BUILT_IN_DEFINITIONS.get(board) : storedDefinition(document);
      const definition = known ?? DEFAULT_DEFINITION;
      const period = periodOf(definition.period, this.#store.now());
      const name = engineBoardName(board, period);
      const startsPeriod = period !== null && (await this.#store.boardInfo(name)) === undefined;
      const ops: CommitOp[] = [];
      if (known === undefined) {
        // Two first writers race to define the board: the loser conflicts and retries as a plain write.
        ops.push({
          op: 'put',
          collection: LEADERBOARD_DEFINITION_COLLECTION,
          key: board,
          value: { ...DEFAULT_DEFINITION },
          mustNotExist: true,
        });
      }
      ops.push({
        op: 'score',
        board: name,
        member: input.member,
        score: input.score,
        mode: definition.operator,
        order: definition.order,
        ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
      });
      const committed = await this.#store.commit(ops);
      return { definition, period, name, startsPeriod, result: committed.results.at(-1) as ScoreResult };
    });
    if (startsPeriod) await this.#prune(board, definition, period as string);
    const entry = await this.#store.boardMember(name, input.member);
    return {
      member: input.member,
      score: result.score,
      rank: entry?.rank ?? null,
      period,
      changed: result.changed,
    };
  }

  /** A page of the board in rank order. `NOT_FOUND` for an undefined board; `INVALID_INPUT` for a bad period. */
  async top(board: string, options: TopOptions = {}): Promise<LeaderboardPage> {
    const { period, name } = await this.#address(board, options.period);
    const [info, entries] = await Promise.all([
      this.#store.boardInfo(name),
      this.#store.boardRange(name, { limit: options.limit, offset: options.offset }),
    ]);
    return { board, period, total: info?.count ?? 0, entries: entries.map(toEntry) };
  }

  /** The member's standing, or `undefined` when it has no score in that period. */
  async member(
    board: string,
    member: string,
    options: MemberOptions = {},
  ): Promise<MemberStanding | undefined> {
    const { period, name } = await this.#address(board, options.period);
    const radius = options.around ?? 0;
    if (radius === 0) {
      // The member alone: its rank read is the whole answer, with no second lookup by position.
      const entry = await this.#store.boardMember(name, member);
      if (entry === undefined) return undefined;
      const self = toEntry(entry);
      return { ...self, period, around: [self] };
    }
    const around = await this.#store.boardAround(name, member, radius);
    const self = around.find((entry) => entry.member === member);
    if (self === undefined) return undefined;
    return { ...toEntry(self), period, around: around.map(toEntry) };
  }

  /** Removes the member from the period (default the current one); false when it was not there. */
  async removeMember(board: string, member: string, options: PeriodOption = {}): Promise<boolean> {
    const { name } = await this.#address(board, options.period);
    const { results } = await this.#store.commit([{ op: 'removeMember', board: name, member }]);
    return results[0]?.op === 'removeMember' && results[0].deleted;
  }

  async #definition(board: string): Promise<LeaderboardDefinition | undefined> {
    const document = await this.#store.get(LEADERBOARD_DEFINITION_COLLECTION, board);
    return document === undefined ? BUILT_IN_DEFINITIONS.get(board) : storedDefinition(document);
  }

  /** The engine board a read addresses. */
  async #address(
    board: string,
    requested: string | undefined,
  ): Promise<{ period: string | null; name: string }> {
    const definition = await this.#definition(board);
    if (definition === undefined) throw notFound(`No leaderboard named ${board}`, { board });
    const period = resolvePeriod(definition.period, requested, this.#store.now());
    return { period, name: engineBoardName(board, period) };
  }

  /**
   * Deletes the period boards older than the newest `keepPeriods` up to `current` (which counts
   * even before its first score). Boards for later periods, written by an instance whose clock runs
   * ahead, are left alone. Deleting is idempotent, so racing pruners do no harm.
   */
  async #prune(board: string, definition: LeaderboardDefinition, current: string): Promise<void> {
    if (definition.period === 'none') return;
    const kind = definition.period;
    const keep = definition.keepPeriods ?? DEFAULT_KEEP_PERIODS[kind];
    const prefix = periodBoardPrefix(board);
    const existing = (await this.#store.listBoards(prefix))
      .map((info) => info.board.slice(prefix.length))
      .filter((period) => isPeriodName(kind, period) && period < current);
    const stale = existing
      .sort()
      .reverse()
      .slice(Math.max(0, keep - 1));
    if (stale.length === 0) return;
    await this.#store.commit(
      stale.map((period) => ({ op: 'deleteBoard', board: engineBoardName(board, period) }) as const),
    );
  }
}
