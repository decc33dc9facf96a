/** A driver wrapper for storage-down tests: commits fail with STORAGE_UNAVAILABLE while `outage.down` is set. */
import type { Driver } from '../../src/engine/driver.js';
import { SavepointError } from '../../src/errors.js';

export function flakyDriver(driver: Driver): { driver: Driver; outage: { down: boolean } } {
  const outage = { down: false };
  const overrides: Partial<Driver> = {
    applyBatch: async (batch) => {
      if (outage.down) throw new SavepointError('STORAGE_UNAVAILABLE', 'test: the storage is down');
      return driver.applyBatch(batch);
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
  return { driver: wrapped, outage };
}
