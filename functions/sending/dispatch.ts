import type { Clock, Queue } from '../commons/ports';
import { logger } from '../commons/logger';
import type { SubscriberDirectory } from '../subscribers/types';
import type { IssueStore } from './issues';
import { QUEUE_BATCH_LIMIT, type DispatchJob, type SendJob } from './jobs';

export interface DispatchPorts {
  issues: IssueStore;
  subscribers: Pick<SubscriberDirectory, 'pageActive'>;
  sendQueue: Queue<SendJob>;
  /** Where the dispatcher asks for its own continuation when its time runs out. */
  dispatchQueue: Queue<DispatchJob>;
  clock: Clock;
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis); none locally. */
  remainingMs?: () => number;
}

export interface DispatchOptions {
  /** Subscribers read per page and checkpointed together. */
  pageSize?: number;
  /** Recipient ids per queue message: one sender invocation's share. */
  recipientsPerMessage?: number;
  /** Stop and hand over when less time than this is left. */
  stopBeforeDeadlineMs?: number;
}

export type DispatchOutcome =
  | { status: 'dispatched' | 'continued'; enqueued: number }
  | { status: 'not-found' | 'not-dispatching' | 'taken-over'; enqueued: number };

/** Recipients per send-queue message; the stack sizes the sender's timeout from it. */
export const RECIPIENTS_PER_MESSAGE = 50;
const DEFAULTS = { pageSize: 500, recipientsPerMessage: RECIPIENTS_PER_MESSAGE, stopBeforeDeadlineMs: 30_000 };

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * Pages through active subscribers from the issue's checkpoint and queues them in batches of
 * ids. The cursor moves with a conditional write after each page is queued, so a dispatcher
 * that dies resumes where the last checkpoint left off; a page queued twice (a crash between
 * queueing and checkpointing, or two dispatchers racing) is harmless because the sender claims
 * each delivery conditionally. Near the deadline it queues its own continuation and returns.
 */
export async function dispatchIssue(ports: DispatchPorts, postId: string, options: DispatchOptions = {}): Promise<DispatchOutcome> {
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

  let cursor = issue.cursor;
  let enqueued = 0;
  logger.info('issue.dispatch.started', { postId, resumed: cursor !== '', alreadyEnqueued: issue.enqueued });
  for (;;) {
    const page = await ports.subscribers.pageActive(cursor === '' ? undefined : cursor, settings.pageSize);
    const ids = page.subscribers.map((subscriber) => subscriber.id);
    const jobs = chunk(ids, settings.recipientsPerMessage).map((subscriberIds) => ({ postId, subscriberIds }));
    for (const group of chunk(jobs, QUEUE_BATCH_LIMIT)) await ports.sendQueue.send(group);

    const moved = await ports.issues.checkpoint(postId, cursor, page.cursor, ids.length, ports.clock.now());
    if (!moved) {
      // Another dispatcher checkpointed this page first; it owns the rest of the post.
      logger.info('issue.dispatch.taken_over', { postId });
      return { status: 'taken-over', enqueued };
    }
    enqueued += ids.length;
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
