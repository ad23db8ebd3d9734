import { DynamoIssueStore } from '../adapters/dynamodb/issue-store';
import { ProbeStore } from '../adapters/dynamodb/probe-store';
import { resolveSendRate, SharedRateLimiter } from '../adapters/dynamodb/shared-rate-limiter';
import type { Queue } from '../commons/queue';
import type { DispatchJob, SendJob } from '../contract/messages';
import { DeliveryWorker } from '../delivery/delivery-worker';
import type { DispatchDependencies } from '../delivery/dispatcher';
import type { IssueStore } from '../delivery/issues';
import type { SesEventDependencies } from '../feedback/ses-notifications';
import type { CoreServices } from './core-services';

/**
 * The sending pipeline's wiring, shared by both environments: they differ only in the queues
 * (SQS on AWS, LocalQueue locally) and in whether SES can be asked for the account's rate.
 */
export interface SendingQueues {
  sendQueue: Queue<SendJob>;
  dispatchQueue: Queue<DispatchJob>;
}

export interface SendingServices {
  issues: IssueStore;
  dispatch: DispatchDependencies;
  sender: DeliveryWorker;
  sesEvents: SesEventDependencies;
  /** Emails per second the sender holds to (SES quota, else the configured rate). */
  sendRate: number;
}

export interface SendingOptions {
  /** Ask SES GetSendQuota for the rate (AWS); the local emulator never answers. */
  askQuota: boolean;
  /** SES calls in flight per sender. */
  concurrency?: number;
  /**
   * SES publishes a Send event for every copy it accepts, and they reach `sesEvents`: recipients
   * a dead sender left in doubt are decided from them (see SendEventsResolution).
   * `holdersGoneBefore`: claims older than this process belong to senders that are gone.
   */
  sendEvents?: { holdersGoneBefore?: number };
}

/**
 * The limiter every sender of the account's email shares: one window in the deliveries table,
 * so sends, imports' confirmation emails and any other sender together keep to `rate`.
 */
export function sharedRateLimiter(core: Pick<CoreServices, 'dynamo' | 'resources'>, rate: number): SharedRateLimiter {
  return new SharedRateLimiter({ dynamo: core.dynamo, table: core.resources.deliveriesTable, rate });
}

export async function buildSendingServices(
  core: CoreServices,
  queues: SendingQueues,
  options: SendingOptions,
): Promise<SendingServices> {
  const issues = new DynamoIssueStore(core.dynamo, core.resources);
  const sendRate = await resolveSendRate(options.askQuota ? core.ses : undefined, core.settings.maxSendRate);
  // Built on first use: only the send function (granted the deliveries table) acquires slots.
  let limiter: SharedRateLimiter | undefined;
  const rateLimiter = { acquire: () => (limiter ??= sharedRateLimiter(core, sendRate)).acquire() };
  const sender = new DeliveryWorker(
    {
      issues,
      subscribers: core.subscribers,
      recipientLinks: (subscriberId) => core.subscriptions.recipientLinks(subscriberId),
      mailer: core.mailer,
      rateLimiter,
      clock: core.clock,
      sendEvents: options.sendEvents && {
        resendAfterMs: core.settings.resendAfterSeconds * 1000,
        followUps: queues.sendQueue,
        holdersGoneBefore: options.sendEvents.holdersGoneBefore,
      },
    },
    { concurrency: options.concurrency },
  );
  return {
    issues,
    sendRate,
    sender,
    dispatch: {
      issues,
      subscribers: core.subscribers,
      sendQueue: queues.sendQueue,
      dispatchQueue: queues.dispatchQueue,
      clock: core.clock,
    },
    sesEvents: {
      subscribers: core.subscribers,
      issues,
      configurationSet: core.settings.configurationSet,
      // Named on use, like the rate limiter: dispatch builds these ports without the deliveries table.
      probes: {
        recordBounce: (...bounce) =>
          new ProbeStore(core.dynamo, core.resources.deliveriesTable).recordBounce(...bounce),
      },
    },
  };
}
