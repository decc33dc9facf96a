import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites isolate themselves (own schema, own key prefix, own temp dir), so files may run in parallel.
    pool: 'forks',
    // Two files at a time, whatever the cores: most files spend their time waiting on child
    // processes, PostgreSQL, Redis or timers, so a single worker (Vitest's default on 2 cores)
    // leaves the CPU idle; three PostgreSQL-heavy files side by side exhausted the server's 100
    // connections once (every store pools up to 10).
    maxWorkers: 2,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
