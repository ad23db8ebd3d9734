import { logger } from '../commons/logger';
import type { CounterIncrement, CounterStore } from './counters';

/**
 * Increments gathered in memory for a moment and added together: a burst of clicks after a
 * send costs one write per post every `delayMs` instead of one per click, and a reader's 302
 * never waits for the database. For a long-running server (the local stack); a Lambda
 * invocation adds its own increments before it returns. Increments not yet written when the
 * process dies are lost (at most `delayMs` of them): counting is best effort.
 */
export class BufferedCounterStore implements CounterStore {
  private pending: CounterIncrement[] = [];
  private timer: NodeJS.Timeout | undefined;
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: CounterStore,
    private readonly delayMs = 250,
  ) {}

  async add(increments: readonly CounterIncrement[]): Promise<void> {
    this.pending.push(...increments);
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs).unref();
  }

  /** Writes what is pending; resolves once everything added before the call is written (or lost). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const increments = this.pending.splice(0);
    if (increments.length > 0) {
      this.written = this.written.then(() =>
        this.store.add(increments).catch((error: unknown) => {
          logger.warn('counters.lost', { increments: increments.length, error: error as Error });
        }),
      );
    }
    return this.written;
  }

  /** Reads after writing what is pending, so a reader of this store sees its own increments. */
  async read(scope: string): Promise<Record<string, number>> {
    await this.flush();
    return this.store.read(scope);
  }
}
