/**
 * What is counted, always (with tracking off too): the scopes and counter names every writer
 * and `buildStatsSnapshot` agree on. No name carries anything about one reader.
 */

/** One post's figures. */
export const postScope = (postId: string): string => `post#${postId}`;

/**
 * Unsubscribes through one post's emails, by the reference its links carry
 * (stats/post-reference.ts): the HTTP route knows the reference, not the post id.
 */
export const postReferenceScope = (reference: string): string => `postref#${reference}`;

/** The list on one day, `YYYY-MM-DD` in the site's timezone. */
export const dayScope = (day: string): string => `day#${day}`;

/**
 * The posts that were sent, for `stats` to find the newest: one counter per post named
 * `<sendAt ISO>|<post id>`, added once when dispatch starts the post (its value is not read).
 */
export const POSTS_SCOPE = 'posts';

/** A post's recipients are not a counter: they are its issue's `enqueued` (build-snapshot.ts). */
export const POST_COUNTER = {
  /** Copies SES took. */
  sent: 'sent',
  delivered: 'delivered',
  bouncedPermanent: 'bounced.permanent',
  bouncedTransient: 'bounced.transient',
  complained: 'complained',
  /** Copies SES refused: at the API call, or after accepting them (a Reject event). */
  rejected: 'rejected',
  delayed: 'delayed',
  /** Active readers' unsubscribes through the link in one of this post's emails. */
  unsubscribed: 'unsubscribed',
} as const;

export const DAY_COUNTER = {
  /** Signups stored as pending (form and API; imports are not signups). */
  signups: 'signups',
  confirmations: 'confirmations',
  unsubscribes: 'unsubscribes',
  /** Subscribers suppressed by a permanent bounce, or by a complaint. */
  bounces: 'bounces',
  complaints: 'complaints',
  /** Emails SES took that day: post copies, confirmation, reminder and welcome emails (the rates' denominator). */
  sent: 'sent',
  /**
   * Subscribers who became active (confirmed, or imported with `--confirmed`), and active
   * subscribers who left: what `active` is derived from.
   */
  joined: 'active.joined',
  left: 'active.left',
} as const;

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day of `at` in `timeZone`, as `YYYY-MM-DD`. */
export function dayOf(at: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(at);
}

/** The day before `day` (`YYYY-MM-DD`), by the calendar. */
export function previousDay(day: string): string {
  const date = new Date(`${day}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}

/** A post's entry in POSTS_SCOPE. */
export function postEntry(sendAt: string, postId: string): string {
  return `${sendAt}|${postId}`;
}

export function parsePostEntry(entry: string): { sendAt: string; postId: string } | undefined {
  const bar = entry.indexOf('|');
  if (bar <= 0) return undefined;
  return { sendAt: entry.slice(0, bar), postId: entry.slice(bar + 1) };
}
