/**
 * Reconnect tokens: random secrets handed to players, of which only a SHA-256 hash is stored.
 * A token is bound to one (game, player) seat by the document it lives in, so a token of another
 * game or player simply never matches.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { JsonObject, StoredDocument } from '../../engine/types.js';
import { SavepointError } from '../../errors.js';

/** Bytes of CSPRNG output per token: 256 bits, twice the 128 the contract asks for. */
export const TOKEN_BYTES = 32;

/** A fresh token: {@link TOKEN_BYTES} random bytes, base64url without padding (43 characters). */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** The stored form of a token: SHA-256, base64url. A leaked database therefore leaks no usable token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * Compares two token hashes in constant time. Both are SHA-256 digests of equal length, so the
 * length check leaks nothing about the secret.
 */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'base64url');
  const right = Buffer.from(b, 'base64url');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The value of a `game-token` document (key `{gameId}/{playerId}`). The document outlives the
 * token (`tokenExpiresAt` < document `expiresAt`) so that an expired token can be told from an
 * unknown one.
 */
export interface TokenRecord {
  readonly gameId: string;
  readonly playerId: string;
  /** {@link hashToken} of the current token. */
  readonly tokenHash: string;
  /** Milliseconds since the epoch; the token stops working at this time. */
  readonly tokenExpiresAt: number;
  readonly issuedAt: number;
  /**
   * The hash the last rotation (a successful reconnect) replaced, written in the same conditional
   * commit as the new hash: a reconnect presenting it within `GamesOptions.seatRaceWindowMs` of
   * `rotatedAt` lost a race for the seat (`SEAT_TAKEN`); later it is spent (`TOKEN_INVALID`).
   * `null` for a freshly issued token.
   */
  readonly previousHash: string | null;
  /** When the last rotation happened, in milliseconds since the epoch (the store's clock); `null` if none. */
  readonly rotatedAt: number | null;
}

export function tokenRecordToJson(record: TokenRecord): JsonObject {
  return { ...record };
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Reads a stored token document, or fails with `CORRUPT_DATA` naming the seat. */
export function parseTokenRecord(document: StoredDocument): TokenRecord {
  const value = document.value as Partial<Record<keyof TokenRecord, unknown>> | null;
  const valid =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    isString(value.gameId) &&
    isString(value.playerId) &&
    isString(value.tokenHash) &&
    isTime(value.tokenExpiresAt) &&
    isTime(value.issuedAt) &&
    (value.previousHash === null || isString(value.previousHash)) &&
    (value.rotatedAt === null || isTime(value.rotatedAt));
  if (!valid) {
    throw new SavepointError(
      'CORRUPT_DATA',
      `The stored reconnect token ${document.collection}/${document.key} is damaged; issue a new token for this player`,
      { details: { collection: document.collection, key: document.key } },
    );
  }
  return value as TokenRecord;
}
