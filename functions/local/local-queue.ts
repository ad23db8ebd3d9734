import { randomUUID } from 'node:crypto';
import { logger } from '../commons/logger';
import type { Queue } from '../commons/queue';

/** The parts of an SQS Lambda event the handlers read. */
export interface QueueRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string; SentTimestamp: string };
  messageAttributes: Record<string, never>;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
}

export interface QueueEvent {
  Records: QueueRecord[];
}

/** SQS partial batch response: the listed messages are retried, the rest are done. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export type QueueHandler = (event: QueueEvent) => Promise<BatchResponse | void>;

export interface LocalQueueOptions<T = unknown> {
  name: string;
  /** Messages per handler call, like the event source mapping's batch size. */
  batchSize?: number;
  /** Handler calls running at once, like Lambda concurrency. */
  concurrency?: number;
  /** Wait before a failed message is delivered again (SQS: the visibility timeout). */
  retryDelayMs?: number;
  /** After this many receives a failing message moves to the dead-letter list (SQS: maxReceiveCount). */
  maxReceives?: number;
  /** Groups messages (say, by post) so `onSettled` can tell when a group has none left. */
  groupOf?: (message: T) => string;
  /** Called once per message of a group when it is done or dead-lettered (never for a retry). */
  onSettled?: (settled: SettledMessage) => void;
}

export interface SettledMessage {
  group: string;
  outcome: 'done' | 'dead-lettered';
}

interface Message {
  id: string;
  body: string;
  sentAt: number;
  receives: number;
  availableAt: number;
  group?: string;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  receives: number;
}

/**
 * An in-process stand-in for SQS + a Lambda event source mapping: `send` enqueues, and the
 * consumer is called with SQS-shaped events, so the same handler runs here and on AWS. It
 * honours `batchItemFailures` (and a thrown error fails the whole batch): failed messages come
 * back after `retryDelayMs`, and after `maxReceives` receives go to `deadLetters`.
 */
export class LocalQueue<T> implements Queue<T> {
  readonly deadLetters: DeadLetter[] = [];
  private readonly waiting: Message[] = [];
  private handler?: QueueHandler;
  private inFlight = 0;
  private inFlightMessages = 0;
  /** Wakes the queue when the earliest message in a retry delay becomes available. */
  private wake?: { at: number; timer: NodeJS.Timeout };
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly options: Required<Omit<LocalQueueOptions<T>, 'groupOf' | 'onSettled'>>;
  private readonly groupOf?: (message: T) => string;
  private readonly onSettled?: (settled: SettledMessage) => void;
  private readonly pendingByGroup = new Map<string, number>();

  constructor(options: LocalQueueOptions<T>) {
    const { groupOf, onSettled, ...rest } = options;
    this.options = { batchSize: 10, concurrency: 4, retryDelayMs: 1_000, maxReceives: 5, ...rest };
    this.groupOf = groupOf;
    this.onSettled = onSettled;
  }

  /** Starts delivering to `handler`; messages sent before wait for it. */
  consume(handler: QueueHandler): void {
    this.handler = handler;
    this.pump();
  }

  async send(messages: T[], options: { delayMs?: number } = {}): Promise<void> {
    if (this.stopped) throw new Error(`queue ${this.options.name} is stopped`);
    const now = Date.now();
    const availableAt = now + Math.max(0, options.delayMs ?? 0);
    for (const message of messages) {
      const group = this.groupOf?.(message);
      if (group !== undefined) this.pendingByGroup.set(group, (this.pendingByGroup.get(group) ?? 0) + 1);
      this.waiting.push({
        id: randomUUID(),
        body: JSON.stringify(message),
        sentAt: now,
        receives: 0,
        availableAt,
        group,
      });
    }
    // Delivered on a later tick, as SQS would: the sender never runs its consumer inline.
    setImmediate(() => this.pump());
  }

  /** Messages not yet done (waiting, in a retry delay or being handled). */
  get pending(): number {
    return this.waiting.length + this.inFlightMessages;
  }

  /** Messages of a group (see `groupOf`) not yet done or dead-lettered. */
  pendingIn(group: string): number {
    return this.pendingByGroup.get(group) ?? 0;
  }

  /** Resolves when every message sent so far is done or dead-lettered. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops delivering; messages still waiting are dropped (they would be lost with the process too). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wake !== undefined) clearTimeout(this.wake.timer);
    this.wake = undefined;
    while (this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private pump(): void {
    if (this.stopped || this.handler === undefined) return;
    while (this.inFlight < this.options.concurrency) {
      const now = Date.now();
      const batch: Message[] = [];
      for (let index = 0; index < this.waiting.length && batch.length < this.options.batchSize; ) {
        const message = this.waiting[index]!;
        if (message.availableAt <= now) {
          batch.push(message);
          this.waiting.splice(index, 1);
        } else {
          index++;
        }
      }
      if (batch.length === 0) break;
      void this.deliver(batch);
    }
    this.wakeForRetries();
    this.notifyIfIdle();
  }

  /**
   * One timer for the earliest message still in its retry delay. Checked against the clock
   * again when it fires, since a timer may fire a moment before Date.now() reaches its time.
   */
  private wakeForRetries(): void {
    // Messages available now wait for a free consumer instead; a batch ending pumps again.
    const now = Date.now();
    let earliest = Infinity;
    for (const message of this.waiting)
      if (message.availableAt > now) earliest = Math.min(earliest, message.availableAt);
    if (earliest === Infinity || (this.wake !== undefined && this.wake.at <= earliest)) return;
    if (this.wake !== undefined) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      this.pump();
    }, earliest - now);
    this.wake = { at: earliest, timer };
  }

  private async deliver(batch: Message[]): Promise<void> {
    this.inFlight++;
    this.inFlightMessages += batch.length;
    const event: QueueEvent = {
      Records: batch.map((message) => {
        message.receives++;
        return {
          messageId: message.id,
          receiptHandle: randomUUID(),
          body: message.body,
          attributes: { ApproximateReceiveCount: String(message.receives), SentTimestamp: String(message.sentAt) },
          messageAttributes: {},
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:local:000000000000:${this.options.name}`,
        };
      }),
    };
    let failed: Set<string>;
    try {
      const response = await this.handler!(event);
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      logger.error('local.queue.batch_failed', {
        queue: this.options.name,
        messages: batch.length,
        error: error as Error,
      });
      failed = new Set(batch.map((message) => message.id));
    }
    for (const message of batch) {
      if (!failed.has(message.id)) {
        this.settled(message, 'done');
        continue;
      }
      if (message.receives >= this.options.maxReceives) {
        this.deadLetters.push({ messageId: message.id, body: message.body, receives: message.receives });
        logger.warn('local.queue.dead_lettered', {
          queue: this.options.name,
          messageId: message.id,
          receives: message.receives,
        });
        this.settled(message, 'dead-lettered');
        continue;
      }
      message.availableAt = Date.now() + this.options.retryDelayMs;
      this.waiting.push(message);
    }
    this.inFlight--;
    this.inFlightMessages -= batch.length;
    this.pump();
  }

  private settled(message: Message, outcome: 'done' | 'dead-lettered'): void {
    if (message.group === undefined) return;
    const pendingInGroup = (this.pendingByGroup.get(message.group) ?? 1) - 1;
    if (pendingInGroup === 0) this.pendingByGroup.delete(message.group);
    else this.pendingByGroup.set(message.group, pendingInGroup);
    try {
      this.onSettled?.({ group: message.group, outcome });
    } catch (error) {
      logger.error('local.queue.settled_hook_failed', { queue: this.options.name, error: error as Error });
    }
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
