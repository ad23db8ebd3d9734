import { errorMessage, PushletterError } from '../commons/errors';
import { logger, maskAddress } from '../commons/logger';
import { countEvents } from '../commons/metrics';
import { type BatchResponse, type QueueRecord, settleEachRecord } from '../commons/queue';
import { parseMessage } from '../contract/messages';
import { type SesNotification, sesNotificationSchema, snsEnvelopeSchema } from '../contract/ses-notification';
import type { IssueStore } from '../delivery/issues';
import { decodeTagValue, isProbeId, POST_TAG, PROBE_TAG, SUBSCRIBER_TAG } from '../delivery/message-tags';
import { DAY_COUNTER, dayOf, dayScope, POST_COUNTER, postScope } from '../stats/counted';
import type { CounterIncrement, CounterStore } from '../stats/counters';
import { AddressError } from '../subscribers/address';
import type { Subscriber, SubscriberDirectory } from '../subscribers/types';

/** Records that a `pushletter doctor` probe bounced, for the doctor to find. */
export interface ProbeBounces {
  recordBounce(probeId: string, bounceType: string, now: Date): Promise<void>;
}

export interface SesEventDependencies {
  subscribers: Pick<SubscriberDirectory, 'get' | 'findByEmail' | 'suppress'>;
  issues: Pick<IssueStore, 'recordFeedback' | 'postIdOfTag' | 'recordAccepted'>;
  /** Our configuration set; events from any other one are not ours. */
  configurationSet?: string;
  /** Where bounces of `pushletter doctor` probes are recorded (adapters/dynamodb/probe-store.ts). */
  probes?: ProbeBounces;
  /** Where each event is counted, once; without it nothing is counted. */
  counters?: CounterStore;
  /** The site's time zone: a bounce or complaint counts on the list's day in it. */
  timeZone?: string;
}

export type SesEventOutcome = 'suppressed' | 'counted' | 'recorded' | 'ignored' | 'malformed' | 'probe';

/** The part of an SNS-delivered Lambda event this handler reads. */
export interface SnsEvent {
  Records?: { Sns?: { Message?: string; MessageId?: string } }[];
}

/**
 * SES events per invocation from the events queue (the event source's batch size): enough
 * that a send's Delivery events are counted a hundred at a time, one write per post.
 */
export const SES_EVENTS_PER_BATCH = 100;

/**
 * SES send, bounce, complaint, delivery, reject and delay events. A Send event records the copy
 * it names (by its tags) as sent, so a recipient whose sender died after SES took the copy is
 * not sent it again (SendEventsResolution in send.ts). A permanent bounce or a complaint
 * suppresses the subscriber for good and marks the delivery; a transient bounce, a delivery, a
 * delay or a rejection is noted on the delivery. Every step is idempotent (SNS and SQS deliver
 * at least once) and nothing in an SES payload can make this throw: a malformed event is
 * logged and dropped rather than retried.
 *
 * Counting: an event counts only when its note on the copy's record (or the subscriber's
 * suppression) is new, so an event delivered twice counts once; the increments of every event
 * of one invocation are added together at its end (one write per scope, whatever the number
 * of events: README "Counted once").
 *
 * This entry takes a batch from the events queue (SQS on AWS: SES → SNS → SQS → ses-events),
 * each record's body an SNS notification. Records are handled side by side; one that fails (a
 * store error) comes back alone through the partial batch response, after the others' notes
 * are written and counted.
 */
export async function handleSesEventBatch(
  ports: SesEventDependencies,
  event: { Records: QueueRecord[] },
): Promise<BatchResponse> {
  const counted = new Counted(ports);
  try {
    return await settleEachRecord(
      event,
      async (record) => {
        const envelope = parseMessage(snsEnvelopeSchema, record.body);
        try {
          if (envelope === undefined) throw new SesEventEnvelopeError(record.messageId);
          await handleMessage(ports, envelope.Message, envelope.MessageId, counted);
        } catch (error) {
          logger.error('ses_event.retry', {
            sqsMessageId: record.messageId,
            snsMessageId: envelope?.MessageId,
            code: (error as { code?: unknown })?.code,
            error: errorMessage(error),
          });
          throw error;
        }
      },
      { inParallel: true },
    );
  } finally {
    // Also for the records that failed: the notes they wrote would stop their retry counting them.
    await counted.flush();
  }
}

/**
 * A queue message that is not an SNS notification: the subscription was changed to raw message
 * delivery, or something else writes to the queue. Retried, then parked in the dead-letter
 * queue (and its alarm) to be redriven once the subscription is put back, rather than dropped.
 */
export class SesEventEnvelopeError extends PushletterError {
  constructor(messageId: string) {
    super(
      'SES_EVENT_NOT_SNS',
      `queue message ${messageId} is not an SNS notification: the events topic's subscription to the queue must deliver SNS envelopes (raw message delivery off); redeploy the stack, then redrive the dead-letter queue`,
    );
    this.name = 'SesEventEnvelopeError';
  }
}

/**
 * SNS invoking the function directly, one notification per invocation: how the local stack and
 * the doctor's stand-in deliver events, and how events still in Lambda's retry queue from
 * before the events queue arrive. A store failure throws, for SNS/Lambda to retry the event.
 */
export async function handleSesEvents(ports: SesEventDependencies, event: SnsEvent): Promise<SesEventOutcome[]> {
  const counted = new Counted(ports);
  try {
    const outcomes: SesEventOutcome[] = [];
    for (const record of event?.Records ?? [])
      outcomes.push(...(await handleMessage(ports, record?.Sns?.Message, record?.Sns?.MessageId, counted)));
    return outcomes;
  } finally {
    // Also after a store failure: the notes already written would stop a retry counting them.
    await counted.flush();
  }
}

/** One SES event, the JSON text SNS carries; throws only what a retry can fix (a store failure). */
async function handleMessage(
  ports: SesEventDependencies,
  message: string | undefined,
  snsMessageId: string | undefined,
  counted: Counted,
): Promise<SesEventOutcome[]> {
  let notification: SesNotification;
  try {
    const parsed: unknown = JSON.parse(message ?? '');
    if (parsed === null || typeof parsed !== 'object') throw new Error('not a JSON object');
    notification = sesNotificationSchema.parse(parsed);
  } catch (error) {
    logger.warn('ses_event.malformed', { snsMessageId, error: errorMessage(error) });
    return ['malformed'];
  }
  try {
    return await handleNotification(ports, notification, new Date(), counted);
  } catch (error) {
    // A store failure is worth a retry; a shape we did not expect is not.
    if (error instanceof TypeError) {
      logger.warn('ses_event.malformed', { snsMessageId, error: errorMessage(error) });
      return ['malformed'];
    }
    throw error;
  }
}

function firstTag(notification: SesNotification, name: string): string | undefined {
  const values = notification.mail?.tags?.[name];
  return Array.isArray(values) && typeof values[0] === 'string' ? values[0] : undefined;
}

async function handleNotification(
  ports: SesEventDependencies,
  notification: SesNotification,
  now: Date,
  counted: Counted,
): Promise<SesEventOutcome[]> {
  const type = notification.eventType ?? notification.notificationType;
  const configurationSet = firstTag(notification, 'ses:configuration-set');
  if (
    ports.configurationSet !== undefined &&
    configurationSet !== undefined &&
    configurationSet !== ports.configurationSet
  ) {
    logger.info('ses_event.ignored', { reason: 'foreign configuration set', configurationSet, type });
    return ['ignored'];
  }
  const probeId = firstTag(notification, PROBE_TAG);
  if (probeId !== undefined) return [await handleProbe(ports, probeId, type, notification, now)];
  const postTag = firstTag(notification, POST_TAG);
  const subscriberTag = firstTag(notification, SUBSCRIBER_TAG);
  const postId =
    postTag === undefined ? undefined : (decodeTagValue(postTag) ?? (await postIdForHashedTag(ports, postTag)));
  const taggedSubscriberId = subscriberTag === undefined ? undefined : decodeTagValue(subscriberTag);

  if (type === 'Send') {
    const messageId = notification.mail?.messageId;
    if (postId === undefined || taggedSubscriberId === undefined || typeof messageId !== 'string') {
      logger.info('ses_event.ignored', { reason: 'a send without our post and subscriber tags', type });
      return ['ignored'];
    }
    const timestamp = notification.mail?.timestamp;
    const acceptedAt =
      typeof timestamp === 'string' && !Number.isNaN(Date.parse(timestamp))
        ? new Date(timestamp).toISOString()
        : now.toISOString();
    // Usually the sender recorded it first; this matters when it died before it could.
    return [
      (await ports.issues.recordAccepted(postId, taggedSubscriberId, messageId, acceptedAt)) ? 'recorded' : 'ignored',
    ];
  }

  if (type === 'Bounce') {
    const bounce = notification.bounce;
    const recipients = bounce?.bouncedRecipients;
    if (bounce === undefined || !Array.isArray(recipients)) return malformed(type);
    const permanent = bounce.bounceType === 'Permanent';
    return forEachSubscriber(ports, recipients, taggedSubscriberId, async (subscriber) => {
      if (permanent) {
        await suppressAndCount(ports, counted, { subscriber, postId, now }, 'bounced');
        logger.info('subscriber.bounced', { subscriberId: subscriber.id, postId });
        return 'suppressed';
      }
      const feedbackId = bounce.feedbackId ?? `${notification.mail?.messageId ?? 'unknown'}:${bounce.timestamp ?? ''}`;
      if (
        postId !== undefined &&
        (await ports.issues.recordFeedback(postId, subscriber.id, { kind: 'transient', feedbackId }))
      )
        counted.post(postId, POST_COUNTER.bouncedTransient);
      logger.info('delivery.transient_bounce', { subscriberId: subscriber.id, postId, bounceType: bounce.bounceType });
      return 'counted';
    });
  }

  if (type === 'Complaint') {
    const recipients = notification.complaint?.complainedRecipients;
    if (!Array.isArray(recipients)) return malformed(type);
    return forEachSubscriber(ports, recipients, taggedSubscriberId, async (subscriber) => {
      await suppressAndCount(ports, counted, { subscriber, postId, now }, 'complained');
      logger.info('subscriber.complained', { subscriberId: subscriber.id, postId });
      return 'suppressed';
    });
  }

  const noted = COPY_EVENTS[type ?? ''];
  if (noted !== undefined) {
    // Nothing to do to the subscriber: the copy's tags say which record to note, no lookup.
    if (postId === undefined || taggedSubscriberId === undefined) {
      logger.info('ses_event.ignored', { reason: 'an event without our post and subscriber tags', type });
      return ['ignored'];
    }
    if (!(await ports.issues.recordFeedback(postId, taggedSubscriberId, { kind: noted.kind }))) {
      logger.info('ses_event.ignored', { reason: 'reported before, or a copy without a record', type, postId });
      return ['ignored'];
    }
    counted.post(postId, noted.counter);
    countEvents(noted.metric);
    if (type !== 'Delivery') logger.info('delivery.feedback', { type, postId, subscriberId: taggedSubscriberId });
    return ['counted'];
  }

  logger.info('ses_event.ignored', { reason: 'not an event type pushletter acts on', type });
  return ['ignored'];
}

/**
 * A permanent bounce or a complaint: the subscriber suppressed and the copy noted, each counted
 * only when this event changed it (the list's day; the post).
 */
async function suppressAndCount(
  ports: SesEventDependencies,
  counted: Counted,
  { subscriber, postId, now }: { subscriber: Subscriber; postId: string | undefined; now: Date },
  state: 'bounced' | 'complained',
): Promise<void> {
  const bounced = state === 'bounced';
  const left = await ports.subscribers.suppress(subscriber.id, state, now);
  const first =
    postId !== undefined &&
    (await ports.issues.recordFeedback(postId, subscriber.id, { kind: bounced ? 'bounce' : 'complaint' }));
  counted.suppressed(left, bounced ? DAY_COUNTER.bounces : DAY_COUNTER.complaints, now);
  if (first) counted.post(postId, bounced ? POST_COUNTER.bouncedPermanent : POST_COUNTER.complained);
  if (first || left !== undefined) countEvents(state);
}

/** Events that only note the copy and count it. */
const COPY_EVENTS: Record<
  string,
  { kind: 'delivery' | 'reject' | 'delay'; counter: string; metric: 'delivered' | 'rejected' | 'delayed' } | undefined
> = {
  Delivery: { kind: 'delivery', counter: POST_COUNTER.delivered, metric: 'delivered' },
  Reject: { kind: 'reject', counter: POST_COUNTER.rejected, metric: 'rejected' },
  DeliveryDelay: { kind: 'delay', counter: POST_COUNTER.delayed, metric: 'delayed' },
};

/** The increments of one invocation (every event of a batch), added together when it ends. */
class Counted {
  private readonly increments: CounterIncrement[] = [];

  constructor(private readonly ports: Pick<SesEventDependencies, 'counters' | 'timeZone'>) {}

  post(postId: string, name: string): void {
    this.increments.push({ scope: postScope(postId), name });
  }

  /** A subscriber this event suppressed (`left`: the state they left; undefined: already so). */
  suppressed(left: string | undefined, name: string, now: Date): void {
    if (left === undefined) return;
    const scope = dayScope(dayOf(now, this.ports.timeZone ?? 'UTC'));
    this.increments.push({ scope, name });
    if (left === 'active') this.increments.push({ scope, name: DAY_COUNTER.left });
  }

  async flush(): Promise<void> {
    if (this.ports.counters === undefined || this.increments.length === 0) return;
    try {
      await this.ports.counters.add(this.increments);
    } catch (error) {
      // The notes are written: a retry would not count these again, so failing the event buys
      // nothing. The figures come out short by these, never counted twice.
      logger.error('counters.lost', { increments: this.increments.length, error: errorMessage(error) });
    }
  }
}

/**
 * A doctor probe went to the SES mailbox simulator, never to a reader: its bounce is recorded
 * for the doctor to find and nothing else happens (no subscriber is looked up, suppressed or
 * counted, whatever address the event names).
 */
async function handleProbe(
  ports: SesEventDependencies,
  probeId: string,
  type: string | undefined,
  notification: SesNotification,
  now: Date,
): Promise<SesEventOutcome> {
  if (type !== 'Bounce' || ports.probes === undefined || !isProbeId(probeId)) {
    logger.info('ses_event.probe_ignored', { type });
    return 'probe';
  }
  await ports.probes.recordBounce(probeId, notification.bounce?.bounceType ?? 'unknown', now);
  logger.info('ses_event.probe_bounced', { probeId, bounceType: notification.bounce?.bounceType });
  return 'probe';
}

/** A post whose slug was too long for a tag is tagged with a hash of its id: its issue names the id. */
async function postIdForHashedTag(ports: SesEventDependencies, tag: string): Promise<string | undefined> {
  const postId = await ports.issues.postIdOfTag(tag);
  if (postId === undefined) logger.info('ses_event.unknown_post', { tag });
  return postId;
}

/** Acts on each recipient that is one of our subscribers; the others are ignored. */
async function forEachSubscriber(
  ports: SesEventDependencies,
  recipients: { emailAddress?: string }[],
  taggedId: string | undefined,
  act: (subscriber: Subscriber) => Promise<SesEventOutcome>,
): Promise<SesEventOutcome[]> {
  const outcomes: SesEventOutcome[] = [];
  for (const recipient of recipients) {
    const subscriber = await findSubscriber(ports, recipient?.emailAddress, taggedId);
    outcomes.push(subscriber === undefined ? 'ignored' : await act(subscriber));
  }
  return outcomes;
}

function malformed(type: string): SesEventOutcome[] {
  logger.warn('ses_event.malformed', { type, error: 'missing recipients' });
  return ['malformed'];
}

/**
 * The tag names the subscriber, but only the event's address is SES's word on who bounced:
 * the tagged subscriber counts only if the addresses agree, otherwise look the address up.
 */
async function findSubscriber(
  ports: SesEventDependencies,
  address: unknown,
  taggedId: string | undefined,
): Promise<Subscriber | undefined> {
  if (typeof address !== 'string' || !address.includes('@')) {
    logger.warn('ses_event.ignored', { reason: 'recipient without an address' });
    return undefined;
  }
  const bare = address.replace(/^.*<([^>]+)>.*$/, '$1').trim();
  if (taggedId !== undefined) {
    const tagged = await ports.subscribers.get(taggedId);
    if (tagged !== undefined && tagged.email.toLowerCase() === bare.toLowerCase()) return tagged;
  }
  let found: Subscriber | undefined;
  try {
    found = await ports.subscribers.findByEmail(bare);
  } catch (error) {
    // No subscriber can have an address we would not accept; retrying the event cannot change
    // that. The error's message may quote the address, so only its code is logged.
    if (!(error instanceof AddressError)) throw error;
    logger.warn('ses_event.ignored', { reason: 'invalid address', address: maskAddress(bare), code: error.code });
    return undefined;
  }
  if (found === undefined) logger.info('ses_event.ignored', { reason: 'unknown address', address: maskAddress(bare) });
  return found;
}
