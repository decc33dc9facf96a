import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites isolate themselves (own schema, own key prefix, own temp dir), so files may run in parallel.
    pool: 'forks',
    // One worker more than the cores: most files spend their time waiting on child processes,
    // PostgreSQL, Redis or timers, so the default (cores - 1, a single worker on 2 cores) leaves
    // the CPU idle. On this project's 2-core CI machine that took the suite from 263 s to 194 s.
    maxWorkers: availableParallelism() + 1,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
