import { describe } from 'vitest';
import { openRedisLayer } from '../../src/cache/redis/redis-layer.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { Store } from '../../src/engine/store.js';
import { runConformance } from '../conformance/run-conformance.js';
import { redisAvailable, redisUrl, uniqueName } from '../support/services.js';
import { deletePrefix } from './redis-test-support.js';

const available = await redisAvailable();
const prefix = uniqueName('sp_test_memredis');

describe.skipIf(!available)('memory+redis', () => {
  runConformance('memory+redis', {
    open: async ({ clock }) =>
      new Store(await openRedisLayer(await openMemoryDriver(), { url: redisUrl, prefix }), { clock }),
    cleanup: async () => {
      await deletePrefix(prefix);
    },
  });
});
