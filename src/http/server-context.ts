/** What the server's own plugins (operations, admin) receive: the Savepoint and the server's settings. */
import type { Config } from '../config.js';
import type { Metrics } from '../http-kit/metrics.js';
import type { Savepoint } from '../savepoint.js';

export interface ServerContext {
  /** The open Savepoint the server serves; its modules are reached through it, never imported. */
  readonly savepoint: Savepoint;
  /** Every setting, validated, with the resolved API key in `apiKey`. */
  readonly config: Config;
  /** This server's metrics registry. */
  readonly metrics: Metrics;
}
