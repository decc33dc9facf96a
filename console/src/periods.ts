/**
 * Leaderboard period names as the server gives them (UTC): `YYYY-MM-DD`, ISO week `YYYY-Www`,
 * `YYYY-MM`. The console offers the recent ones in the period field.
 */
export type PeriodKind = 'none' | 'daily' | 'weekly' | 'monthly';

const DAY_MS = 86_400_000;
const pad = (value: number): string => String(value).padStart(2, '0');

/** The ISO week name of a UTC time: the week belongs to the year of its Thursday. */
function isoWeekName(time: number): string {
  const date = new Date(time);
  const thursday = new Date(time + (3 - ((date.getUTCDay() + 6) % 7)) * DAY_MS);
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.floor((thursday.getTime() - yearStart) / DAY_MS / 7) + 1;
  return `${thursday.getUTCFullYear()}-W${pad(week)}`;
}

/** The current period and the `count - 1` before it, newest first; none for a board without periods. */
export function recentPeriods(kind: PeriodKind, count: number, now = Date.now()): string[] {
  const names: string[] = [];
  const today = new Date(now);
  for (let back = 0; back < count; back++) {
    if (kind === 'daily') names.push(new Date(now - back * DAY_MS).toISOString().slice(0, 10));
    else if (kind === 'weekly') names.push(isoWeekName(now - back * 7 * DAY_MS));
    else if (kind === 'monthly') {
      const month = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - back, 1));
      names.push(`${month.getUTCFullYear()}-${pad(month.getUTCMonth() + 1)}`);
    }
  }
  return names;
}
