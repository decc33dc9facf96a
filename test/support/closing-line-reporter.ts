import type { Reporter, TestModule } from 'vitest/node';
import { REPORT_META_KEY } from './e2e-report.js';

/**
 * Prints the figures end-to-end tests measured (see `e2e-report.ts`), then one plain "N passed, N
 * failed, N skipped" line at the end of a run, so that any CI log reader, not only Vitest-aware
 * ones, can tell how many tests ran.
 */
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const figures: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
        const figure = test.meta()[REPORT_META_KEY];
        if (figure !== undefined) figures.push(`  ${figure}`);
      }
    }
    if (figures.length > 0) process.stdout.write(`\ne2e report:\n${figures.join('\n')}\n`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
