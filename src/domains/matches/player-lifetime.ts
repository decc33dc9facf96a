/**
 * Lifetime player statistics: `lifetime`/{user} holds `totalWins`,
 * `matchesPlayed` and `trophies`. Every change is an atomic `$inc`/`$push` patch with upsert, so
 * concurrent writers never lose an update. Lifetime records never expire.
 */

import type { Store } from '../../engine/store.js';
import { codePointLength } from '../../engine/text.js';
import type { CommitOp, DocumentWriteResult, StoredDocument } from '../../engine/types.js';
import { invalidInput } from '../../errors.js';
import { engineBoardName } from '../leaderboards/board-names.js';
import { LIFETIME_WINS_BOARD } from '../leaderboards/leaderboards.js';
import { LIFETIME_COLLECTION } from './match-keys.js';

export interface Lifetime {
  readonly user: string;
  readonly totalWins: number;
  readonly matchesPlayed: number;
  /** In the order they were awarded. */
  readonly trophies: string[];
}

/** What one completed match adds to one player's lifetime record. */
export interface LifetimeCredit {
  readonly user: string;
  /** True for the match's participants: `matchesPlayed + 1` and a `lifetime-wins` entry. */
  readonly played: boolean;
  readonly wins: number;
  readonly trophies: readonly string[];
}

/** Longest trophy name, in characters. */
export const MAX_TROPHY_LENGTH = 200;

export function assertTrophy(trophy: unknown): asserts trophy is string {
  if (typeof trophy !== 'string' || trophy.length === 0 || codePointLength(trophy) > MAX_TROPHY_LENGTH)
    throw invalidInput(`A trophy must be a string of 1 to ${MAX_TROPHY_LENGTH} characters`);
}

const LIFETIME_WINS = engineBoardName(LIFETIME_WINS_BOARD, null);

function toLifetime(user: string, document: StoredDocument | undefined): Lifetime {
  const value = (document?.value ?? {}) as Partial<Lifetime>;
  return {
    user,
    totalWins: value.totalWins ?? 0,
    matchesPlayed: value.matchesPlayed ?? 0,
    trophies: value.trophies ?? [],
  };
}

/**
 * The ops that credit one player, for the completing commit: a lifetime patch and, for a
 * participant, an `incr` of the `lifetime-wins` board by the same wins (so the board always equals
 * `totalWins`).
 */
export function lifetimeCreditOps(credit: LifetimeCredit): CommitOp[] {
  const played = credit.played ? 1 : 0;
  const ops: CommitOp[] = [
    {
      op: 'patch',
      collection: LIFETIME_COLLECTION,
      key: credit.user,
      upsert: true,
      patch: {
        $set: { user: credit.user },
        $inc: { matchesPlayed: played, totalWins: credit.wins },
        $push: { trophies: { $each: [...credit.trophies] } },
      },
    },
  ];
  if (credit.played) {
    ops.push({
      op: 'score',
      board: LIFETIME_WINS,
      member: credit.user,
      score: credit.wins,
      mode: 'incr',
      order: 'desc',
    });
  }
  return ops;
}

export class PlayerLifetimes {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The player's record; a player with no matches gets zeros and no trophies. */
  async get(user: string): Promise<Lifetime> {
    return toLifetime(user, await this.#store.get(LIFETIME_COLLECTION, user));
  }

  /** Appends a trophy atomically (a `$push`); concurrent appends all land, once each. */
  async addTrophy(user: string, trophy: string): Promise<Lifetime> {
    assertTrophy(trophy);
    const { results } = await this.#store.commit([
      {
        op: 'patch',
        collection: LIFETIME_COLLECTION,
        key: user,
        upsert: true,
        patch: { $set: { user }, $push: { trophies: trophy } },
      },
    ]);
    return toLifetime(user, (results[0] as DocumentWriteResult).document);
  }
}
