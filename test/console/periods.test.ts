/** The console's period names agree with the server's, so the offered periods are ones it answers. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recentPeriods } from '../../console/src/periods.js';
import { periodOf } from '../../src/domains/leaderboards/periods.js';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
// 1990-2100, with ISO-week year boundaries (53-week years, weeks straddling New Year) well inside.
const times = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) });

describe('the console period names', () => {
  it('name the same period as the server for any time, and step back one period at a time', () => {
    fc.assert(
      fc.property(times, (now) => {
        const [day, yesterday] = recentPeriods('daily', 2, now);
        expect(day).toBe(periodOf('daily', now));
        expect(yesterday).toBe(periodOf('daily', now - DAY_MS));
        const [week, lastWeek] = recentPeriods('weekly', 2, now);
        expect(week).toBe(periodOf('weekly', now));
        expect(lastWeek).toBe(periodOf('weekly', now - WEEK_MS));
        const [month] = recentPeriods('monthly', 1, now);
        expect(month).toBe(periodOf('monthly', now));
      }),
      { numRuns: 2000 },
    );
  });

  it('go back across a year boundary and offer nothing for a board without periods', () => {
    const now = Date.UTC(2027, 0, 2, 12);
    expect(recentPeriods('monthly', 3, now)).toEqual(['2027-01', '2026-12', '2026-11']);
    expect(recentPeriods('weekly', 2, now)).toEqual(['2026-W53', '2026-W52']);
    expect(recentPeriods('none', 5, now)).toEqual([]);
  });
});
