import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../functions/adapters/dynamodb/shared-rate-limiter';
import { systemClock } from '../../functions/commons/clock';
import { importSubscribers } from '../../functions/subscribers/import';
import { deriveKeys } from '../../functions/subscribers/keys';
import { SubscriptionService } from '../../functions/subscribers/service';
import { type Stack, startStack } from './delivery-harness';
import { RecordingConfirmationSender } from './subscribers-harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('importing subscribers while a post is being sent', () => {
  it("takes a slot of the senders' shared rate for each confirmation email, so a send at the same time waits behind them", async () => {
    // A clock that moves only when a limiter waits: the test sees slots, not wall time.
    let now = Date.now() + 60_000;
    const start = now;
    const limiter = (waits: number[] = []) =>
      new SharedRateLimiter({
        dynamo: stack.dynamo,
        table: stack.tables.deliveriesTable,
        rate: 2,
        now: () => now,
        sleep: async (ms) => {
          waits.push(ms);
          now += ms;
        },
      });
    const mailer = new RecordingConfirmationSender();
    const service = new SubscriptionService({
      store: stack.subscribers,
      keys: deriveKeys(stack.masterKey),
      mailer,
      clock: systemClock,
      publicUrl: 'http://newsletter.test',
    });
    const rows = Array.from({ length: 6 }, (_, index) => ({ line: index + 2, email: `imported${index}@example.com` }));
    const report = await importSubscribers(rows, {
      store: stack.subscribers,
      service,
      clock: systemClock,
      confirmed: false,
      concurrency: 1,
      rateLimiter: limiter(),
    });
    expect(report.confirmationsSent).toBe(6);
    expect(mailer.sent).toHaveLength(6);

    // A sender that asked when the import began gets the first slot after the import's six
    // emails: at 2 per second, three seconds later.
    now = start;
    const senderWaits: number[] = [];
    await limiter(senderWaits).acquire();
    expect(senderWaits.reduce((sum, wait) => sum + wait, 0)).toBeGreaterThanOrEqual(6 * 500);
  });
});
