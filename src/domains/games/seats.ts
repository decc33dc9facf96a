/**
 * A game's seats: reconnect tokens, their rotation, the race between concurrent reconnects, and the
 * rate limit on failed attempts. `Games` wraps these calls (ids checked, idempotency keys applied);
 * this class owns the rules.
 *
 * Records, per seat (`{gameId}/{playerId}`, see `seatKey`):
 * - `game-token`: the token's hash, its expiry, and the hash the last rotation replaced with the
 *   rotation time (the seat race window).
 * - `game-reconnect-failures`: failed attempts in the current window (it expires with the window).
 */
import { outsideKeyScope } from '../../engine/idempotency.js';
import type { Store } from '../../engine/store.js';
import type { CommitOp, JsonValue, StoredDocument } from '../../engine/types.js';
import { invalidInput, isSavepointError, notFound, SavepointError } from '../../errors.js';
import { readEventRange } from './event-range.js';
import {
  FAILURE_COLLECTION,
  type GameRecord,
  gameCompleted,
  isJsonObject,
  type LoadedGame,
  seatKey,
  TOKEN_COLLECTION,
  toGameRecord,
  toIso,
} from './game-record.js';
import type { ConnectionToken, ReconnectInput, ReconnectResult } from './games.types.js';
import {
  hashToken,
  newToken,
  parseTokenRecord,
  sameHash,
  type TokenRecord,
  tokenRecordToJson,
} from './tokens.js';

/** The seat rules' settings, already checked (see `GamesOptions` for what each means). */
export interface SeatRules {
  readonly tokenTtlMs: number;
  /** How long a token's record outlives the token (`expiredTokenRetentionMs`). */
  readonly retentionMs: number;
  readonly maxFailures: number;
  readonly failureWindowMs: number;
  readonly seatRaceWindowMs: number;
}

/** Reads a game's record; `undefined` when there is none. `Games` passes its own, which remembers what it read. */
export type GameLoader = (gameId: string) => Promise<LoadedGame | undefined>;

interface Seat {
  readonly loaded: LoadedGame;
  readonly tokenDocument: StoredDocument;
  readonly token: TokenRecord;
}

const MAX_TOKEN_LENGTH = 256;

const tokenInvalid = (gameId: string, playerId: string): SavepointError =>
  new SavepointError(
    'TOKEN_INVALID',
    `This reconnect token is not valid for player "${playerId}" in game "${gameId}" (unknown, for another seat, or already used). Ask the game server for a new token, or start a new game.`,
    { details: { gameId, playerId } },
  );

const seatTaken = (gameId: string, playerId: string): SavepointError =>
  new SavepointError(
    'SEAT_TAKEN',
    `Another reconnect for player "${playerId}" in game "${gameId}" won the seat first`,
    { details: { gameId, playerId } },
  );

export class GameSeats {
  readonly #store: Store;
  readonly #rules: SeatRules;
  readonly #load: GameLoader;

  constructor(store: Store, rules: SeatRules, load: GameLoader) {
    this.#store = store;
    this.#rules = rules;
    this.#load = load;
  }

  /**
   * Issues a reconnect token for a seated player, replacing the seat's previous token.
   * Errors: `NOT_FOUND`, `FORBIDDEN` (not a player of the game), `GAME_COMPLETED`.
   */
  async issue(gameId: string, playerId: string): Promise<ConnectionToken> {
    const current = await this.#load(gameId);
    if (current === undefined) throw notFound(`Game "${gameId}" does not exist`, { gameId });
    if (current.game.status === 'completed') throw gameCompleted(gameId);
    if (!current.game.players.includes(playerId)) {
      throw new SavepointError('FORBIDDEN', `Player "${playerId}" is not a player of game "${gameId}"`, {
        details: { gameId, playerId },
      });
    }
    const now = this.#store.now();
    const token = newToken();
    const record: TokenRecord = {
      gameId,
      playerId,
      tokenHash: hashToken(token),
      tokenExpiresAt: now + this.#rules.tokenTtlMs,
      issuedAt: now,
      previousHash: null,
      rotatedAt: null,
    };
    await this.#store.commit([this.#putToken(record)]);
    return { token, expiresAt: toIso(record.tokenExpiresAt), playerId };
  }

  /**
   * Checks the token, rotates it and answers the snapshot with the events the player missed. Of
   * concurrent reconnects for one seat exactly one wins, by a conditional commit on the token's
   * record; see `Games.reconnect` for the whole contract.
   */
  async reconnect(gameId: string, input: ReconnectInput): Promise<ReconnectResult> {
    const { playerId, lastEventSeq } = input;
    const seat = await this.#authenticate(gameId, playerId, input.reconnectToken, 'reconnect');
    const { game, document } = seat.loaded;
    if (lastEventSeq !== undefined && lastEventSeq > game.lastSeq) {
      throw invalidInput(
        `lastEventSeq ${lastEventSeq} is beyond the last event of game "${gameId}" (${game.lastSeq})`,
        {
          gameId,
          lastEventSeq,
          lastSeq: game.lastSeq,
        },
      );
    }

    const key = seatKey(gameId, playerId);
    const now = this.#store.now();
    const token = newToken();
    const rotated: TokenRecord = {
      ...seat.token,
      tokenHash: hashToken(token),
      tokenExpiresAt: now + this.#rules.tokenTtlMs,
      issuedAt: now,
      previousHash: seat.token.tokenHash,
      rotatedAt: now,
    };
    // Read before the commit (the range ends at the snapshot's last seq, so nothing is missed), so
    // that the whole answer is known when the token rotates.
    const missedEvents = await readEventRange(this.#store, gameId, lastEventSeq ?? 0, game.lastSeq);
    const answer: ReconnectResult = {
      success: true,
      gameState: toGameRecord(gameId, game, document),
      reconnectedAt: toIso(now),
      missedEvents,
      reconnectToken: token,
      tokenExpiresAt: toIso(rotated.tokenExpiresAt),
    };
    try {
      // Under an idempotency key the answer, new token included, is stored in the rotation's own
      // commit, so a retry gets the same token: the one place a token is kept in clear. It is kept
      // only in the key's record, which only a repeat of this exact request (same game, player and
      // old token) can read, and only until the key expires.
      const result = await this.#store.commit(
        [
          { ...this.#putToken(rotated), expectedVersion: seat.tokenDocument.version },
          { op: 'delete', collection: FAILURE_COLLECTION, key },
        ],
        { answer: () => answer as unknown as JsonValue },
      );
      if (result.replayed === true && result.answer !== undefined)
        return result.answer as unknown as ReconnectResult;
    } catch (error) {
      // Another reconnect (or a new token) changed the seat between our read and our commit.
      if (isSavepointError(error, 'VERSION_CONFLICT')) throw seatTaken(gameId, playerId);
      throw error;
    }
    return answer;
  }

  /** Checks a player's token without rotating it, and answers the game. */
  async verify(gameId: string, playerId: string, token: string): Promise<GameRecord> {
    const seat = await this.#authenticate(gameId, playerId, token, 'verify');
    return toGameRecord(gameId, seat.loaded.game, seat.loaded.document);
  }

  /** Ops that remove every seat record of the game (tokens and failure counters). */
  async deleteOps(gameId: string): Promise<CommitOp[]> {
    const ops: CommitOp[] = [];
    for (const collection of [TOKEN_COLLECTION, FAILURE_COLLECTION]) {
      for (const document of await this.#listSeats(collection, gameId)) {
        ops.push({ op: 'delete', collection, key: document.key });
      }
    }
    return ops;
  }

  /** Ops that make the game's tokens expire no later than `expiresAt`. */
  async expireOps(gameId: string, expiresAt: number): Promise<CommitOp[]> {
    const tokens = await this.#listSeats(TOKEN_COLLECTION, gameId);
    return tokens.map((document) => ({
      op: 'patch',
      collection: TOKEN_COLLECTION,
      key: document.key,
      patch: {},
      expiresAt: Math.min(document.expiresAt ?? expiresAt, expiresAt),
    }));
  }

  /**
   * Runs every check of a token, counting guesses towards the seat's rate limit. For a `reconnect`,
   * the token the seat's last rotation replaced answers `SEAT_TAKEN` within `seatRaceWindowMs` of
   * the rotation (see `GamesOptions.seatRaceWindowMs`); a `verify` is no claim on the seat, so
   * that token is simply spent there.
   */
  async #authenticate(
    gameId: string,
    playerId: string,
    token: unknown,
    purpose: 'reconnect' | 'verify',
  ): Promise<Seat> {
    const key = seatKey(gameId, playerId);
    const failures = await this.#store.get(FAILURE_COLLECTION, key);
    const count = isJsonObject(failures?.value) ? failures.value.failures : 0;
    if (typeof count === 'number' && count >= this.#rules.maxFailures) {
      const retryAfterSeconds = Math.max(
        1,
        Math.ceil(((failures?.expiresAt ?? 0) - this.#store.now()) / 1000),
      );
      throw new SavepointError(
        'RATE_LIMITED',
        `Too many failed reconnects for player "${playerId}" in game "${gameId}"; retry in ${retryAfterSeconds} s`,
        { details: { gameId, playerId, retryAfterSeconds } },
      );
    }
    const [loaded, tokenDocument] = await Promise.all([
      this.#load(gameId),
      this.#store.get(TOKEN_COLLECTION, key),
    ]);
    // An unknown game or seat says as little as a wrong token does, and creates no counter.
    if (loaded === undefined || !loaded.game.players.includes(playerId)) throw tokenInvalid(gameId, playerId);
    if (tokenDocument === undefined || typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
      await this.#countFailure(key);
      throw tokenInvalid(gameId, playerId);
    }
    const record = parseTokenRecord(tokenDocument);
    const presented = hashToken(token);
    if (!sameHash(presented, record.tokenHash)) {
      // The token a rotation just replaced: a concurrent claim that lost the seat, not a guess.
      if (
        purpose === 'reconnect' &&
        record.previousHash !== null &&
        record.rotatedAt !== null &&
        this.#store.now() - record.rotatedAt < this.#rules.seatRaceWindowMs &&
        sameHash(presented, record.previousHash)
      )
        throw seatTaken(gameId, playerId);
      await this.#countFailure(key);
      throw tokenInvalid(gameId, playerId);
    }
    if (loaded.game.status === 'completed') throw gameCompleted(gameId);
    if (record.tokenExpiresAt <= this.#store.now()) {
      throw new SavepointError(
        'TOKEN_EXPIRED',
        `The reconnect token of player "${playerId}" in game "${gameId}" expired at ${toIso(record.tokenExpiresAt)}; ask the game server for a new one`,
        { details: { gameId, playerId, expiredAt: toIso(record.tokenExpiresAt) } },
      );
    }
    return { loaded, tokenDocument, token: record };
  }

  async #countFailure(key: string): Promise<void> {
    // Every failure counts, even under an idempotency key: a keyed retry must not escape the limit.
    await outsideKeyScope(() =>
      this.#store.commit([
        {
          op: 'patch',
          collection: FAILURE_COLLECTION,
          key,
          patch: { $inc: { failures: 1 } },
          upsert: true,
          ttlMs: this.#rules.failureWindowMs,
        },
      ]),
    );
  }

  #putToken(record: TokenRecord): CommitOp & { op: 'put' } {
    return {
      op: 'put',
      collection: TOKEN_COLLECTION,
      key: seatKey(record.gameId, record.playerId),
      value: tokenRecordToJson(record),
      expiresAt: record.tokenExpiresAt + this.#rules.retentionMs,
    };
  }

  /** Every per-seat document of a game in one collection (the `{gameId}/` prefix is exact). */
  #listSeats(collection: string, gameId: string): Promise<StoredDocument[]> {
    return this.#store.listAll(collection, seatKey(gameId, ''));
  }
}
