/**
 * The suite runs under node:test as well as Vitest: `node --test` on node-test-runner.mjs, which
 * imports `savepoint/testing` by the package's name (dist/, built before Vitest runs) and injects
 * node:test's `describe`, `it`, `before` and `after`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The value of a `# <name> <count>` line of node:test's TAP summary. */
function summary(tap: string, name: string): number {
  const line = new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap);
  if (line === null) throw new Error(`no "# ${name}" line in the TAP output:\n${tap.slice(-2000)}`);
  return Number(line[1]);
}

describe('runConformance under node:test', () => {
  it('passes over the memory driver, through the package export, and reports skipped groups', async () => {
    const script = fileURLToPath(new URL('node-test-runner.mjs', import.meta.url));
    const { stdout } = await run(process.execPath, ['--test', '--test-reporter=tap', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(summary(stdout, 'fail')).toBe(0);
    expect(summary(stdout, 'cancelled')).toBe(0);
    // Two runs: the whole suite (69 tests when written) and one without two of its groups.
    expect(summary(stdout, 'pass')).toBeGreaterThan(100);
    expect(summary(stdout, 'tests')).toBe(summary(stdout, 'pass'));
    const skippedGroups = stdout.match(/^ +ok \d+ - .*\(skipped: .* leaves out (\S+)\) # SKIP$/gm) ?? [];
    expect(skippedGroups.map((line) => /leaves out (\S+)\)/.exec(line)?.[1])).toEqual(['properties', 'dump']);
  });
});
