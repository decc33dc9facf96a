import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites isolate themselves (own schema, own key prefix, own temp dir), so files may run in parallel.
    pool: 'forks',
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
