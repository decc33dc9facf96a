import * as vitest from 'vitest';
import { runConformance } from '../../src/testing/index.js';
import { testDriver } from '../support/storages.js';

const memoryRedis = await testDriver('memory+redis', 'sp_test_memredis');

vitest.describe.skipIf(!memoryRedis.enabled)('memory+redis', () => {
  runConformance(vitest, memoryRedis.openDriver, { name: 'memory+redis', cleanup: memoryRedis.cleanup });
});
