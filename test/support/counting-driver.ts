/** A driver wrapper that counts document reads, per `collection/key`, for tests that bound the reads of a call. */
import type { Driver } from '../../src/engine/driver.js';

export interface ReadCounts {
  /** Reads of `collection/key` so far, single and batched. */
  of(collection: string, key: string): number;
  reset(): void;
}

export function countingDriver(driver: Driver): { driver: Driver; reads: ReadCounts } {
  const counts = new Map<string, number>();
  const count = (collection: string, key: string) => {
    const name = `${collection}/${key}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  const overrides: Partial<Driver> = {
    getDocument: (collection, key, now) => {
      count(collection, key);
      return driver.getDocument(collection, key, now);
    },
    getDocuments: (collection, keys, now) => {
      for (const key of keys) count(collection, key);
      return driver.getDocuments(collection, keys, now);
    },
  };
  // A Proxy, not Object.create: the driver's methods use private fields, so they keep their receiver.
  const wrapped = new Proxy(driver, {
    get(target, property) {
      const override = (overrides as Record<PropertyKey, unknown>)[property];
      if (override !== undefined) return override;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    driver: wrapped,
    reads: { of: (collection, key) => counts.get(`${collection}/${key}`) ?? 0, reset: () => counts.clear() },
  };
}
