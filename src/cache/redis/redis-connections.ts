/**
 * The layer's ioredis clients. Every setting serves one rule: a Redis outage must cost a read at
 * most one fast failure, never a wait, and must never fail a read or a commit.
 */
import { Redis } from 'ioredis';

export interface ConnectionSettings {
  readonly url: string;
  /** Shown by `CLIENT LIST`, so operators (and tests) can tell the layer's connections apart. */
  readonly connectionName: string;
  /** A command with no answer after this long fails (and the read goes to the inner driver). */
  readonly commandTimeoutMs: number;
  /** Reconnect backoff: doubles from `minDelayMs` up to `maxDelayMs`, forever. */
  readonly reconnect: { readonly minDelayMs: number; readonly maxDelayMs: number };
  /** Reports each outage once (its first error), not every failed reconnect attempt. */
  readonly report: (error: Error, context: string) => void;
}

/** Opens a client that connects at once and fails fast while disconnected. */
export function connectRedis(settings: ConnectionSettings): Redis {
  const { minDelayMs, maxDelayMs } = settings.reconnect;
  const redis = new Redis(settings.url, {
    connectionName: settings.connectionName,
    lazyConnect: false,
    // Queued commands would wait for a reconnect; failing at once lets the read use the inner driver.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    // The change bus resubscribes itself, so it knows when it may trust its L1 again.
    autoResubscribe: false,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: Math.max(1000, settings.commandTimeoutMs * 4),
    retryStrategy: (attempt) => Math.min(minDelayMs * 2 ** Math.min(attempt - 1, 20), maxDelayMs),
  });
  let down = false;
  const reportOnce = (error: Error): void => {
    if (down) return;
    down = true;
    settings.report(error, `redis connection ${settings.connectionName}`);
  };
  redis.on('error', reportOnce);
  // A connection the server or the network closed emits no error, only a reconnect.
  redis.on('reconnecting', () => reportOnce(new Error('connection lost; reconnecting')));
  redis.on('ready', () => {
    down = false;
  });
  return redis;
}

/** Ends a client: `QUIT` when connected, else a plain disconnect. Never throws. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through: the connection broke while quitting.
    }
  }
  redis.disconnect();
}

/** Resolves `true` once `redis` is ready, `false` at its first error or after `timeoutMs`. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const finish = (ready: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      resolve(ready);
    };
    const onReady = (): void => finish(true);
    const onError = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}

/** Whatever was thrown, as an Error for the `onError` hook. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
