import type { Issue, IssueStore } from './issues';

export interface DeliveryCounts {
  /** Queued by the dispatcher, no record yet. */
  queued: number;
  /** Claimed and being sent right now, or claimed by a sender that stopped and being decided. */
  sending: number;
  sent: number;
  skipped: number;
  failed: number;
  /**
   * Claimed long ago by a sender that stopped, before SES published Send events for our copies:
   * SES may or may not have taken it, and nothing can tell. Never re-sent automatically.
   */
  unknown: number;
  bounced: number;
  complained: number;
  /** Transient bounce events (counted; the address stays active). */
  transientBounces: number;
}

export interface IssueStatus {
  issue: Issue;
  counts: DeliveryCounts;
  /** Emails per second between the first and last send, when at least two were sent. */
  sendRate?: number;
  /** The dispatcher has finished and nothing is queued or being sent. */
  done: boolean;
  /** Reasons of failed deliveries, most common first, for the editor to act on. */
  failures: { reason: string; count: number }[];
  /**
   * Recipients (counted in `sending`) claimed over a minute ago and not recorded: their sender
   * probably stopped. Each is recorded sent when SES's Send event for it comes, or sent again
   * once `by` has passed without one (see SendEventsResolution).
   */
  resolving?: { count: number; by: Date };
}

/**
 * A sender's claim lives at most one invocation, and no Lambda runs longer than 15 minutes;
 * a claim older than that plus a margin belongs to a sender that died after calling SES.
 */
export const UNKNOWN_AFTER_MS = 20 * 60 * 1000;

/** A live sender records a copy seconds after claiming it; a claim older than this is in doubt. */
const IN_DOUBT_AFTER_MS = 60 * 1000;

export async function issueStatus(
  issues: Pick<IssueStore, 'getIssue' | 'deliveries'>,
  postId: string,
  now: Date,
  unknownAfterMs = UNKNOWN_AFTER_MS,
  resendAfterMs = 900 * 1000,
): Promise<IssueStatus | undefined> {
  const issue = await issues.getIssue(postId);
  if (issue === undefined) return undefined;
  const counts: DeliveryCounts = {
    queued: 0,
    sending: 0,
    sent: 0,
    skipped: 0,
    failed: 0,
    unknown: 0,
    bounced: 0,
    complained: 0,
    transientBounces: 0,
  };
  const failures = new Map<string, number>();
  let recorded = 0;
  let firstSent = Infinity;
  let lastSent = -Infinity;
  let resolving = 0;
  let resolvedBy = -Infinity;
  for await (const page of issues.deliveries(postId)) {
    for (const delivery of page) {
      recorded++;
      if (delivery.state === 'sending') {
        const age = now.getTime() - Date.parse(delivery.claimedAt);
        if (delivery.sendEvents) {
          counts.sending++;
          if (age >= IN_DOUBT_AFTER_MS) {
            resolving++;
            resolvedBy = Math.max(resolvedBy, Date.parse(delivery.claimedAt) + resendAfterMs);
          }
        } else if (age >= unknownAfterMs) counts.unknown++;
        else counts.sending++;
      } else {
        counts[delivery.state]++;
      }
      if (delivery.state === 'sent' && delivery.sentAt) {
        const at = Date.parse(delivery.sentAt);
        firstSent = Math.min(firstSent, at);
        lastSent = Math.max(lastSent, at);
      }
      if (delivery.state === 'failed' && delivery.reason) {
        const reason = delivery.reason.split(':')[0]!;
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
      if (delivery.bounce === 'permanent') counts.bounced++;
      if (delivery.complaint) counts.complained++;
      counts.transientBounces += delivery.transientBounces?.length ?? 0;
    }
  }
  // The dispatcher counts each recipient once per checkpointed page; a page queued twice after
  // a crash is still one recipient each, so this never goes negative in practice.
  counts.queued = Math.max(0, issue.enqueued - recorded);
  const sendRate =
    counts.sent >= 2 && lastSent > firstSent ? (counts.sent - 1) / ((lastSent - firstSent) / 1000) : undefined;
  const done =
    issue.state !== 'dispatching' && issue.state !== 'scheduled' && counts.queued === 0 && counts.sending === 0;
  return {
    issue,
    counts,
    sendRate,
    done,
    failures: [...failures].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    resolving: resolving > 0 ? { count: resolving, by: new Date(resolvedBy) } : undefined,
  };
}
