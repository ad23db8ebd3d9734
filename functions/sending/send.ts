import type { Clock, Mailer } from '../commons/ports';
import { SENDER_CONCURRENCY } from '../commons/config';
import { logger } from '../commons/logger';
import { errorMessage } from '../commons/errors';
import { personalise, type CompiledMessage } from '../mail/message';
import { UNSUBSCRIBE_URL_PLACEHOLDER } from '../render/types';
import type { Subscriber, SubscriberDirectory, SubscriberStore } from '../subscribers/types';
import type { IssueStore } from './issues';
import { parseSendJob, type SendJob } from './jobs';
import type { SendRateLimiter } from './rate-limit';
import { classifySesError } from './ses-errors';
import { POST_TAG, SUBSCRIBER_TAG, deliveryMessageId, encodeTagValue } from './tags';

export interface SenderPorts {
  issues: IssueStore;
  /** `getMany` (one BatchGetItem per queue message) is used when the directory has it. */
  subscribers: Pick<SubscriberDirectory, 'get'> & Partial<Pick<SubscriberStore, 'getMany'>>;
  /** The recipient's one-click unsubscribe URL (the subscription service's helper). */
  unsubscribeUrl: (subscriberId: string) => string | Promise<string>;
  mailer: Mailer;
  rateLimiter: SendRateLimiter;
  clock: Clock;
}

export interface SenderOptions {
  /** SES calls in flight at once in one sender; with ~50 ms per call, 32 allow ~600/s. */
  concurrency?: number;
  /** Throttled calls retried inside the invocation before the message goes back to the queue. */
  throttleRetries?: number;
  /** First backoff after a throttled call; doubles, with jitter. */
  backoffMs?: number;
  /**
   * Time kept free before the invocation's deadline: no recipient is claimed, and no claimed
   * recipient waits for a rate slot, inside it. Covers one SES call (its timeout is 10 s).
   */
  deadlineReserveMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** One queue message as the sender sees it: the queue's id for it and its job. */
export interface QueuedSendJob {
  messageId: string;
  job: SendJob;
}

export type RecipientOutcome = 'sent' | 'failed' | 'skipped' | 'duplicate' | 'unknown' | 'retry';

export interface BatchResult {
  /** Queue message ids to deliver again (SQS partial batch failure). */
  retryMessageIds: string[];
  counts: Record<RecipientOutcome, number>;
}

const DEFAULTS = { concurrency: SENDER_CONCURRENCY, throttleRetries: 3, backoffMs: 200, deadlineReserveMs: 12_000 };
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Compiled messages kept per warm sender; posts go out one or two at a time. */
const MESSAGE_CACHE_SIZE = 4;

/**
 * Sends queued recipients: re-reads each subscriber, claims the delivery with a conditional
 * write (the exactly-once point), personalises the compiled message, waits for a slot under
 * the shared rate, calls SES, records the outcome. Queue messages with a recipient SES did not
 * take (throttled, 5xx) come back as retries; everything else is settled here.
 */
export class Sender {
  private readonly settings: Required<Omit<SenderOptions, 'sleep'>>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly messages = new Map<string, Promise<CompiledMessage | undefined>>();

  constructor(
    private readonly ports: SenderPorts,
    options: SenderOptions = {},
  ) {
    this.settings = {
      concurrency: Math.max(1, options.concurrency ?? DEFAULTS.concurrency),
      throttleRetries: Math.max(0, options.throttleRetries ?? DEFAULTS.throttleRetries),
      backoffMs: Math.max(1, options.backoffMs ?? DEFAULTS.backoffMs),
      deadlineReserveMs: Math.max(0, options.deadlineReserveMs ?? DEFAULTS.deadlineReserveMs),
    };
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * `deadline` (epoch ms) is when the invocation is killed (a Lambda's remaining time). Work
   * not started well before it goes back to the queue unclaimed: a recipient claimed and then
   * killed while waiting for a rate slot would be reported `unknown` and never sent.
   */
  async sendBatch(batch: QueuedSendJob[], deadline?: number): Promise<BatchResult> {
    const counts: BatchResult['counts'] = { sent: 0, failed: 0, skipped: 0, duplicate: 0, unknown: 0, retry: 0 };
    const retry = new Set<string>();
    const work = batch.flatMap(({ messageId, job }) => job.subscriberIds.map((subscriberId) => ({ messageId, job, subscriberId })));
    // Each queue message's subscribers are re-read together when its first recipient comes up.
    const lookups = new Map<string, Promise<Map<string, Subscriber>>>();
    const subscriberOf = async (item: (typeof work)[number]): Promise<Subscriber | undefined> => {
      const directory = this.ports.subscribers;
      if (directory.getMany === undefined) return directory.get(item.subscriberId);
      let lookup = lookups.get(item.messageId);
      if (lookup === undefined) {
        lookup = directory.getMany(item.job.subscriberIds);
        lookups.set(item.messageId, lookup);
      }
      return (await lookup).get(item.subscriberId);
    };
    const sentLog = new SentLog(this.ports.issues);
    const cutoff = deadline === undefined ? undefined : deadline - this.settings.deadlineReserveMs;
    let next = 0;
    const worker = async () => {
      while (next < work.length) {
        const item = work[next++]!;
        let outcome: RecipientOutcome;
        try {
          outcome = cutoff !== undefined && this.ports.clock.now().getTime() >= cutoff
            ? 'retry'
            : await this.sendOne(item.job.postId, item.subscriberId, () => subscriberOf(item), sentLog, cutoff);
        } catch (error) {
          // The store failed (not SES): nothing was claimed or the claim is released below.
          logger.error('delivery.error', { postId: item.job.postId, subscriberId: item.subscriberId, error: errorMessage(error) });
          outcome = 'retry';
        }
        counts[outcome]++;
        if (outcome === 'retry') retry.add(item.messageId);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, work.length) }, worker));
    logger.info('send.batch.finished', { messages: batch.length, ...counts });
    return { retryMessageIds: [...retry], counts };
  }

  private async sendOne(postId: string, subscriberId: string, readSubscriber: () => Promise<Subscriber | undefined>, sentLog: SentLog, cutoff: number | undefined): Promise<RecipientOutcome> {
    const { issues, clock } = this.ports;
    const subscriber = await readSubscriber();
    if (subscriber === undefined || subscriber.state !== 'active') {
      await issues.recordSkipped(postId, subscriberId, `subscriber ${subscriber?.state ?? 'deleted'}`, clock.now());
      return 'skipped';
    }
    const message = await this.message(postId);
    if (message === undefined) {
      logger.error('delivery.no_message', { postId });
      return 'retry';
    }

    const claimedAt = clock.now();
    const claim = await issues.claimDelivery(postId, subscriberId, claimedAt);
    if (!claim.claimed) return 'duplicate';

    let data: Buffer;
    try {
      const url = await this.ports.unsubscribeUrl(subscriberId);
      const values = Object.fromEntries(message.placeholders.map((placeholder) => [placeholder, placeholder === UNSUBSCRIBE_URL_PLACEHOLDER ? url : '']));
      data = personalise(message, { to: subscriber.email, values, date: clock.now(), messageId: deliveryMessageId(postId, subscriberId) });
    } catch (error) {
      // An address the message cannot carry (the To header is validated): this copy cannot go.
      await issues.markFailed(postId, subscriberId, claim.token, `${(error as { code?: string }).code ?? 'MAIL_INVALID'}: ${errorMessage(error)}`, clock.now());
      return 'failed';
    }

    for (let attempt = 0; ; attempt++) {
      let slotInTime: boolean;
      try {
        slotInTime = await this.acquireBefore(cutoff);
      } catch (error) {
        // Nothing reached SES: give the claim back rather than leave it looking unknown.
        await issues.releaseClaim(postId, subscriberId, claim.token);
        throw error;
      }
      if (!slotInTime) {
        await issues.releaseClaim(postId, subscriberId, claim.token);
        return 'retry';
      }
      try {
        const sesMessageId = await this.ports.mailer.sendRaw({
          to: subscriber.email,
          data,
          tags: { [POST_TAG]: encodeTagValue(postId), [SUBSCRIBER_TAG]: encodeTagValue(subscriberId) },
        });
        try {
          // The worker waits for its record, so copies SES took but nobody recorded never
          // outnumber the concurrency, as with one write per copy.
          await sentLog.record({ postId, subscriberId, claimedAt: claimedAt.toISOString(), sesMessageId, sentAt: clock.now().toISOString() });
        } catch (error) {
          // SES took it; the claim stays, so status reports it as unknown and nothing re-sends it.
          logger.error('delivery.unknown', { postId, subscriberId, reason: `record not written: ${errorMessage(error)}` });
          return 'unknown';
        }
        return 'sent';
      } catch (error) {
        const classified = classifySesError(error);
        if (classified.kind === 'rejected') {
          await issues.markFailed(postId, subscriberId, claim.token, classified.reason, clock.now());
          logger.warn('delivery.failed', { postId, subscriberId, reason: classified.reason });
          return 'failed';
        }
        if (classified.kind === 'ambiguous') {
          // SES may have accepted it: leave the claim, so status reports it as unknown.
          logger.error('delivery.unknown', { postId, subscriberId, reason: classified.reason });
          return 'unknown';
        }
        if (attempt < this.settings.throttleRetries) {
          const backoff = this.settings.backoffMs * 2 ** attempt;
          await this.sleep(backoff / 2 + Math.random() * backoff);
          continue;
        }
        await issues.releaseClaim(postId, subscriberId, claim.token);
        logger.warn('delivery.retry_later', { postId, subscriberId, reason: classified.reason });
        return 'retry';
      }
    }
  }

  /** A rate slot, or false when none comes before the cutoff (the slot is then left unused). */
  private async acquireBefore(cutoff: number | undefined): Promise<boolean> {
    if (cutoff === undefined) {
      await this.ports.rateLimiter.acquire();
      return true;
    }
    const remaining = cutoff - this.ports.clock.now().getTime();
    if (remaining <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), remaining)));
    try {
      return await Promise.race([this.ports.rateLimiter.acquire().then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private message(postId: string): Promise<CompiledMessage | undefined> {
    let cached = this.messages.get(postId);
    if (cached === undefined) {
      cached = this.ports.issues.getMessage(postId);
      cached.catch(() => this.messages.delete(postId));
      this.messages.set(postId, cached);
      if (this.messages.size > MESSAGE_CACHE_SIZE) this.messages.delete(this.messages.keys().next().value!);
    }
    return cached;
  }
}

type SentRecord = Parameters<IssueStore['markSentMany']>[0][number];

/** BatchWriteItem's limit. */
const SENT_RECORDS_PER_WRITE = 25;

/**
 * Group commit of `sent` records: the copies that finish while one BatchWriteItem is in flight
 * go together in the next, so a busy sender writes several recipients' records per call and
 * an idle one still writes each at once.
 */
class SentLog {
  private waiting: { record: SentRecord; settle: (error?: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly issues: Pick<IssueStore, 'markSentMany'>) {}

  record(record: SentRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ record, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, SENT_RECORDS_PER_WRITE);
      try {
        await this.issues.markSentMany(group.map((entry) => entry.record));
        for (const entry of group) entry.settle();
      } catch (error) {
        for (const entry of group) entry.settle(error ?? new Error('sent records not written'));
      }
    }
    this.flushing = false;
  }
}

/** The SQS record fields the sender reads. */
export interface SendQueueRecord {
  messageId: string;
  body: string;
}

/**
 * SQS records to jobs. A body that is not a send job can never succeed: it is logged and
 * dropped rather than redelivered until it reaches the DLQ.
 */
export function jobsFromRecords(records: SendQueueRecord[]): QueuedSendJob[] {
  const jobs: QueuedSendJob[] = [];
  for (const record of records) {
    const job = parseSendJob(record.body);
    if (job === undefined) logger.error('send.message.malformed', { messageId: record.messageId });
    else jobs.push({ messageId: record.messageId, job });
  }
  return jobs;
}

/** SQS partial batch response: only the listed messages come back. */
export interface SendQueueResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The send Lambda's work, shared by the AWS entry and the local queue's consumer. */
export async function handleSendQueueEvent(sender: Sender, event: { Records: SendQueueRecord[] }, deadline?: number): Promise<SendQueueResponse> {
  const result = await sender.sendBatch(jobsFromRecords(event.Records ?? []), deadline);
  return { batchItemFailures: result.retryMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
}
