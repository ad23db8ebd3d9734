import type { Clock } from '../commons/clock';
import type { DigestSchedule } from '../commons/config';
import { errorMessage } from '../commons/errors';
import { logger } from '../commons/logger';
import { nextDigestAt } from '../digest/digest-week';

/**
 * The weekly digest on the local stack: a timer armed for the next digest time (what the
 * EventBridge schedule does on AWS), re-armed after each run. A stack that is not running at
 * that time does not send that week's digest later by itself: `pushletter digest --send` does.
 * Returns the cleanup that stops it and waits for a run in progress.
 */
export function startDigestTimer(
  run: () => Promise<unknown>,
  schedule: DigestSchedule,
  clock: Clock,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = () => {
    if (stopped) return;
    const due = nextDigestAt(clock.now(), schedule);
    timer = setTimeout(
      () => {
        running = running
          .then(run)
          .catch((error: unknown) => logger.error('digest.failed', { error: errorMessage(error) }))
          .finally(arm);
      },
      // At least a second: a clock that lags the timer must not fire twice in the same instant.
      Math.max(1_000, due.getTime() - clock.now().getTime()),
    );
    timer.unref();
  };
  arm();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
