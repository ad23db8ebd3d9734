import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSendQuotaCommand, type SESClient } from '@aws-sdk/client-ses';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { logger } from '../../commons/logger';
import type { SendRateLimiter } from '../../mail/mailer';
import { isConditionFailure } from './requests';

/**
 * The account's SES maximum send rate when SES answers quickly, else the configured rate.
 * The local SES emulator never answers GetSendQuota, hence the short timeout.
 */
export async function resolveSendRate(
  ses: SESClient | undefined,
  configuredRate: number,
  timeoutMs = 1_500,
): Promise<number> {
  if (ses === undefined) return configuredRate;
  try {
    const quota = await ses.send(new GetSendQuotaCommand({}), { abortSignal: AbortSignal.timeout(timeoutMs) });
    if (quota.MaxSendRate !== undefined && quota.MaxSendRate > 0) {
      logger.info('send.rate.from_quota', { rate: quota.MaxSendRate, configuredRate });
      return quota.MaxSendRate;
    }
  } catch (error) {
    logger.info('send.rate.quota_unavailable', { configuredRate, error: (error as Error).name });
  }
  return configuredRate;
}

/** Partition key of the shared window item; post ids never start with '~'. */
export const RATE_PARTITION = '~send-rate';

export interface SharedRateLimiterOptions {
  dynamo: DynamoDBClient;
  /** The deliveries table holds the shared item (see tables.ts). */
  table: string;
  /** Emails per second across every sender sharing the table. */
  rate: number;
  /** Slots reserved per DynamoDB write; fewer writes, at most this many slots wasted. */
  slotsPerReservation?: number;
  now?: () => number;
  /** Waits until a reserved slot comes. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Slots are spaced for this share of the rate. The rest is room for a slot to be used a little
 * late (a timer never fires exactly on time) while a one-second window still holds no more
 * starts than the rate: `rate` slots span `1000 / SLOT_SHARE` ms, leaving ~30 ms of slack.
 */
const SLOT_SHARE = 0.97;
/** Kept from the slack for a timer firing up to 1 ms early and for the time between the check and the call starting. */
const START_MARGIN_MS = 3;

/**
 * A rate limit shared by every concurrent sender, as a generic cell rate algorithm kept in
 * one DynamoDB item: `nextSlot` is the earliest time the next email may go. A sender reserves a
 * run of slots apart with a conditional write (optimistic, retried on contention), then starts
 * each send no earlier than its slot and no later than `lateSlackMs` after it; a slot missed
 * by more is given up. Slots are `1000 / (rate × SLOT_SHARE)` ms apart across all senders, so
 * the starts in any one-second window, across processes, never exceed the rate.
 */
export class SharedRateLimiter implements SendRateLimiter {
  private readonly intervalMs: number;
  /** How late a slot may still be used (see SLOT_SHARE). */
  readonly lateSlackMs: number;
  private readonly slotsPerReservation: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private slots: number[] = [];
  private reserving: Promise<void> | undefined;

  constructor(private readonly options: SharedRateLimiterOptions) {
    this.intervalMs = 1000 / (options.rate * SLOT_SHARE);
    // With `rate` slots spanning 1000 + slack ms, no one-second window can hold rate + 1 starts.
    this.lateSlackMs = Math.max(0, options.rate * this.intervalMs - 1000 - START_MARGIN_MS);
    // About a tenth of a second's worth at a time: few writes at high rates, one at low ones.
    this.slotsPerReservation = options.slotsPerReservation ?? Math.max(1, Math.min(50, Math.floor(options.rate / 10)));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async acquire(): Promise<void> {
    for (;;) {
      const slot = this.takeSlot();
      if (slot !== undefined) {
        // A timer can fire up to a millisecond early by the wall clock (it counts from the
        // event loop's cached time); START_MARGIN_MS covers that.
        const wait = slot - this.now();
        if (wait > 0) await this.sleep(wait);
        // A timer that fired late (a busy event loop wakes many at once) must not send in a
        // bunch: a slot missed by more than the slack is given up and another one taken.
        if (this.now() - slot > this.lateSlackMs) continue;
        return;
      }
      // One reservation at a time per process; the other callers wait for its slots.
      this.reserving ??= this.reserve().finally(() => {
        this.reserving = undefined;
      });
      await this.reserving;
    }
  }

  private takeSlot(): number | undefined {
    // A slot long past was missed (the process was busy): dropped, since sending every late
    // one at once would burst above the rate.
    const stale = this.now() - this.lateSlackMs;
    while (this.slots.length > 0 && this.slots[0]! < stale) this.slots.shift();
    return this.slots.shift();
  }

  private async reserve(): Promise<void> {
    const key = marshall({ postId: RATE_PARTITION, subscriberId: 'window' });
    for (let attempt = 0; ; attempt++) {
      const current = await this.options.dynamo.send(
        new GetItemCommand({ TableName: this.options.table, Key: key, ConsistentRead: true }),
      );
      const previous = current.Item ? (unmarshall(current.Item).nextSlot as number) : undefined;
      const now = this.now();
      const start = Math.max(previous ?? 0, now);
      const count = this.slotsPerReservation;
      const next = start + count * this.intervalMs;
      try {
        await this.options.dynamo.send(
          new UpdateItemCommand({
            TableName: this.options.table,
            Key: key,
            UpdateExpression: 'SET nextSlot = :next, expiresAt = :expires',
            ConditionExpression: previous === undefined ? 'attribute_not_exists(nextSlot)' : 'nextSlot = :previous',
            ExpressionAttributeValues: marshall({
              ':next': next,
              ':expires': Math.ceil(next / 1000) + 3600,
              ...(previous === undefined ? {} : { ':previous': previous }),
            }),
          }),
        );
        for (let index = 0; index < count; index++) this.slots.push(start + index * this.intervalMs);
        return;
      } catch (error) {
        const conflict = isConditionFailure(error);
        if (!conflict) throw error;
        // Another sender reserved first; try again after a short, jittered pause (real time:
        // this is contention, not a slot to wait for).
        await defaultSleep(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
  }
}
