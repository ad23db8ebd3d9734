import type { Clock } from '../commons/clock';
import type { Topic } from '../commons/config';
import { errorMessage } from '../commons/errors';
import { logger } from '../commons/logger';
import type { Queue } from '../commons/queue';
import type { DispatchJob, SendJob } from '../contract/messages';
import { POSTS_SCOPE, postEntry } from '../stats/counted';
import type { CounterStore } from '../stats/counters';
import { readersOfPost } from '../subscribers/topics';
import type { Subscriber, SubscriberDirectory } from '../subscribers/types';
import { bucketCountFor, bucketOf } from './claims';
import { digestVariantFor, frequencyAt } from './digest-recipients';
import type { Issue, IssueStore, NotForCounts } from './issues';
import { QUEUE_BATCH_LIMIT } from './jobs';

export interface DispatchDependencies {
  issues: IssueStore;
  subscribers: Pick<SubscriberDirectory, 'pageActive' | 'countActive'>;
  sendQueue: Queue<SendJob>;
  /** Where the dispatcher asks for its own continuation when its time runs out. */
  dispatchQueue: Queue<DispatchJob>;
  clock: Clock;
  /** The topics readers may choose (`Settings.topics`); none: every post is for every reader. */
  topics?: readonly Topic[];
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis); none locally. */
  remainingMs?: () => number;
  /** Where a post is entered among the posts `stats` lists, when its first page is queued. */
  counters?: CounterStore;
}

export interface DispatchOptions {
  /** Subscribers read per page and checkpointed together. */
  pageSize?: number;
  /** Most recipient ids per queue message (a message holds one claim bucket's, or part of one). */
  recipientsPerMessage?: number;
  /** Stop and hand over when less time than this is left. */
  stopBeforeDeadlineMs?: number;
}

export type DispatchOutcome =
  | { status: 'dispatched' | 'continued'; enqueued: number }
  | { status: 'not-found' | 'not-dispatching' | 'taken-over'; enqueued: number };

/**
 * Most recipients per send-queue message; the stack sizes the sender's timeout from it. A claim
 * bucket holds RECIPIENTS_PER_BUCKET (40) on average, so most buckets fit one message.
 */
export const RECIPIENTS_PER_MESSAGE = 50;
const DEFAULTS = { pageSize: 500, recipientsPerMessage: RECIPIENTS_PER_MESSAGE, stopBeforeDeadlineMs: 30_000 };

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** A recipient of a page; `variant` names the digest variant they get (digests only). */
interface PageRecipient {
  id: string;
  variant?: string;
}

/**
 * A page's recipients (in index order) as send jobs: one per claim bucket, split when too long.
 * A digest's readers get different variants: each job holds one variant's readers.
 */
function sendJobs(postId: string, recipients: PageRecipient[], buckets: number, perMessage: number): SendJob[] {
  const byVariant = new Map<string | undefined, string[]>();
  for (const { id, variant } of recipients) byVariant.set(variant, [...(byVariant.get(variant) ?? []), id]);
  const jobs: SendJob[] = [];
  for (const [variant, ids] of byVariant) {
    let start = 0;
    while (start < ids.length) {
      const bucket = bucketOf(ids[start]!, buckets);
      let end = start + 1;
      while (end < ids.length && end - start < perMessage && bucketOf(ids[end]!, buckets) === bucket) end++;
      jobs.push({ postId, bucket, buckets, subscriberIds: ids.slice(start, end), ...(variant ? { variant } : {}) });
      start = end;
    }
  }
  return jobs;
}

/**
 * Who of a page gets the issue, and how many it is not for, by reason. A post: the readers it is
 * for (a reader whose topics it has none of is not one of its readers, whatever their frequency;
 * a reader who took the digest when the post was sent gets it in the weekly digest, never on its
 * own, `frequencyAt`). A digest: its readers, each with their variant (the digest counts no one
 * as not for it).
 */
function recipientsOf(
  issue: Issue,
  page: Subscriber[],
  offered: readonly Topic[],
): { recipients: PageRecipient[]; notFor: NotForCounts } {
  const notFor: NotForCounts = { topics: 0, digest: 0 };
  const digest = issue.digest;
  if (digest !== undefined) {
    const recipients = page.flatMap((subscriber) => {
      const variant = digestVariantFor(subscriber, digest);
      return variant === undefined ? [] : [{ id: subscriber.id, variant }];
    });
    return { recipients, notFor };
  }
  const isFor = readersOfPost(issue.categoriesAndTags ?? [], offered);
  const recipients: PageRecipient[] = [];
  for (const subscriber of page) {
    if (!isFor(subscriber.topics)) notFor.topics++;
    else if (frequencyAt(subscriber, issue.sendAt) === 'digest') notFor.digest++;
    else recipients.push({ id: subscriber.id });
  }
  return { recipients, notFor };
}

/**
 * Pages through active subscribers from the issue's checkpoint and queues them in batches of
 * ids. Readers the post is not for (topics, digest) are never queued or claimed: each page
 * counts them in its checkpoint, so a resumed dispatch counts each of them once. The cursor
 * moves with a conditional write after each page is queued, so a dispatcher that dies
 * resumes where the last checkpoint left off; a page queued twice (a crash between
 * queueing and checkpointing, or two dispatchers racing) is harmless because the sender claims
 * each recipient conditionally, in the ledger of a bucket that depends on the id alone. Near
 * the deadline it queues its own continuation and returns.
 */
export async function dispatchIssue(
  ports: DispatchDependencies,
  postId: string,
  options: DispatchOptions = {},
): Promise<DispatchOutcome> {
  const settings = { ...DEFAULTS, ...options };
  let issue = await ports.issues.getIssue(postId);
  if (issue === undefined) {
    logger.warn('issue.dispatch.not_found', { postId });
    return { status: 'not-found', enqueued: 0 };
  }
  if (issue.state === 'scheduled') {
    // The scheduler (or the local timer) fired: the post's time has come.
    await ports.issues.startScheduled(postId);
    issue = await ports.issues.getIssue(postId);
  }
  if (issue === undefined || issue.state !== 'dispatching') {
    logger.info('issue.dispatch.nothing_to_do', { postId, state: issue?.state });
    return { status: 'not-dispatching', enqueued: 0 };
  }

  // Fixed once per post, before its first page: every later dispatch buckets recipients alike.
  const buckets =
    issue.claimBuckets ??
    (await ports.issues.fixClaimBuckets(postId, bucketCountFor(await ports.subscribers.countActive())));
  let cursor = issue.cursor;
  let enqueued = 0;
  const offered = ports.topics ?? [];
  logger.info('issue.dispatch.started', { postId, resumed: cursor !== '', alreadyEnqueued: issue.enqueued, buckets });
  for (;;) {
    const page = await ports.subscribers.pageActive(cursor === '' ? undefined : cursor, settings.pageSize);
    const { recipients, notFor } = recipientsOf(issue, page.subscribers, offered);
    const jobs = sendJobs(postId, recipients, buckets, settings.recipientsPerMessage);
    for (const group of chunk(jobs, QUEUE_BATCH_LIMIT)) await ports.sendQueue.send(group);

    const moved = await ports.issues.checkpoint(
      postId,
      cursor,
      page.cursor,
      recipients.length,
      ports.clock.now(),
      notFor,
    );
    if (!moved) {
      // Another dispatcher checkpointed this page first; it owns the rest of the post.
      logger.info('issue.dispatch.taken_over', { postId });
      return { status: 'taken-over', enqueued };
    }
    enqueued += recipients.length;
    // Once per post: only one dispatcher moves the cursor from its start. Its recipients are the
    // issue's `enqueued`, already counted once per page by the checkpoint.
    if (cursor === '') await listPost(ports, postId, issue.sendAt);
    if (page.cursor === undefined) {
      logger.info('issue.dispatch.finished', { postId, enqueued });
      return { status: 'dispatched', enqueued };
    }
    cursor = page.cursor;
    if (ports.remainingMs !== undefined && ports.remainingMs() < settings.stopBeforeDeadlineMs) {
      await ports.dispatchQueue.send([{ postId }]);
      logger.info('issue.dispatch.continued', { postId, enqueued });
      return { status: 'continued', enqueued };
    }
  }
}

async function listPost(ports: DispatchDependencies, postId: string, sendAt: string): Promise<void> {
  try {
    await ports.counters?.add([{ scope: POSTS_SCOPE, name: postEntry(sendAt, postId) }]);
  } catch (error) {
    // The send goes on; only `stats` without a post name would miss it (`stats <post>` finds it).
    logger.error('counters.lost', { postId, error: errorMessage(error) });
  }
}
