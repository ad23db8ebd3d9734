import type { Clock } from '../commons/clock';
import { logger } from '../commons/logger';
import type { SettledMessage } from './local-queue';
import type { SendResumption } from './send-resumption';

/**
 * Marks a post's issue once the local send queue holds nothing more of it, so a dev server
 * restarted after a crash knows which posts may have lost queued jobs (see
 * `resumeUnfinished` in ingest.ts). A post with a dead-lettered job is never marked: its
 * recipients were not sent, and the next start retries them.
 */
export class SendQueueDrain {
  private readonly deadLettered = new Set<string>();
  /** Marks being written; the stack waits for them before it closes the database. */
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly resumption: SendResumption,
    private readonly pendingIn: (postId: string) => number,
    private readonly clock: Clock,
  ) {}

  /** The send queue's `onSettled`: the last job of a post may have just finished. */
  settled(message: SettledMessage): void {
    if (message.outcome === 'dead-lettered') this.deadLettered.add(message.group);
    if (this.pendingIn(message.group) === 0) this.track(this.markIfDrained(message.group));
  }

  /** Resolves when no mark is being written. */
  async settledWrites(): Promise<void> {
    while (this.writing.size > 0) await Promise.all([...this.writing]);
  }

  private track(write: Promise<void>): void {
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
  }

  /**
   * The dispatcher queued the post's last page. Its jobs may all be done already (they run
   * while the dispatcher checkpoints), and then no job's completion would mark the post.
   */
  dispatched(postId: string): Promise<void> {
    const write = this.markIfDrained(postId);
    this.track(write);
    return write;
  }

  private async markIfDrained(postId: string): Promise<void> {
    if (this.pendingIn(postId) > 0 || this.deadLettered.has(postId)) return;
    try {
      // Conditional on `dispatched`: while the dispatcher still pages, more jobs are coming.
      if (await this.resumption.markQueueDrained(postId, this.clock.now()))
        logger.info('issue.queue_drained', { postId });
    } catch (error) {
      // Unmarked only means the next start re-dispatches the post, which sends nobody twice.
      logger.warn('issue.queue_drained_not_recorded', { postId, error: error as Error });
    }
  }
}
