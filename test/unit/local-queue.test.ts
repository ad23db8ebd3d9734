import { describe, expect, it, vi } from 'vitest';
import { LocalQueue, type QueueEvent } from '../../functions/local/local-queue';

/** The in-process queue must behave like SQS + a Lambda event source mapping for the sender. */
describe('LocalQueue', () => {
  it('delivers SQS-shaped records to the consumer in batches', async () => {
    const queue = new LocalQueue<{ n: number }>({ name: 'send', batchSize: 3 });
    const events: QueueEvent[] = [];
    queue.consume(async (event) => void events.push(event));
    await queue.send([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    await queue.idle();
    const records = events.flatMap((event) => event.Records);
    expect(records.map((record) => JSON.parse(record.body))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(Math.max(...events.map((event) => event.Records.length))).toBe(3);
    expect(new Set(records.map((record) => record.messageId)).size).toBe(4);
    expect(
      records.every((record) => record.attributes.ApproximateReceiveCount === '1' && record.receiptHandle.length > 0),
    ).toBe(true);
  });

  it('holds messages sent before a consumer exists', async () => {
    const queue = new LocalQueue<string>({ name: 'early' });
    await queue.send(['a']);
    const seen: string[] = [];
    queue.consume(async (event) => void seen.push(...event.Records.map((record) => JSON.parse(record.body) as string)));
    await queue.idle();
    expect(seen).toEqual(['a']);
  });

  it('redelivers only the messages named in batchItemFailures, with a higher receive count', async () => {
    const queue = new LocalQueue<string>({ name: 'partial', retryDelayMs: 5 });
    const receives: string[] = [];
    queue.consume(async (event) => {
      const failures = [];
      for (const record of event.Records) {
        const body = JSON.parse(record.body) as string;
        receives.push(`${body}#${record.attributes.ApproximateReceiveCount}`);
        if (body === 'flaky' && record.attributes.ApproximateReceiveCount === '1')
          failures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures: failures };
    });
    await queue.send(['ok', 'flaky']);
    await queue.idle();
    expect(receives.sort()).toEqual(['flaky#1', 'flaky#2', 'ok#1']);
    expect(queue.deadLetters).toEqual([]);
  });

  it('redelivers a message even when its retry timer fires before the clock reaches its time', async () => {
    const queue = new LocalQueue<string>({ name: 'early-timer', retryDelayMs: 5 });
    const realNow = Date.now.bind(Date);
    const receives: string[] = [];
    try {
      queue.consume(async (event) => {
        const record = event.Records[0]!;
        receives.push(record.attributes.ApproximateReceiveCount);
        if (record.attributes.ApproximateReceiveCount !== '1') return { batchItemFailures: [] };
        // Once the retry is scheduled, the wall clock reads 3 ms behind the timers (as after a
        // clock step): the retry timer fires before Date.now() reaches the message's time.
        setTimeout(() => vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 3), 1);
        return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
      });
      await queue.send(['flaky']);
      await queue.idle();
      expect(receives).toEqual(['1', '2']);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('holds a delayed message back until its delay has passed, like SQS DelaySeconds', async () => {
    vi.useFakeTimers();
    try {
      const queue = new LocalQueue<string>({ name: 'delayed' });
      const seen: string[] = [];
      queue.consume(
        async (event) => void seen.push(...event.Records.map((record) => JSON.parse(record.body) as string)),
      );
      await queue.send(['later'], { delayMs: 60_000 });
      await queue.send(['now']);
      await vi.advanceTimersByTimeAsync(59_000);
      expect(seen).toEqual(['now']);
      expect(queue.pending).toBe(1);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(seen).toEqual(['now', 'later']);
      expect(queue.pending).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('retries a batch whose handler throws, then dead-letters it after maxReceives', async () => {
    const queue = new LocalQueue<string>({ name: 'poison', retryDelayMs: 5, maxReceives: 3 });
    let calls = 0;
    queue.consume(async () => {
      calls++;
      throw new Error('SES is down');
    });
    await queue.send(['poison']);
    await queue.idle();
    expect(calls).toBe(3);
    expect(queue.deadLetters).toMatchObject([{ body: '"poison"', receives: 3 }]);
  });
});
