import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites isolate themselves (own schema, own key prefix, own temp dir), so files may run in parallel.
    pool: 'forks',
    // As many workers as cores: most files spend their time waiting on child processes,
    // PostgreSQL, Redis or timers, so the default (cores - 1, a single worker on 2 cores) leaves the
    // CPU idle. Not more: three PostgreSQL-heavy files side by side can exhaust the server's 100
    // connections (every store pools up to 10).
    maxWorkers: Math.max(2, availableParallelism()),
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
