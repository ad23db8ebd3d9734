import { randomUUID } from 'node:crypto';
import type { Clock } from '../commons/clock';
import { SENDER_CONCURRENCY } from '../commons/config';
import { errorMessage } from '../commons/errors';
import { logger } from '../commons/logger';
import { countEvents } from '../commons/metrics';
import type { Queue } from '../commons/queue';
import type { SendJob } from '../contract/messages';
import type { Mailer, SendRateLimiter } from '../mail/mailer';
import { type CompiledMessage, isReadableMessage, personalise, valuesForLanguage } from '../mail/message';
import { classifySesError } from '../mail/ses-errors';
import { type RecipientLinks, UNSUBSCRIBE_URL_PLACEHOLDER } from '../render/types';
import { DAY_COUNTER, dayOf, dayScope, POST_COUNTER, postScope } from '../stats/counted';
import type { CounterIncrement, CounterStore } from '../stats/counters';
import { withPostReference } from '../stats/post-reference';
import type { Subscriber, SubscriberDirectory, SubscriberStore } from '../subscribers/types';
import type { Claim, Ledger } from './claims';
import { GroupCommit } from './group-commit';
import type { IssueStore } from './issues';
import { DEAD_LETTERED, parseSendJob, SEND_MAX_RECEIVES } from './jobs';
import { deliveryMessageId, encodeTagValue, POST_TAG, SUBSCRIBER_TAG } from './message-tags';

export interface DeliveryWorkerDependencies {
  issues: IssueStore;
  /** `getMany` (one BatchGetItem per queue message) is used when the directory has it. */
  subscribers: Pick<SubscriberDirectory, 'get'> & Partial<Pick<SubscriberStore, 'getMany'>>;
  /**
   * The recipient's own links by the placeholder each fills (one-click unsubscribe, preferences):
   * the subscription service's helper. A placeholder it does not name is filled with nothing.
   */
  recipientLinks: (subscriberId: string) => RecipientLinks | Promise<RecipientLinks>;
  mailer: Mailer;
  rateLimiter: SendRateLimiter;
  clock: Clock;
  /** Set where SES publishes a Send event for every copy it accepts: in-doubt copies are then decided. */
  sendEvents?: SendEventsResolution;
  /** Where a batch's copies sent and refused are counted, once per batch; without it nothing is. */
  counters?: CounterStore;
  /** The site's time zone, for the day a copy counts on. */
  timeZone?: string;
}

/**
 * How a recipient claimed by a sender that died (or whose SES call ended in doubt) is decided.
 * A Send event records the copy `sent` (events.ts); a claim still without a record once
 * `resendAfterMs` old was never accepted by SES, and is taken over (one conditional write, so
 * of two senders deciding it only one wins) and sent again.
 */
export interface SendEventsResolution {
  /**
   * Age of a claim after which no Send event can still be on its way: longer than a sender
   * lives (the Lambda timeout) plus the time SES, SNS and the ses-events function take.
   */
  resendAfterMs: number;
  /** Where recipients not decidable yet go, delayed until they are (the send queue). */
  followUps: Queue<SendJob>;
  /**
   * Claims taken before this time (epoch ms) belong to senders known to be gone, and their
   * Send events are already recorded: a restarted local stack decides them at once.
   */
  holdersGoneBefore?: number;
}

export interface DeliveryWorkerOptions {
  /**
   * SES calls in flight at once in one sender; with ~50 ms per call, 32 allow ~600/s. Twice as
   * many recipients are worked on at once, so the DynamoDB round trips around each call (claim,
   * record) overlap other recipients' SES calls instead of leaving them idle.
   */
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
  /** Its last receive: if it comes back now it goes to the dead-letter queue. */
  lastReceive?: boolean;
}

type SentRecord = Parameters<IssueStore['markSentMany']>[0][number];

/** `pending`: claimed by a sender that may have died; decided by a follow-up message once it can be. */
export type RecipientOutcome = 'sent' | 'failed' | 'skipped' | 'duplicate' | 'unknown' | 'pending' | 'retry';

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
 * Sends queued recipients: re-reads each subscriber, claims the recipient in their bucket's
 * ledger with a conditional write (the exactly-once point, claims.ts), personalises the
 * compiled message, waits for a slot under the shared rate, calls SES, records the outcome. Queue messages with a recipient SES did not
 * take (throttled, 5xx) come back as retries; everything else is settled here.
 */
export class DeliveryWorker {
  private readonly settings: Required<Omit<DeliveryWorkerOptions, 'sleep'>>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly messages = new Map<string, Promise<CompiledMessage | undefined>>();

  constructor(
    private readonly ports: DeliveryWorkerDependencies,
    options: DeliveryWorkerOptions = {},
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
    const counts: BatchResult['counts'] = {
      sent: 0,
      failed: 0,
      skipped: 0,
      duplicate: 0,
      unknown: 0,
      pending: 0,
      retry: 0,
    };
    const retry = new Set<string>();
    const messages = batch.map((queued) => new QueuedRecipients(queued, this.ports));
    const work = messages.flatMap((recipients) =>
      recipients.job.subscriberIds.map((subscriberId) => ({ recipients, subscriberId })),
    );
    const deadLettered: (typeof work)[number][] = [];
    // The copies that finish while one BatchWriteItem is in flight are recorded together.
    const sentLog = new GroupCommit(SENT_RECORDS_PER_WRITE, async (records: SentRecord[]) => {
      await this.ports.issues.markSentMany(records);
      return records.map(() => undefined);
    });
    const cutoff = deadline === undefined ? undefined : deadline - this.settings.deadlineReserveMs;
    const sesCalls = new Permits(this.settings.concurrency);
    const tally: CounterIncrement[] = [];
    let next = 0;
    const worker = async () => {
      while (next < work.length) {
        const { recipients, subscriberId } = work[next++]!;
        const { postId } = recipients.job;
        let outcome: RecipientOutcome;
        try {
          outcome =
            cutoff !== undefined && this.ports.clock.now().getTime() >= cutoff
              ? 'retry'
              : await this.sendOne(recipients, subscriberId, { sentLog, sesCalls, cutoff, tally });
        } catch (error) {
          // The store failed (not SES): nothing was claimed or the claim is released below.
          logger.error('delivery.error', { postId, subscriberId, error: errorMessage(error) });
          outcome = 'retry';
        }
        counts[outcome]++;
        if (outcome === 'sent') tally.push({ scope: postScope(postId), name: POST_COUNTER.sent });
        if (outcome === 'retry') {
          retry.add(recipients.messageId);
          if (recipients.lastReceive) deadLettered.push({ recipients, subscriberId });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(2 * this.settings.concurrency, work.length) }, worker));
    for (const messageId of await this.queueFollowUps(messages)) retry.add(messageId);
    await this.recordDeadLettered(deadLettered);
    await this.count(tally);
    logger.info('send.batch.finished', { messages: batch.length, ...counts });
    countEvents('sent', counts.sent);
    countEvents('failed', counts.failed);
    countEvents('unknown', counts.unknown);
    return { retryMessageIds: [...retry], counts };
  }

  /** The batch's copies on their posts and today, in one addition (the store merges it: one write per scope). */
  private async count(tally: CounterIncrement[]): Promise<void> {
    const { counters, timeZone, clock } = this.ports;
    if (counters === undefined || tally.length === 0) return;
    const sent = tally.filter((increment) => increment.name === POST_COUNTER.sent).length;
    const day = dayScope(dayOf(clock.now(), timeZone ?? 'UTC'));
    const increments = [...tally, { scope: day, name: DAY_COUNTER.sent, by: sent }];
    try {
      await counters.add(increments);
    } catch (error) {
      // The copies are sent and recorded; failing the batch would not count them either.
      logger.error('counters.lost', { increments: increments.length, error: errorMessage(error) });
    }
  }

  /**
   * Recipients left in doubt go back on the send queue in a message of their own, delayed until
   * they can be decided. Answers the messages whose follow-up could not be queued: they come
   * back whole instead, and their other recipients are found sent.
   */
  private async queueFollowUps(messages: QueuedRecipients[]): Promise<string[]> {
    const failed: string[] = [];
    for (const message of messages) {
      if (message.inDoubt.size === 0 || this.ports.sendEvents === undefined) continue;
      const { postId, bucket, buckets, variant } = message.job;
      const delayMs = Math.max(...message.inDoubt.values()) - this.ports.clock.now().getTime() + FOLLOW_UP_MARGIN_MS;
      try {
        await this.ports.sendEvents.followUps.send(
          [{ postId, bucket, buckets, subscriberIds: [...message.inDoubt.keys()], ...(variant ? { variant } : {}) }],
          { delayMs },
        );
        logger.info('send.follow_up_queued', { postId, bucket, recipients: message.inDoubt.size, delayMs });
      } catch (error) {
        logger.error('send.follow_up_failed', { postId, bucket, error: errorMessage(error) });
        failed.push(message.messageId);
      }
    }
    return failed;
  }

  /**
   * Recipients of a message going to the dead-letter queue are recorded `failed`, so status
   * shows them instead of counting them queued forever, and a redrive of the dead-letter queue
   * still sends them (their record then becomes `sent`). One whose claim is still held (a store
   * error after claiming) is left to status as `sending`, then `unknown`: a redrive would not
   * send it.
   */
  private async recordDeadLettered(
    recipients: { recipients: QueuedRecipients; subscriberId: string }[],
  ): Promise<void> {
    const now = this.ports.clock.now();
    const byMessage = new Map<QueuedRecipients, string[]>();
    for (const { recipients: message, subscriberId } of recipients)
      byMessage.set(message, [...(byMessage.get(message) ?? []), subscriberId]);
    for (const [message, unsent] of byMessage) {
      const { postId } = message.job;
      try {
        const held = await message.heldClaims();
        for (const subscriberId of unsent) {
          if (held.has(subscriberId)) continue;
          await this.ports.issues.recordUnsent(
            postId,
            subscriberId,
            'failed',
            `${DEAD_LETTERED}: not sent in ${SEND_MAX_RECEIVES} deliveries of its queue message; redrive the send dead-letter queue to try again`,
            now,
          );
        }
      } catch (error) {
        logger.error('delivery.dead_letter_record_failed', {
          postId,
          recipients: unsent.length,
          error: errorMessage(error),
        });
      }
    }
    if (recipients.length > 0) logger.warn('send.dead_lettered', { recipients: recipients.length });
  }

  private async sendOne(
    recipients: QueuedRecipients,
    subscriberId: string,
    {
      sentLog,
      sesCalls,
      cutoff,
      tally,
    }: {
      sentLog: GroupCommit<SentRecord, undefined>;
      sesCalls: Permits;
      cutoff: number | undefined;
      tally: CounterIncrement[];
    },
  ): Promise<RecipientOutcome> {
    const { issues, clock } = this.ports;
    const { postId } = recipients.job;
    const subscriber = await recipients.subscriber(subscriberId);
    if (subscriber === undefined || subscriber.state !== 'active') {
      await issues.recordUnsent(
        postId,
        subscriberId,
        'skipped',
        `subscriber ${subscriber?.state ?? 'deleted'}`,
        clock.now(),
      );
      return 'skipped';
    }
    const message = await this.message(postId, recipients.job.variant);
    if (message === undefined || !isReadableMessage(message)) {
      // Before any claim: the message comes back, and a sender that can read it sends it.
      logger.error('delivery.no_message', { postId, format: message?.format });
      return 'retry';
    }

    const answer = await recipients.claim(subscriberId);
    if ('taken' in answer) return 'duplicate';
    if ('decidableAt' in answer) {
      recipients.inDoubt.set(subscriberId, answer.decidableAt);
      return 'pending';
    }
    let { claim } = answer;

    let data: Buffer;
    try {
      // The footer's words in the reader's language, then their own links. The unsubscribe link
      // also names the post (not the reader), so an unsubscribe through it counts on the post.
      const links = await this.ports.recipientLinks(subscriberId);
      const unsubscribe = links[UNSUBSCRIBE_URL_PLACEHOLDER];
      const known: Record<string, string> = {
        ...valuesForLanguage(message.languageValues, subscriber.lang),
        ...links,
        ...(unsubscribe === undefined ? {} : { [UNSUBSCRIBE_URL_PLACEHOLDER]: withPostReference(unsubscribe, postId) }),
      };
      const values = Object.fromEntries(
        message.placeholders.map((placeholder) => [placeholder, known[placeholder] ?? '']),
      );
      data = personalise(message, {
        to: subscriber.email,
        values,
        date: clock.now(),
        messageId: deliveryMessageId(postId, subscriberId),
      });
    } catch (error) {
      // An address the message cannot carry (the To header is validated): this copy cannot go.
      await issues.markFailed(
        postId,
        subscriberId,
        claim.claimedAt,
        `${(error as { code?: string }).code ?? 'MAIL_INVALID'}: ${errorMessage(error)}`,
        clock.now(),
      );
      return 'failed';
    }

    const tags = { [POST_TAG]: encodeTagValue(postId), [SUBSCRIBER_TAG]: encodeTagValue(subscriberId) };
    for (let attempt = 0; ; attempt++) {
      let call: { sesMessageId: string } | { error: unknown } | 'late' | 'taken';
      try {
        // The rate slot is taken holding an SES call permit, so it is used as soon as it comes.
        call = await sesCalls.run(async () => {
          if (!(await this.acquireBefore(cutoff))) return 'late';
          // Another sender may take over a claim past the grace period (SendEventsResolution):
          // one aged half of it waiting for a slot is renewed first, so the SES call and its Send
          // event always have half the grace period before anyone could.
          const refreshed = await recipients.renewIfOld(subscriberId, claim);
          if (refreshed === undefined) return 'taken';
          claim = refreshed;
          try {
            return { sesMessageId: await this.ports.mailer.sendRaw({ to: subscriber.email, data, tags }) };
          } catch (error) {
            return { error };
          }
        });
      } catch (error) {
        // The rate limiter failed and nothing reached SES: give the claim back rather than
        // leave it looking unknown.
        await recipients.release(subscriberId, claim);
        throw error;
      }
      if (call === 'taken') return 'duplicate';
      if (call === 'late') {
        await recipients.release(subscriberId, claim);
        return 'retry';
      }
      if ('sesMessageId' in call) {
        try {
          // The worker waits for its record, so copies SES took but nobody recorded never
          // outnumber the recipients in progress.
          await sentLog.add({
            postId,
            subscriberId,
            claimedAt: claim.claimedAt,
            sesMessageId: call.sesMessageId,
            sentAt: clock.now().toISOString(),
          });
        } catch (error) {
          // SES took it; the claim stays, and its Send event records it (or status reports it unknown).
          logger.error('delivery.unknown', {
            postId,
            subscriberId,
            reason: `record not written: ${errorMessage(error)}`,
          });
          return recipients.leftInDoubt(subscriberId, claim);
        }
        return 'sent';
      }
      const classified = classifySesError(call.error);
      if (classified.kind === 'rejected') {
        await issues.markFailed(postId, subscriberId, claim.claimedAt, classified.reason, clock.now());
        tally.push({ scope: postScope(postId), name: POST_COUNTER.rejected });
        logger.warn('delivery.failed', { postId, subscriberId, reason: classified.reason });
        return 'failed';
      }
      if (classified.kind === 'ambiguous') {
        // SES may have accepted it: leave the claim, to be decided from the Send events.
        logger.error('delivery.unknown', { postId, subscriberId, reason: classified.reason });
        return recipients.leftInDoubt(subscriberId, claim);
      }
      if (attempt < this.settings.throttleRetries) {
        const backoff = this.settings.backoffMs * 2 ** attempt;
        await this.sleep(backoff / 2 + Math.random() * backoff);
        continue;
      }
      await recipients.release(subscriberId, claim);
      logger.warn('delivery.retry_later', { postId, subscriberId, reason: classified.reason });
      return 'retry';
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

  /** The compiled message of a post, or of one variant of a digest. */
  private message(postId: string, variant: string | undefined): Promise<CompiledMessage | undefined> {
    const key = variant === undefined ? postId : `${postId}\u0000${variant}`;
    let cached = this.messages.get(key);
    if (cached === undefined) {
      cached = this.ports.issues.getMessage(postId, variant);
      cached.catch(() => this.messages.delete(key));
      this.messages.set(key, cached);
      if (this.messages.size > MESSAGE_CACHE_SIZE) this.messages.delete(this.messages.keys().next().value!);
    }
    return cached;
  }
}

/** At most `count` callers inside `run` at once; the others wait their turn, first come first served. */
class Permits {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.free++;
    }
  }
}

/** Claims taken in one ledger write at most: a message's recipients (the condition stays ~1.5 KB). */
const CLAIMS_PER_WRITE = 50;
/** Claim writes that lose to another sender's, before the recipients are left for a retry. */
const CLAIM_ATTEMPTS = 5;
/** A follow-up arrives this much after its recipients become decidable (clocks differ a little). */
const FOLLOW_UP_MARGIN_MS = 1_000;

/**
 * What claiming a recipient gave: this sender's claim (`takenOver`: a dead sender's, taken
 * over to send again), someone else's copy (`taken`: sent, being sent, or not decidable from
 * Send events), or a claim of a sender that may have died, decidable at `decidableAt`.
 */
type ClaimAnswer = { claim: Claim; takenOver?: Claim } | { taken: true } | { decidableAt: number };

/**
 * One queue message's recipients while its batch is sent: their subscribers, read together
 * when the first comes up, and their claims, taken by group commit in the bucket's ledger. A
 * recipient is claimed only when a worker is about to send it, so a crash leaves at most the
 * recipients being worked on (twice the SES calls in flight) claimed and unrecorded. With Send
 * events those are decided when a message naming them comes back (SQS redelivers the dead
 * sender's; a restarted local stack re-dispatches); without, they stay `unknown`.
 */
class QueuedRecipients {
  readonly messageId: string;
  readonly job: SendJob;
  readonly lastReceive: boolean;
  private readonly ledger: Ledger;
  private lookup: Promise<Map<string, Subscriber>> | undefined;
  private readonly claims: GroupCommit<string, ClaimAnswer>;
  /** Recipients to decide later, with the time (epoch ms) each becomes decidable. */
  readonly inDoubt = new Map<string, number>();

  constructor(
    queued: QueuedSendJob,
    private readonly ports: Pick<DeliveryWorkerDependencies, 'issues' | 'subscribers' | 'clock' | 'sendEvents'>,
  ) {
    this.messageId = queued.messageId;
    this.job = queued.job;
    this.lastReceive = queued.lastReceive ?? false;
    this.ledger = { postId: queued.job.postId, bucket: queued.job.bucket, buckets: queued.job.buckets };
    this.claims = new GroupCommit(CLAIMS_PER_WRITE, (ids) => this.claimGroup(ids));
  }

  async subscriber(subscriberId: string): Promise<Subscriber | undefined> {
    const directory = this.ports.subscribers;
    if (directory.getMany === undefined) return directory.get(subscriberId);
    this.lookup ??= directory.getMany(this.job.subscriberIds);
    return (await this.lookup).get(subscriberId);
  }

  /** This sender's claim on the recipient, or why it has none. */
  claim(subscriberId: string): Promise<ClaimAnswer> {
    return this.claims.add(subscriberId);
  }

  /**
   * `claim` as it should be when SES is called: renewed (a conditional write on holding it) once
   * it is half the grace period old, or undefined when it was taken over in the meantime.
   */
  async renewIfOld(subscriberId: string, claim: Claim): Promise<Claim | undefined> {
    const resolution = this.ports.sendEvents;
    if (
      resolution === undefined ||
      this.ports.clock.now().getTime() - Date.parse(claim.claimedAt) < resolution.resendAfterMs / 2
    )
      return claim;
    const renewed = this.newClaim();
    return (await this.ports.issues.takeOverClaim(this.ledger, subscriberId, claim, renewed)) ? renewed : undefined;
  }

  /** A copy this sender claimed whose fate SES did not tell it: decided once its events are in. */
  leftInDoubt(subscriberId: string, claim: Claim): 'unknown' {
    const resolution = this.ports.sendEvents;
    if (resolution !== undefined && claim.sendEvents)
      this.inDoubt.set(subscriberId, Date.parse(claim.claimedAt) + resolution.resendAfterMs);
    return 'unknown';
  }

  async release(subscriberId: string, claim: Claim): Promise<void> {
    await this.ports.issues.releaseClaim(this.ledger, subscriberId, claim);
  }

  /** The recipients of this message's bucket claimed by anyone, as the ledger says now. */
  async heldClaims(): Promise<Map<string, Claim>> {
    return this.ports.issues.readClaims(this.ledger);
  }

  private newClaim(): Claim {
    const claim: Claim = { claimedAt: this.ports.clock.now().toISOString(), token: randomUUID() };
    return this.ports.sendEvents === undefined ? claim : { ...claim, sendEvents: true };
  }

  private async claimGroup(ids: string[]): Promise<ClaimAnswer[]> {
    const answers = new Map<string, ClaimAnswer>();
    const held = new Map<string, Claim>();
    let wanted = ids;
    for (let attempt = 0; wanted.length > 0; attempt++) {
      if (attempt === CLAIM_ATTEMPTS)
        throw new Error(
          `claims in bucket ${this.ledger.bucket} of ${this.ledger.postId} kept conflicting with another sender's`,
        );
      const claim = this.newClaim();
      if (await this.ports.issues.claim(this.ledger, wanted, claim)) {
        for (const id of wanted) answers.set(id, { claim });
        break;
      }
      // Some were claimed before (a redelivery, a duplicate message): claim the rest. Claims
      // with this attempt's token are ours: the write went through and the SDK's retry of it,
      // after a lost answer, found them taken.
      const existing = await this.ports.issues.readClaims(this.ledger);
      for (const id of wanted) {
        const found = existing.get(id);
        if (found?.token === claim.token) answers.set(id, { claim });
        else if (found !== undefined) held.set(id, found);
      }
      wanted = wanted.filter((id) => !existing.has(id));
    }
    for (const [id, answer] of await this.decideHeld(held)) answers.set(id, answer);
    return ids.map((id) => answers.get(id)!);
  }

  /**
   * Recipients someone else claimed. With a record (or without Send events to decide by) their
   * copy is not ours to send. Without a record, a claim old enough that its Send event would
   * have been recorded was never accepted by SES: it is taken over and sent again; a younger
   * one is decided later.
   */
  private async decideHeld(held: Map<string, Claim>): Promise<Map<string, ClaimAnswer>> {
    const answers = new Map<string, ClaimAnswer>([...held.keys()].map((id) => [id, { taken: true }]));
    const resolution = this.ports.sendEvents;
    const open = [...held].filter(([, claim]) => resolution !== undefined && claim.sendEvents);
    if (resolution === undefined || open.length === 0) return answers;
    const { issues, clock } = this.ports;
    const recorded = await issues.recordedAmong(
      this.job.postId,
      open.map(([id]) => id),
    );
    const now = clock.now().getTime();
    const takenOver: string[] = [];
    for (const [id, claim] of open) {
      if (recorded.has(id)) continue;
      const claimedAt = Date.parse(claim.claimedAt);
      const holderGone = resolution.holdersGoneBefore !== undefined && claimedAt < resolution.holdersGoneBefore;
      const decidableAt = holderGone ? now : claimedAt + resolution.resendAfterMs;
      if (now < decidableAt) {
        answers.set(id, { decidableAt });
        continue;
      }
      const next = this.newClaim();
      // Lost: another sender took it over first and sends it.
      if (!(await issues.takeOverClaim(this.ledger, id, claim, next))) continue;
      answers.set(id, { claim: next, takenOver: claim });
      takenOver.push(id);
    }
    // A Send event recorded since the first read: SES has that copy after all.
    if (takenOver.length > 0)
      for (const id of await issues.recordedAmong(this.job.postId, takenOver)) answers.set(id, { taken: true });
    for (const id of takenOver) {
      const answer = answers.get(id)!;
      if ('takenOver' in answer)
        logger.warn('delivery.resend', {
          postId: this.job.postId,
          subscriberId: id,
          claimedAt: answer.takenOver!.claimedAt,
        });
    }
    return answers;
  }
}

/** BatchWriteItem's limit. */
const SENT_RECORDS_PER_WRITE = 25;

/** The SQS record fields the sender reads. */
export interface SendQueueRecord {
  messageId: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string };
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
    else
      jobs.push({
        messageId: record.messageId,
        job,
        lastReceive: Number(record.attributes?.ApproximateReceiveCount ?? 0) >= SEND_MAX_RECEIVES,
      });
  }
  return jobs;
}

/** SQS partial batch response: only the listed messages come back. */
export interface SendQueueResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The send Lambda's work, shared by the AWS entry and the local queue's consumer. */
export async function handleSendQueueEvent(
  sender: DeliveryWorker,
  event: { Records: SendQueueRecord[] },
  deadline?: number,
): Promise<SendQueueResponse> {
  const result = await sender.sendBatch(jobsFromRecords(event.Records ?? []), deadline);
  return { batchItemFailures: result.retryMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
}
