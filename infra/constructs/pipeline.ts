import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SENDER_CONCURRENCY } from '../../functions/commons/config';
import { ENV } from '../../functions/contract/env';
import { RECIPIENTS_PER_MESSAGE } from '../../functions/delivery/dispatcher';
import { SEND_MAX_RECEIVES } from '../../functions/delivery/jobs';
import { SES_EVENTS_PER_BATCH } from '../../functions/feedback/ses-notifications';
import type { DeployConfig } from '../config';
import { PushletterFunction } from './function';
import { asyncDeadLetterQueue, WorkQueue } from './queues';
import type { Secrets } from './secrets';
import type { Sending } from './ses';
import type { Tables } from './tables';

/** Variables naming the pipeline's queues, schedules and dispatcher to the functions. */
export const PIPELINE_ENVIRONMENT = {
  ingestQueue: ENV.ingestQueueUrl,
  sendQueue: ENV.sendQueueUrl,
  dispatchFunction: ENV.dispatchFunctionArn,
  scheduleGroup: ENV.scheduleGroup,
  schedulerRole: ENV.schedulerRoleArn,
  sesCallsInFlight: ENV.senderConcurrency,
} as const;

/** Timeouts per function: the queues' visibility timeouts are derived from these. */
export const TIMEOUTS = {
  ingest: Duration.minutes(2),
  dispatch: Duration.minutes(5),
  /** The floor; the sender's timeout grows when a slow SES rate makes one message take longer. */
  send: Duration.minutes(1),
  sesEvents: Duration.seconds(30),
  /** Reads the week's posts and pages the readers once, rendering a variant per distinct set of posts. */
  digest: Duration.minutes(5),
} as const;

/**
 * How long the events queue's source gathers a batch: at a send's rate a batch fills in well
 * under this; when events trickle in (bounces and complaints hours later) it merges what
 * arrives within these seconds into one invocation. Suppressing a bounced reader 5 s later
 * changes nothing; a Send event still lands minutes inside the resend delay (resendAfterSeconds).
 */
export const SES_EVENTS_BATCHING_WINDOW = Duration.seconds(5);
/**
 * Receives of an event before the dead-letter queue: three, 6 × 30 s apart, so a Send event's
 * last try is about 6 minutes after SES published it, inside resendAfterSeconds' 10 minutes.
 */
export const SES_EVENTS_MAX_RECEIVES = 3;

/** Send-queue messages per sender invocation; each carries up to RECIPIENTS_PER_MESSAGE ids. */
export const SEND_BATCH_SIZE = 1;
/**
 * Sends one sender sustains: SENDER_CONCURRENCY (16) calls in flight at ~100 ms per
 * SendRawEmail is ~160/s; plan on 100/s so a slow SES day does not leave the rate unused.
 */
const SENDS_PER_SENDER_PER_SECOND = 100;
/** SQS event sources cannot go below two concurrent invocations. */
const MIN_SENDERS = 2;
const MAX_SENDERS = 200;

/**
 * How many senders may run at once for a given SES rate: enough to reach the rate, few enough
 * that they do not just queue behind the shared rate limiter (each still holds the rate, which
 * is enforced across senders in the deliveries table).
 */
export function senderConcurrency(maxSendRate: number): number {
  return Math.min(MAX_SENDERS, Math.max(MIN_SENDERS, Math.ceil(maxSendRate / SENDS_PER_SENDER_PER_SECOND)));
}

/**
 * Long enough for one message's recipients at this sender's share of the rate, twice over;
 * at the SES sandbox's 1 email/s a 50-recipient message takes 100 s with two senders.
 */
export function senderTimeout(maxSendRate: number): Duration {
  const share = maxSendRate / senderConcurrency(maxSendRate);
  const seconds = Math.ceil((RECIPIENTS_PER_MESSAGE / share) * 2);
  return Duration.seconds(Math.min(900, Math.max(TIMEOUTS.send.toSeconds(), seconds)));
}

/**
 * When a recipient claimed by a sender that died, with no Send event, is sent again: after the
 * sender's longest life plus 10 minutes for SES, SNS, the events queue and the ses-events
 * function (with its retries) to record a Send event; never under 15 minutes.
 */
export function resendAfterSeconds(sendTimeout: Duration): number {
  return Math.max(900, sendTimeout.toSeconds() + 600);
}

export interface PipelineProps {
  config: DeployConfig;
  tables: Tables;
  secrets: Secrets;
  sending: Sending;
  /** Environment every function gets: the settings `readSettings` reads. */
  settings: Record<string, string>;
}

/**
 * From a webhook to the inbox: the ingest queue the webhook fills, the ingest function that
 * fetches and renders a post, the dispatcher that pages subscribers onto the send queue (now,
 * or at the post's date through EventBridge Scheduler), the sender, and the handler of SES
 * bounces and complaints.
 */
export class Pipeline extends Construct {
  readonly ingestQueue: WorkQueue;
  readonly sendQueue: WorkQueue;
  readonly ingest: PushletterFunction;
  readonly dispatch: PushletterFunction;
  readonly send: PushletterFunction;
  readonly sesEvents: PushletterFunction;
  readonly digest: PushletterFunction;
  readonly sesEventsQueue: WorkQueue;
  readonly dispatchDeadLetters: sqs.Queue;
  readonly digestDeadLetters: sqs.Queue;
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  readonly schedulerRole: iam.Role;
  readonly senderConcurrency: number;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const { tables, secrets, sending, settings } = props;
    const stack = Stack.of(this);

    this.ingestQueue = new WorkQueue(this, 'IngestQueue', { consumerTimeout: TIMEOUTS.ingest, maxReceiveCount: 3 });
    this.senderConcurrency = senderConcurrency(props.config.maxSendRate);
    const sendTimeout = senderTimeout(props.config.maxSendRate);
    this.sendQueue = new WorkQueue(this, 'SendQueue', {
      consumerTimeout: sendTimeout,
      maxReceiveCount: SEND_MAX_RECEIVES,
    });

    // The dispatcher is invoked asynchronously (by ingest, by schedules, and by itself to continue
    // a long list near its deadline); events that fail Lambda's retries land here.
    this.dispatchDeadLetters = asyncDeadLetterQueue(this, 'DispatchDeadLetters');
    this.dispatch = new PushletterFunction(this, 'Dispatch', {
      entry: 'dispatch',
      description: 'pushletter: pages active subscribers of a post onto the send queue',
      memorySize: 512,
      timeout: TIMEOUTS.dispatch,
      environment: settings,
      deadLetterQueue: this.dispatchDeadLetters,
    });
    // Counts and pages active subscribers on the index; reads, starts and checkpoints the issue.
    tables.bind(this.dispatch, 'subscribers', { indexes: ['Query'] });
    tables.bind(this.dispatch, 'issues', { items: ['GetItem', 'UpdateItem'] });
    // Lists the post among the sent posts `stats` shows: one addition, when dispatch starts it.
    tables.bind(this.dispatch, 'counters', { items: ['UpdateItem'] });
    secrets.bind(this.dispatch, 'tokenKey');
    this.sendQueue.bindProducer(this.dispatch, PIPELINE_ENVIRONMENT.sendQueue);
    // Continuing itself: in a policy of its own, because the function's default policy cannot
    // name the function (the function depends on that policy).
    new iam.Policy(this, 'DispatchContinues', {
      roles: [this.dispatch.role!],
      statements: [
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.dispatch.functionArn] }),
      ],
    });

    this.send = new PushletterFunction(this, 'Send', {
      entry: 'send',
      description: 'pushletter: sends one batch of recipients a post through SES',
      memorySize: 512,
      timeout: sendTimeout,
      environment: { ...settings, [PIPELINE_ENVIRONMENT.sesCallsInFlight]: String(SENDER_CONCURRENCY) },
    });
    this.send.addEventSource(
      new eventSources.SqsEventSource(this.sendQueue.queue, {
        batchSize: SEND_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: this.senderConcurrency,
      }),
    );
    // Re-reads a message's recipients in one batch and the post's compiled message; claims in
    // ledgers (update, read, release), records outcomes (puts, batches of puts), and shares the
    // send-rate window (read, update).
    tables.bind(this.send, 'subscribers', { items: ['BatchGetItem'] });
    tables.bind(this.send, 'issues', { items: ['GetItem'] });
    tables.bind(this.send, 'deliveries', {
      items: ['GetItem', 'BatchGetItem', 'UpdateItem', 'PutItem', 'BatchWriteItem'],
    });
    // Counts a batch's copies sent and refused (one addition per batch).
    tables.bind(this.send, 'counters', { items: ['UpdateItem'] });
    // Signs each copy's unsubscribe link.
    secrets.bind(this.send, 'tokenKey');
    // Recipients left in doubt by a dead sender come back in a delayed message of their own.
    this.sendQueue.bindProducer(this.send, PIPELINE_ENVIRONMENT.sendQueue);
    sending.grantSend(this.send);
    // The sender holds to the account's SES rate when it can read it (functions/delivery/rate-limit.ts).
    this.send.addToRolePolicy(new iam.PolicyStatement({ actions: ['ses:GetSendQuota'], resources: ['*'] }));
    Validations.of(this.send.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:GetSendQuota reads the account\'s sending quota and supports no resource-level permission (the Service Authorization Reference lists no resource type for it), so IAM requires Resource "*"; the action is read-only and is the only one granted on "*".',
    });

    this.ingest = new PushletterFunction(this, 'Ingest', {
      entry: 'ingest',
      description: 'pushletter: fetches a pushed post from GitHub, renders it and starts its send',
      // Rendering MJML is CPU-bound; Lambda's CPU share grows with memory.
      memorySize: 1024,
      timeout: TIMEOUTS.ingest,
      environment: settings,
    });
    this.ingest.addEventSource(
      new eventSources.SqsEventSource(this.ingestQueue.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );
    // Reads an issue, creates it (and the item that maps a hashed SES tag to its post id).
    tables.bind(this.ingest, 'issues', { items: ['GetItem', 'PutItem'] });
    secrets.bind(this.ingest, 'githubToken');
    // With aggregate tracking ingest signs the post's redirect links with a key derived from it.
    if (props.config.tracking === 'aggregate') secrets.bind(this.ingest, 'tokenKey');
    // Previews of drafts go straight to the editors' addresses, never through the send queue.
    sending.grantSend(this.ingest);
    this.ingest.addEnvironment(PIPELINE_ENVIRONMENT.dispatchFunction, this.dispatch.functionArn);
    this.ingest.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.dispatch.functionArn] }),
    );

    // Future-dated posts: one-time schedules in a group of their own, run by a role that can
    // do nothing but invoke the dispatcher.
    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', {
      name: `${stack.stackName}-posts`.slice(0, 64),
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'pushletter: lets EventBridge Scheduler start the dispatch of a scheduled post',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.dispatch.functionArn] }),
    );
    const schedulesArn = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.name}/*`,
    });
    this.ingest.addEnvironment(PIPELINE_ENVIRONMENT.scheduleGroup, this.scheduleGroup.name!);
    this.ingest.addEnvironment(PIPELINE_ENVIRONMENT.schedulerRole, this.schedulerRole.roleArn);
    Validations.of(this.ingest.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.scheduleGroup.name}/*]`,
      reason:
        "Schedules are named per post at run time, so their names cannot be listed; the wildcard is confined to the stack's own schedule group, and the only role a schedule can be given (iam:PassRole) can only invoke the dispatcher.",
    });
    this.ingest.addToRolePolicy(
      new iam.PolicyStatement({
        // A schedule that already exists (a redelivered push) is left alone, and schedules delete
        // themselves after firing: creating is all ingest does.
        actions: ['scheduler:CreateSchedule'],
        resources: [schedulesArn],
      }),
    );
    this.ingest.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );

    // The weekly digest: a recurring schedule on the site's clock invokes the digest function,
    // which renders the week's variants and starts the dispatcher as ingest does for a post.
    this.digestDeadLetters = asyncDeadLetterQueue(this, 'DigestDeadLetters');
    this.digest = new PushletterFunction(this, 'Digest', {
      entry: 'digest',
      description: "pushletter: builds the weekly digest of the week's posts and starts its dispatch",
      // Rendering MJML is CPU-bound, as in ingest.
      memorySize: 1024,
      timeout: TIMEOUTS.digest,
      environment: settings,
      deadLetterQueue: this.digestDeadLetters,
    });
    // Pages active readers on the index; reads the week's posts (a scan of the small issues
    // table), stores the variants and the digest's issue, fixes its claim buckets.
    tables.bind(this.digest, 'subscribers', { indexes: ['Query'] });
    tables.bind(this.digest, 'issues', { items: ['GetItem', 'Scan', 'PutItem', 'UpdateItem'] });
    // The subscriber store is keyed with the token key, though paging reads no address by key.
    secrets.bind(this.digest, 'tokenKey');
    this.digest.addEnvironment(PIPELINE_ENVIRONMENT.dispatchFunction, this.dispatch.functionArn);
    this.digest.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.dispatch.functionArn] }),
    );
    const digestSchedulerRole = new iam.Role(this, 'DigestSchedulerRole', {
      description: 'pushletter: lets EventBridge Scheduler start the weekly digest',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    digestSchedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.digest.functionArn] }),
    );
    new scheduler.CfnSchedule(this, 'DigestSchedule', {
      description: 'pushletter: the weekly digest, at digestDay and digestHour in the site timezone',
      scheduleExpression: digestCron(props.config.digestDay, props.config.digestHour),
      scheduleExpressionTimezone: props.config.timezone,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.digest.functionArn,
        roleArn: digestSchedulerRole.roleArn,
        input: JSON.stringify({ source: 'pushletter.digest-schedule' }),
        // A failed start is retried for an hour; a retry that finds the week's issue sends nothing again.
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
      },
    });

    // SES → SNS → this queue → ses-events: batches of events instead of one invocation per
    // event, so a send's counters are added a hundred events at a time (README "Counters").
    this.sesEventsQueue = new WorkQueue(this, 'SesEventsQueue', {
      consumerTimeout: TIMEOUTS.sesEvents,
      maxReceiveCount: SES_EVENTS_MAX_RECEIVES,
    });
    this.sesEvents = new PushletterFunction(this, 'SesEvents', {
      entry: 'ses-events',
      description: 'pushletter: records copies SES accepted, and bounced or complained subscribers, from SES events',
      memorySize: 256,
      timeout: TIMEOUTS.sesEvents,
      environment: settings,
    });
    this.sesEvents.addEventSource(
      new eventSources.SqsEventSource(this.sesEventsQueue.queue, {
        batchSize: SES_EVENTS_PER_BATCH,
        maxBatchingWindow: SES_EVENTS_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        // Each sender's ~100 copies a second bring ~200 events (Send, Delivery); a consumer takes
        // about a second for a batch of 100 at worst, so twice as many consumers as senders keep
        // Send events minutes inside the resend delay, and a flood of events cannot take the
        // account's concurrency from the API.
        maxConcurrency: 2 * this.senderConcurrency,
      }),
    );
    // Finds the subscriber (by tagged id, or by the address's keyed id) and suppresses them,
    // marks the delivery, and resolves a hashed post tag with one read of the issues table.
    tables.bind(this.sesEvents, 'subscribers', { items: ['GetItem', 'UpdateItem'] });
    tables.bind(this.sesEvents, 'deliveries', { items: ['UpdateItem'] });
    tables.bind(this.sesEvents, 'issues', { items: ['GetItem'] });
    // Counts each event once on its post and day (first reports only, see feedback/ses-notifications.ts).
    tables.bind(this.sesEvents, 'counters', { items: ['UpdateItem'] });
    // Subscriber ids are keyed hashes of addresses: finding one by address takes the key.
    secrets.bind(this.sesEvents, 'tokenKey');
    // SNS envelopes, not raw messages: the handler reads the SES event from the envelope's
    // Message and logs its SNS message id. The subscription adds the queue policy that lets this
    // topic, and only it, send to the queue.
    sending.eventsTopic.addSubscription(
      new subscriptions.SqsSubscription(this.sesEventsQueue.queue, { rawMessageDelivery: false }),
    );
  }
}

/** EventBridge Scheduler's cron: minute, hour, day of month, month, day of week, year. */
export function digestCron(day: string, hour: number): string {
  return `cron(0 ${hour} ? * ${day.slice(0, 3).toUpperCase()} *)`;
}
