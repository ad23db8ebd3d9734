import { describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../functions/adapters/dynamodb/shared-rate-limiter';
import type { Clock } from '../../functions/commons/clock';
import { issueStatus } from '../../functions/delivery/delivery-status';
import { DeliveryWorker, jobsFromRecords } from '../../functions/delivery/delivery-worker';
import {
  copiesByAddress,
  deliveriesOf,
  dispatchedBatch,
  type Stack,
  sesMailer,
  storedEmails,
  useSeededStack,
} from './delivery-harness';

const clock: Clock = { now: () => new Date() };

let stack: Stack;
let people: { id: string; email: string; state: string }[];

useSeededStack(40, (seeded) => ({ stack, people } = seeded));

describe('a sender near its invocation deadline', () => {
  it('hands back the recipients it could not start in time, unclaimed, and a redelivery sends each of them once', async () => {
    const postId = '2026-11-26-deadline';
    const { run, batch } = await dispatchedBatch(stack, postId);

    // A rate so slow that only the first few slots come before the deadline (SES sandbox-like).
    const shared = new SharedRateLimiter({
      dynamo: stack.dynamo,
      table: stack.tables.deliveriesTable,
      rate: 10,
      slotsPerReservation: 1,
    });
    const sender = new DeliveryWorker(
      {
        issues: stack.issues,
        subscribers: stack.subscribers,
        recipientLinks: stack.recipientLinks,
        mailer: sesMailer(stack.sesUrl),
        rateLimiter: shared,
        clock,
      },
      { concurrency: 8, deadlineReserveMs: 0 },
    );
    const result = await sender.sendBatch(jobsFromRecords(batch), Date.now() + 1_500);

    expect(result.counts.sent).toBeGreaterThan(0);
    expect(result.counts.sent).toBeLessThan(people.length);
    expect(result.counts.unknown).toBe(0);
    expect(result.retryMessageIds.length).toBeGreaterThan(0);
    // Nobody is left claimed without a send: the ones not sent have no delivery record at all.
    const deliveries = await deliveriesOf(stack, postId);
    expect([...deliveries.values()].filter((delivery) => delivery.state === 'sending')).toEqual([]);
    expect(deliveries.size).toBe(result.counts.sent);
    const status = await issueStatus(stack.issues, postId, new Date(), 0);
    expect(status!.counts.unknown).toBe(0);

    // SQS delivers the handed-back messages again, to a sender with time: everyone, once.
    const again = batch.filter((record) => result.retryMessageIds.includes(record.messageId));
    expect(await run.consume(again)).toEqual([]);
    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    for (const person of people) expect(copies.get(person.email), person.email).toBe(1);
  });
});
