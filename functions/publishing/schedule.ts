import { createHash } from 'node:crypto';
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Clock } from '../commons/clock';
import { logger } from '../commons/logger';
import type { DispatchJob } from '../contract/messages';

/** Starts the dispatch of a post at a later time. Scheduling the same post twice is harmless. */
export interface Scheduler {
  schedule(postId: string, at: Date): Promise<void>;
}

export interface ScheduleTarget {
  /** What the schedule invokes with a DispatchJob: the dispatch queue (or the dispatcher Lambda). */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to reach the target. */
  roleArn: string;
  groupName?: string;
}

/**
 * Schedule names allow 64 characters of `[0-9a-zA-Z-_.]`; post ids are longer and may be
 * Chinese, so the name is a hash of the id: stable, which makes a second schedule a conflict.
 */
export function scheduleName(postId: string): string {
  return `pushletter-${createHash('sha256').update(postId).digest('hex').slice(0, 40)}`;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the next second so it is never early. */
export function atExpression(at: Date): string {
  const seconds = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  return `at(${seconds.toISOString().slice(0, 19)})`;
}

/** EventBridge Scheduler: a one-time schedule per post that deletes itself after it fires. */
export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly target: ScheduleTarget,
  ) {}

  async schedule(postId: string, at: Date): Promise<void> {
    const job: DispatchJob = { postId };
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: scheduleName(postId),
          GroupName: this.target.groupName,
          Description: `pushletter: send ${postId}`.slice(0, 512),
          ScheduleExpression: atExpression(at),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: { Arn: this.target.targetArn, RoleArn: this.target.roleArn, Input: JSON.stringify(job) },
        }),
      );
      logger.info('issue.scheduled', { postId, at: at.toISOString() });
    } catch (error) {
      // A redelivered ingest message scheduling the same post again: the first one stands.
      if (error instanceof ConflictException || (error as { name?: string })?.name === 'ConflictException') {
        logger.info('issue.schedule.exists', { postId });
        return;
      }
      throw error;
    }
  }
}

/** setTimeout takes at most 2^31-1 ms (~24.8 days); longer waits are chained. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * The local stand-in: a timer per post in the dev server's process. Timers die with the
 * process, so the local stack re-arms every still-scheduled issue when it starts.
 */
export class TimerScheduler implements Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly fire: (job: DispatchJob) => Promise<void>,
    private readonly clock: Clock,
  ) {}

  async schedule(postId: string, at: Date): Promise<void> {
    if (this.timers.has(postId)) return;
    this.arm(postId, at);
    logger.info('issue.scheduled', { postId, at: at.toISOString() });
  }

  /** Posts with a timer pending, for the dev server's banner and tests. */
  pending(): string[] {
    return [...this.timers.keys()];
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(postId: string, at: Date): void {
    const wait = Math.max(0, at.getTime() - this.clock.now().getTime());
    const timer = setTimeout(
      () => {
        if (wait > LONGEST_TIMER_MS) {
          this.arm(postId, at);
          return;
        }
        this.timers.delete(postId);
        this.fire({ postId }).catch((error) => logger.error('issue.schedule.fire_failed', { postId, error }));
      },
      Math.min(wait, LONGEST_TIMER_MS),
    );
    // A pending post must not keep a test or a finished CLI process alive.
    timer.unref();
    this.timers.set(postId, timer);
  }
}
