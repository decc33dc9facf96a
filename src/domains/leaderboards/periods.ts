/**
 * Leaderboard periods, all in UTC: a daily period is named `YYYY-MM-DD`, a weekly one by its ISO
 * week `YYYY-Www` (weeks start on Monday; week 1 holds the year's first Thursday, so 2027-01-01
 * belongs to 2026-W53), a monthly one `YYYY-MM`. Names of one kind sort chronologically as strings,
 * which is what pruning relies on.
 */
import { invalidInput } from '../../errors.js';

/** How a board is split in time; `none` keeps one board forever. */
export type PeriodKind = 'none' | 'daily' | 'weekly' | 'monthly';

export const PERIOD_KINDS: readonly PeriodKind[] = ['none', 'daily', 'weekly', 'monthly'];

const DAY_MS = 86_400_000;

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** The ISO week-numbering year and week of a UTC time. */
export function isoWeekOf(time: number): { readonly year: number; readonly week: number } {
  const date = new Date(time);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  // Monday = 0 … Sunday = 6; the week's Thursday decides which year the week belongs to.
  const weekday = (date.getUTCDay() + 6) % 7;
  const thursday = new Date(midnight + (3 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const dayOfYear = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS);
  return { year, week: Math.floor(dayOfYear / 7) + 1 };
}

/** 52 or 53: a year has 53 ISO weeks when December 28 (always in its last week) is in week 53. */
export function isoWeeksInYear(year: number): number {
  return isoWeekOf(Date.UTC(year, 11, 28)).week;
}

/** The name of the period holding `time`; `null` for `none`. */
export function periodOf(kind: PeriodKind, time: number): string | null {
  const date = new Date(time);
  const year = pad(date.getUTCFullYear(), 4);
  const month = pad(date.getUTCMonth() + 1, 2);
  switch (kind) {
    case 'none':
      return null;
    case 'daily':
      return `${year}-${month}-${pad(date.getUTCDate(), 2)}`;
    case 'monthly':
      return `${year}-${month}`;
    case 'weekly': {
      const week = isoWeekOf(time);
      return `${pad(week.year, 4)}-W${pad(week.week, 2)}`;
    }
  }
}

const PERIOD_SHAPES = {
  daily: /^(\d{4})-(\d{2})-(\d{2})$/,
  weekly: /^(\d{4})-W(\d{2})$/,
  monthly: /^(\d{4})-(\d{2})$/,
} as const;

/** True when `name` is a real period of this kind (`2026-02-30` and `2026-W54` are not). */
export function isPeriodName(kind: Exclude<PeriodKind, 'none'>, name: string): boolean {
  const match = PERIOD_SHAPES[kind].exec(name);
  if (match === null) return false;
  const year = Number(match[1]);
  const second = Number(match[2]);
  switch (kind) {
    case 'daily': {
      const day = Number(match[3]);
      const date = new Date(Date.UTC(year, second - 1, day));
      // Date.UTC rolls 2026-02-30 over to March; a real date survives the round trip.
      return date.getUTCFullYear() === year && date.getUTCMonth() === second - 1 && date.getUTCDate() === day;
    }
    case 'weekly':
      return second >= 1 && second <= isoWeeksInYear(year);
    case 'monthly':
      return second >= 1 && second <= 12;
  }
}

/**
 * The period a read or delete addresses: the current one when `requested` is absent, else
 * `requested` once checked. Boards without periods take no period. Throws `INVALID_INPUT`.
 */
export function resolvePeriod(kind: PeriodKind, requested: string | undefined, now: number): string | null {
  if (requested === undefined || requested === '') return periodOf(kind, now);
  if (kind === 'none') throw invalidInput('This leaderboard has no periods; leave out period');
  if (!isPeriodName(kind, requested)) {
    const shape = { daily: 'YYYY-MM-DD', weekly: 'YYYY-Www (ISO week)', monthly: 'YYYY-MM' }[kind];
    throw invalidInput(`period "${requested}" is not a ${kind} period; use ${shape}`);
  }
  return requested;
}
