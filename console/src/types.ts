/** The shapes of the API answers the console reads (the server's OpenAPI description has them all). */

export interface DocumentRecord<T = unknown> {
  readonly collection: string;
  readonly key: string;
  readonly value: T;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string | null;
}

export interface DocumentPage<T = unknown> {
  readonly items: DocumentRecord<T>[];
  readonly nextCursor: string | null;
}

/** The value of a `game` document, as the documents API shows it. */
export interface StoredGameValue {
  readonly players: string[];
  readonly phase: string | null;
  readonly status: string;
  readonly lastSeq: number;
}

export interface GameRecord {
  readonly gameId: string;
  readonly state: Record<string, unknown>;
  readonly players: string[];
  readonly phase: string | null;
  readonly status: string;
  readonly version: number;
  readonly persistedAt: string;
  readonly lastSeq: number;
}

export interface GameEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
  readonly at: string;
}

export interface StatsSummary {
  readonly gamesRecorded: number;
  readonly outcomes: Record<string, number>;
  readonly metrics: Record<string, { count: number; mean: number; min: number; max: number; ema: number }>;
  readonly sessions: { created: number; active: number; completed: number };
}

export interface SessionRecord {
  readonly sessionId: string;
  readonly state: unknown;
  readonly options: unknown;
  readonly status: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface BoardDefinition {
  readonly order: 'asc' | 'desc';
  readonly operator: string;
  readonly period: 'none' | 'daily' | 'weekly' | 'monthly';
  readonly keepPeriods?: number;
}

export interface BoardEntry {
  readonly rank: number;
  readonly member: string;
  readonly score: number;
  readonly metadata?: unknown;
}

export interface BoardPage {
  readonly board: string;
  /** `null` for a board without periods. */
  readonly period: string | null;
  readonly total: number;
  readonly entries: BoardEntry[];
}

export interface MemberAround {
  readonly member: string;
  readonly score: number;
  readonly rank: number;
  readonly around: BoardEntry[];
}

export interface MatchRecord {
  readonly matchId: string;
  readonly status: string;
  readonly roundsTotal?: number;
  readonly currentRound?: number;
  readonly createdBy?: string;
  readonly [field: string]: unknown;
}

export interface RoundRecord {
  readonly index: number;
  readonly promptText: string;
  readonly winnerUser: string | null;
  readonly closed: boolean;
  readonly closedAt: string | null;
}

export interface MatchScore {
  readonly rank: number;
  readonly user: string;
  readonly points: number;
  readonly wins: number;
}

export interface Lifetime {
  readonly user: string;
  readonly totalWins: number;
  readonly matchesPlayed: number;
  readonly trophies: string[];
}

export interface RankingEntry {
  readonly stateKey: string;
  readonly move: number;
  readonly value: number;
}

export interface RankingExport {
  readonly version: number;
  readonly exportedAt: string;
  readonly count: number;
  readonly entries: RankingEntry[];
}

export interface CatalogIndex {
  readonly version: string | null;
  readonly kinds: { kind: string; version: string; updatedAt: string; count: number }[];
}

export interface CatalogKind {
  readonly kind: string;
  readonly version: string;
  readonly updatedAt: string;
  readonly data: Record<string, unknown>[];
}

export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly fence: number;
  readonly expiresAt: string;
}

/** The value of a `lease` document: the record outlives the lease to carry its fence forward. */
export interface StoredLease {
  readonly holder: string;
  readonly fence: number;
  readonly expiresAt: number;
  readonly held: boolean;
}

export interface AuditEntry {
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
  readonly at: string;
}

export interface Health {
  readonly status: string;
  readonly driver: string;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly storage: { ok: boolean; pendingWrites: number; lastError?: string; lastErrorAt?: string };
  readonly recovery?: unknown;
}

/** One retained version of a game, as the history lists it. */
export interface GameVersion {
  readonly version: number;
  readonly persistedAt: string;
  readonly lastSeq: number;
  readonly phase: string | null;
  readonly status: string;
}

export interface GameHistory {
  readonly gameId: string;
  readonly versions: GameVersion[];
  readonly nextBefore?: number;
}

export interface RollbackAnswer {
  readonly success: boolean;
  readonly version: number;
  readonly restoredFrom: number;
  readonly persistedAt: string;
  readonly lastSeq: number;
}

export interface ForkAnswer {
  readonly gameId: string;
  readonly version: number;
  readonly forkedFrom: { gameId: string; version: number; lastSeq: number };
}

export interface CatalogVersion {
  readonly version: string;
  readonly updatedAt: string;
  readonly loadedAt: string;
  readonly count: number;
  readonly sha256: string;
  readonly current: boolean;
}

export interface CatalogVersions {
  readonly kind: string;
  readonly versions: CatalogVersion[];
}

export interface CatalogDiff {
  readonly kind: string;
  readonly from: string;
  readonly to: string;
  readonly added: string[];
  readonly removed: string[];
  readonly changed: { id: string; fields: string[] }[];
}
