/** Savepoint's library API: open a store, commit ops, read documents, streams and boards. */

export { ManualClock } from './engine/clock.js';
export type { Change, Driver, DriverCapabilities } from './engine/driver.js';
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
export { openSavepoint, Savepoint, type SavepointOptions } from './savepoint.js';
