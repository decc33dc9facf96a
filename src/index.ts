/** Savepoint's library API: open a store, commit ops, read documents, streams and boards, and the game modules. */

export type { CatalogKind, CatalogKindInfo, CatalogOverview, SeedReport } from './domains/catalog/catalog.js';
export { applySeed, Catalog, seedCatalogFromDirectory } from './domains/catalog/catalog.js';
export type { GameTracker, TrackedGame } from './domains/games/game-tracker.js';
export type {
  AppendEventsInput,
  AppendEventsResult,
  ConnectionToken,
  GameEvent,
  GameRecord,
  GameStatus,
  GamesOptions,
  KeyOptions,
  PersistInput,
  PersistOptions,
  PersistResult,
  ReconnectInput,
  ReconnectResult,
  WriteOptions,
} from './domains/games/games.js';
export { Games } from './domains/games/games.js';
export { Leaderboards } from './domains/leaderboards/leaderboards.js';
export { type AcquireOptions, type KeepAliveHandle, type Lease, Leases } from './domains/leases/leases.js';
export { Matches, type MatchesOptions } from './domains/matches/matches.js';
export { Rankings, type RankingsOptions } from './domains/rankings/rankings.js';
export { Saves, type SavesOptions } from './domains/saves/saves.js';
export { Sessions } from './domains/sessions/sessions.js';
export { Stats, type StatsOptions } from './domains/stats/stats.js';
export { ManualClock } from './engine/clock.js';
export type { Change, Driver, DriverCapabilities } from './engine/driver.js';
export type { CommitRecord } from './engine/idempotency.js';
export { type RetryOptions, retryOnConflict } from './engine/retry.js';
export {
  type ChangeBatch,
  type ChangeListener,
  type Clock,
  Store,
  type StoreOptions,
} from './engine/store.js';
export type * from './engine/types.js';
export { type ErrorCode, errorCatalog, errorCodes, isSavepointError, SavepointError } from './errors.js';
export { type ModuleOptions, openSavepoint, Savepoint, type SavepointOptions } from './savepoint.js';
