import { PushletterError } from '../commons/errors';
import {
  DAY_COUNTER,
  dayOf,
  dayScope,
  POST_COUNTER,
  POSTS_SCOPE,
  parsePostEntry,
  postReferenceScope,
  postScope,
  previousDay,
} from './counted';
import type { CounterStore } from './counters';
import { postReference } from './post-reference';
import { type ListDay, type PostStats, RATE_LIMITS, type StatsSnapshot } from './snapshot';

/** What a post's figures take from its issue record (delivery/issues.ts's `Issue` fits). */
export interface IssueFacts {
  title: string;
  sendAt: string;
  /** Recipients queued by dispatch, counted once per checkpointed page. */
  enqueued: number;
  /** Active subscribers the post was not for, by reason, where dispatch records them. */
  notFor?: Record<string, number>;
}

export interface StatsSources {
  counters: CounterStore;
  issues: { getIssue(postId: string): Promise<IssueFacts | undefined> };
  subscribers: { countActive(): Promise<number> };
  site: { title: string; language?: string; timezone: string };
  tracking?: StatsSnapshot['tracking'];
  opens?: boolean;
  /** A post's clicks (the `tracking` part's counting redirect); absent while tracking is off. */
  clicks?: (postId: string) => Promise<PostStats['clicks']>;
  now?: Date;
}

export interface SnapshotOptions {
  /** One post; without it, the newest `posts`. */
  postId?: string;
  posts?: number;
  /** Days of the list, ending today (the rates are over the last 30 whatever this is). */
  days?: number;
}

/** The post asked for has no issue: it was never published, or the id is mistyped. */
export class PostNotFoundError extends PushletterError {
  constructor(postId: string) {
    super(
      'STATS_POST_NOT_FOUND',
      `no issue for post "${postId}": it has not been published (run \`pushletter publish <post.md>\`), or check the id`,
    );
  }
}

const RATE_DAYS = 30;

/**
 * The counters read back as a StatsSnapshot (`stats --json`, `report`): per post one read of
 * its issue and two of its counters (its own scope, and the unsubscribes its links carried);
 * the list per day, its `active` derived backward from today's active count by each day's
 * joins and departures; the rates over the last 30 days against SES's and Gmail's limits.
 */
export async function buildStatsSnapshot(sources: StatsSources, options: SnapshotOptions = {}): Promise<StatsSnapshot> {
  const now = sources.now ?? new Date();
  const postIds =
    options.postId !== undefined ? [options.postId] : await newestPosts(sources.counters, options.posts ?? 10);
  const [posts, days] = await Promise.all([
    Promise.all(postIds.map((postId) => postStats(sources, postId, options.postId !== undefined))),
    listDays(sources, now, Math.max(options.days ?? RATE_DAYS, RATE_DAYS)),
  ]);
  const rateDays = days.slice(-RATE_DAYS);
  const sent30d = rateDays.reduce((sum, day) => sum + day.sent, 0);
  const bounces = rateDays.reduce((sum, day) => sum + day.bounces, 0);
  const complaints = rateDays.reduce((sum, day) => sum + day.complaints, 0);
  return {
    generatedAt: now.toISOString(),
    site: { title: sources.site.title, language: sources.site.language ?? 'en' },
    tracking: sources.tracking ?? 'off',
    opens: sources.opens ?? false,
    posts: posts.filter((post): post is PostStats => post !== undefined),
    list: days.slice(-(options.days ?? RATE_DAYS)).map(({ sent: _sent, ...day }) => day),
    rates: {
      bounceRate30d: rate(bounces, sent30d),
      complaintRate30d: rate(complaints, sent30d),
      sent30d,
      limits: { ...RATE_LIMITS },
    },
  };
}

/** A post's permanent bounces and complaints per copy sent (0 when nothing was sent). */
export function postRates(post: PostStats): { bounceRate: number; complaintRate: number } {
  return { bounceRate: rate(post.bounced.permanent, post.sent), complaintRate: rate(post.complained, post.sent) };
}

function rate(count: number, of: number): number {
  return of > 0 ? count / of : 0;
}

async function newestPosts(counters: CounterStore, count: number): Promise<string[]> {
  const entries = Object.keys(await counters.read(POSTS_SCOPE))
    .map(parsePostEntry)
    .filter((entry) => entry !== undefined)
    .sort((a, b) => (a.sendAt < b.sendAt ? 1 : a.sendAt > b.sendAt ? -1 : a.postId < b.postId ? 1 : -1));
  return [...new Set(entries.map((entry) => entry.postId))].slice(0, count);
}

async function postStats(sources: StatsSources, postId: string, required: boolean): Promise<PostStats | undefined> {
  const [issue, counted, fromLinks, clicks] = await Promise.all([
    sources.issues.getIssue(postId),
    sources.counters.read(postScope(postId)),
    sources.counters.read(postReferenceScope(postReference(postId))),
    sources.clicks?.(postId),
  ]);
  if (issue === undefined) {
    if (required) throw new PostNotFoundError(postId);
    return undefined;
  }
  const count = (name: string) => counted[name] ?? 0;
  return {
    postId,
    title: issue.title,
    sentAt: issue.sendAt,
    recipients: issue.enqueued,
    notFor: issue.notFor ?? {},
    sent: count(POST_COUNTER.sent),
    delivered: count(POST_COUNTER.delivered),
    bounced: { permanent: count(POST_COUNTER.bouncedPermanent), transient: count(POST_COUNTER.bouncedTransient) },
    complained: count(POST_COUNTER.complained),
    rejected: count(POST_COUNTER.rejected),
    delayed: count(POST_COUNTER.delayed),
    unsubscribed: fromLinks[POST_COUNTER.unsubscribed] ?? 0,
    ...(clicks !== undefined ? { clicks } : {}),
  };
}

/** The last `count` days, oldest first, with what each sent (for the rates). */
async function listDays(sources: StatsSources, now: Date, count: number): Promise<(ListDay & { sent: number })[]> {
  const dates: string[] = [dayOf(now, sources.site.timezone)];
  while (dates.length < count) dates.unshift(previousDay(dates[0]!));
  const [activeNow, read] = await Promise.all([
    sources.subscribers.countActive(),
    Promise.all(dates.map((date) => sources.counters.read(dayScope(date)))),
  ]);
  const days = dates.map((date, index) => {
    const counted = read[index]!;
    const count = (name: string) => counted[name] ?? 0;
    return {
      date,
      signups: count(DAY_COUNTER.signups),
      confirmations: count(DAY_COUNTER.confirmations),
      unsubscribes: count(DAY_COUNTER.unsubscribes),
      bounces: count(DAY_COUNTER.bounces),
      complaints: count(DAY_COUNTER.complaints),
      active: 0,
      sent: count(DAY_COUNTER.sent),
      change: count(DAY_COUNTER.joined) - count(DAY_COUNTER.left),
    };
  });
  // Today ends with today's count; each earlier day ends with the next day's start.
  let active = activeNow;
  for (let index = days.length - 1; index >= 0; index--) {
    days[index]!.active = Math.max(0, active);
    active -= days[index]!.change;
  }
  return days.map(({ change: _change, ...day }) => day);
}
