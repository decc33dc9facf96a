import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { Store } from '../../src/engine/store.js';
import { runConformance } from '../conformance/run-conformance.js';

runConformance('memory', { open: async ({ clock }) => new Store(await openMemoryDriver(), { clock }) });
