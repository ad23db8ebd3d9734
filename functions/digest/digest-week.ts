import { type DigestSchedule, WEEKDAYS } from '../commons/config';
import { calendarParts, zonedTime } from '../render/dates';

/**
 * Which week a digest covers. The digest goes out at a weekday and hour on the site's clock
 * (the slot); the one due at a moment is the latest slot at or before it, and it carries the
 * posts sent up to its slot since the slot a week earlier. Consecutive slots therefore tile
 * time with no gap and no overlap, across daylight-saving changes too (a week is then 167 or
 * 169 hours); across a change of the schedule they do not, so a digest after the first starts
 * where the last one ended instead (weekly-digest.ts).
 */
export interface DigestWeek {
  /** `digest/2026-W49`: the ISO week (of the site's calendar) the digest goes out in. */
  id: string;
  /** Posts sent at or after this instant (the slot a week before; the first digest's start)… */
  since: Date;
  /** …and before this one: the slot itself. */
  until: Date;
}

export const DIGEST_ID_PREFIX = 'digest/';

interface CalendarDay {
  year: number;
  month: number;
  day: number;
}

/** The calendar day `days` after `day` (negative: before). */
function addDays(day: CalendarDay, days: number): CalendarDay {
  const moved = new Date(Date.UTC(day.year, day.month - 1, day.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** ISO 8601 week of a calendar day: `2026-W49` (the week-year can differ from the year near January). */
export function isoWeek(day: CalendarDay): string {
  const date = new Date(Date.UTC(day.year, day.month - 1, day.day));
  const weekday = date.getUTCDay() || 7;
  // The Thursday of the same week decides the week-year.
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The digest due at `now`: its id and the window of send times it covers. */
export function digestWeekAt(now: Date, schedule: DigestSchedule): DigestWeek {
  const local = calendarParts(now, schedule.timeZone);
  const target = WEEKDAYS.indexOf(schedule.day);
  let day = addDays(local, -((local.weekday - target + 7) % 7));
  let until = zonedTime({ ...day, hour: schedule.hour }, schedule.timeZone);
  if (until.getTime() > now.getTime()) {
    day = addDays(day, -7);
    until = zonedTime({ ...day, hour: schedule.hour }, schedule.timeZone);
  }
  const since = zonedTime({ ...addDays(day, -7), hour: schedule.hour }, schedule.timeZone);
  return { id: `${DIGEST_ID_PREFIX}${isoWeek(day)}`, since, until };
}

/** When the next digest after `now` is due. */
export function nextDigestAt(now: Date, schedule: DigestSchedule): Date {
  const { until } = digestWeekAt(now, schedule);
  const local = calendarParts(until, schedule.timeZone);
  return zonedTime({ ...addDays(local, 7), hour: schedule.hour }, schedule.timeZone);
}
