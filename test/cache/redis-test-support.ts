/**
 * Helpers for the Redis layer's tests: a private key prefix per suite and its cleanup (SCAN MATCH
 * prefix* + UNLINK, never FLUSHDB: other suites share the server).
 */
import { Redis } from 'ioredis';
import { redisKeys } from '../../src/cache/redis/redis-keys.js';
import type { Change, Driver, ExternalChangeListener } from '../../src/engine/driver.js';
import { redisUrl } from '../support/services.js';

/** A plain client for inspecting Redis from a test; close it with `quit()`. */
export function adminClient(): Redis {
  return new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** Deletes every key under `prefix`; resolves how many there were. */
export async function deletePrefix(prefix: string): Promise<number> {
  const admin = adminClient();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', redisKeys(prefix).everything, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await admin.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    await admin.quit();
  }
}

/** A view of `inner` whose `close` does nothing, so several layers can share one inner driver. */
export function shared(inner: Driver): Driver {
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'close') return async () => {};
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A view of `inner` whose document reads take 0 to `maxMs` ms longer, to widen read/write races. */
export function slowReads(inner: Driver, maxMs: number): Driver {
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'getDocument' || property === 'getDocuments') {
        const read = Reflect.get(target, property, target) as (...args: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          await pause();
          const result = await read.apply(target, args);
          await pause();
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A view of `inner` with an external-change feed the test drives, as PostgreSQL's NOTIFY would. */
export function withFeed(inner: Driver): { driver: Driver; notify: (changes: readonly Change[]) => void } {
  const listeners = new Set<ExternalChangeListener>();
  const driver = new Proxy(inner, {
    get(target, property) {
      if (property === 'onExternalChange') {
        return (listener: ExternalChangeListener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const notify = (changes: readonly Change[]): void => {
    for (const listener of listeners) listener(changes);
  };
  return { driver, notify };
}

/** Kills the layer's connection with `role` (`cmd` or `sub`) from outside, as a network failure would. */
export async function killConnection(prefix: string, role: 'cmd' | 'sub', instanceId: string): Promise<void> {
  const admin = adminClient();
  try {
    const name = `${prefix}:${role}:${instanceId}`;
    const list = await admin.client('LIST');
    const ids = String(list)
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    if (ids.length === 0) throw new Error(`no connection named ${name}`);
    for (const id of ids) await admin.client('KILL', 'ID', id);
  } finally {
    await admin.quit();
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
