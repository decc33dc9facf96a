/**
 * The stored shapes of matches, rounds and scores, the checks on what callers send, and the views
 * the library and the HTTP API answer with. Times in views are ISO-8601 UTC strings.
 */
import type { JsonObject, JsonValue, StoredDocument } from '../../engine/types.js';
import { invalidInput } from '../../errors.js';

/** A match as written by `put` (status, subreddit, roundsTotal, currentRound, theme, createdBy); other fields are kept as given. */
export interface MatchInput {
  readonly status: string;
  readonly roundsTotal: number;
  readonly createdBy: string;
  readonly subreddit?: string;
  readonly currentRound?: number;
  readonly theme?: string;
  readonly [field: string]: JsonValue | undefined;
}

/** Record metadata shared by matches and rounds. */
export interface RecordMeta {
  /** 1 on creation, +1 on every change. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Set when the match is completed; `null` while it is open. */
  readonly expiresAt: string | null;
}

/** A match: its stored fields plus `matchId` and {@link RecordMeta}. */
export type MatchRecord = MatchInput & RecordMeta & { readonly matchId: string };

/** A time as the caller gave it: an ISO-8601 string or milliseconds since the epoch. */
export type Timestamp = string | number;

export interface RoundInput {
  readonly promptText: string;
  readonly referenceImages?: readonly string[];
  readonly startTs?: Timestamp | null;
  readonly endTs?: Timestamp | null;
}

/** The value of a `round` document. */
export interface StoredRound extends JsonObject {
  matchId: string;
  index: number;
  promptText: string;
  referenceImages: string[];
  startTs: Timestamp | null;
  endTs: Timestamp | null;
  winnerUser: string | null;
  winnerCommentId: string | null;
  closed: boolean;
  /** ISO time the winner was recorded. */
  closedAt: string | null;
}

export type RoundRecord = StoredRound & RecordMeta;

/** A player's totals in one match. */
export interface MatchScore {
  readonly user: string;
  readonly points: number;
  readonly wins: number;
}

export interface RankedScore extends MatchScore {
  /** 1-based, by points (highest first), then the earliest time the points were reached, then user. */
  readonly rank: number;
}

/** Fields the server manages: dropped from a match body, so a client may send back what it read. */
const SERVER_FIELDS = ['matchId', 'version', 'createdAt', 'updatedAt', 'expiresAt', 'expectedVersion'];

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function assertText(value: unknown, what: string, optional: boolean): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'string' || value.length === 0)
    throw invalidInput(`${what} must be a non-empty string`);
}

/** Checks a match body and returns the value to store. */
export function matchValue(input: MatchInput): JsonObject {
  if (!isJsonObject(input)) throw invalidInput('A match must be a JSON object');
  assertText(input.status, 'status', false);
  assertText(input.createdBy, 'createdBy', false);
  assertText(input.subreddit, 'subreddit', true);
  assertText(input.theme, 'theme', true);
  if (!isCount(input.roundsTotal)) throw invalidInput('roundsTotal must be an integer >= 0');
  if (input.currentRound !== undefined && !isCount(input.currentRound))
    throw invalidInput('currentRound must be an integer >= 0');
  const value: JsonObject = { ...input };
  for (const field of SERVER_FIELDS) delete value[field];
  return value;
}

function assertTimestamp(value: unknown, what: string): asserts value is Timestamp | null | undefined {
  if (value === undefined || value === null) return;
  if (
    typeof value === 'number'
      ? Number.isFinite(value)
      : typeof value === 'string' && !Number.isNaN(Date.parse(value))
  )
    return;
  throw invalidInput(`${what} must be an ISO-8601 time or milliseconds since the epoch`);
}

export function assertRoundIndex(index: unknown): asserts index is number {
  if (!isCount(index)) throw invalidInput('A round index must be an integer >= 0');
}

/** Checks a round body and returns the value of a new, open round. */
export function newRound(matchId: string, index: number, input: RoundInput): StoredRound {
  if (!isJsonObject(input)) throw invalidInput('A round must be a JSON object');
  assertText(input.promptText, 'promptText', false);
  const images = input.referenceImages ?? [];
  if (!Array.isArray(images) || !images.every((image) => typeof image === 'string'))
    throw invalidInput('referenceImages must be an array of strings');
  assertTimestamp(input.startTs, 'startTs');
  assertTimestamp(input.endTs, 'endTs');
  return {
    matchId,
    index,
    promptText: input.promptText,
    referenceImages: [...images],
    startTs: input.startTs ?? null,
    endTs: input.endTs ?? null,
    winnerUser: null,
    winnerCommentId: null,
    closed: false,
    closedAt: null,
  };
}

const iso = (time: number): string => new Date(time).toISOString();

export function metaOf(document: StoredDocument): RecordMeta {
  return {
    version: document.version,
    createdAt: iso(document.createdAt),
    updatedAt: iso(document.updatedAt),
    expiresAt: document.expiresAt === null ? null : iso(document.expiresAt),
  };
}

export function toMatchRecord(document: StoredDocument): MatchRecord {
  return { ...(document.value as JsonObject), matchId: document.key, ...metaOf(document) } as MatchRecord;
}

export function toRoundRecord(document: StoredDocument): RoundRecord {
  return { ...(document.value as StoredRound), ...metaOf(document) };
}

/** Totals from a `score` document (whose value is `{ user, points, wins }`). */
export function toMatchScore(document: StoredDocument): MatchScore {
  const value = document.value as Partial<MatchScore>;
  return { user: String(value.user), points: value.points ?? 0, wins: value.wins ?? 0 };
}

export function assertFiniteNumber(value: unknown, what: string): asserts value is number | undefined {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value)))
    throw invalidInput(`${what} must be a finite number`);
}
