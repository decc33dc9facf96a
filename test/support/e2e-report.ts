/**
 * Figures that end-to-end tests measure but must not assert on (a restart time on a loaded machine
 * is information, not a verdict). A test hands its figure to {@link reportFigure}; the closing-line
 * reporter prints every figure of the run in one "e2e report" block before the totals.
 */
import type { Test } from 'vitest';

/** The `meta` key the reporter reads. */
export const REPORT_META_KEY = 'e2eReport';

declare module 'vitest' {
  interface TaskMeta {
    [REPORT_META_KEY]?: string;
  }
}

export function reportFigure(task: Test, figure: string): void {
  task.meta[REPORT_META_KEY] = figure;
  console.log(figure);
}
