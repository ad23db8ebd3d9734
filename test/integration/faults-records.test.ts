import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoClient } from '../../functions/adapters/aws-clients';
import { DynamoIssueStore } from '../../functions/adapters/dynamodb/issue-store';
import { SharedRateLimiter } from '../../functions/adapters/dynamodb/shared-rate-limiter';
import type { Clock } from '../../functions/commons/clock';
import type { SendJob } from '../../functions/contract/messages';
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

useSeededStack(120, (seeded) => ({ stack, people } = seeded));

/** A sender of 8 SES calls in flight whose DynamoDB is `dynamo` (a client with a fault in it). */
function senderOver(dynamo: DynamoDBClient): DeliveryWorker {
  return new DeliveryWorker(
    {
      issues: new DynamoIssueStore(dynamo, stack.tables),
      subscribers: stack.subscribers,
      recipientLinks: stack.recipientLinks,
      mailer: sesMailer(stack.sesUrl),
      rateLimiter: new SharedRateLimiter({ dynamo, table: stack.tables.deliveriesTable, rate: 2_000 }),
      clock,
    },
    { concurrency: 8 },
  );
}

describe('sent records written in batches', () => {
  it('copies SES took whose batched record could not be written stay unknown, are reported, and a redelivery never sends them again', async () => {
    const postId = '2026-11-26-records-lost';
    const { run, batch } = await dispatchedBatch(stack, postId);
    expect(batch.flatMap((record) => (JSON.parse(record.body) as SendJob).subscriberIds)).toHaveLength(people.length);

    // The sender's DynamoDB fails every BatchWriteItem (the sent records), after SES took each copy.
    const failing = dynamoClient({ dynamodb: stack.dynamoUrl });
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchWriteItemCommand')
          throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $fault: 'server' });
        return next(args);
      },
      { step: 'initialize', name: 'failSentRecords' },
    );
    try {
      const sender = senderOver(failing);
      const result = await sender.sendBatch(jobsFromRecords(batch));
      // SES may have them: not retried, reported as unknown.
      expect(result.retryMessageIds).toEqual([]);
      expect(result.counts).toMatchObject({ sent: 0, unknown: people.length });
    } finally {
      failing.destroy();
    }
    expect((await storedEmails(stack.sesUrl)).length).toBe(people.length);

    // SQS delivers the batch again to a healthy sender: nobody gets a second copy.
    expect(await run.consume(batch)).toEqual([]);
    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    const deliveries = await deliveriesOf(stack, postId);
    for (const person of people) {
      expect(copies.get(person.email), person.email).toBe(1);
      expect(deliveries.get(person.id)?.state, person.email).toBe('sending');
    }
    const status = await issueStatus(stack.issues, postId, new Date(), 0);
    expect(status!.counts).toMatchObject({ unknown: people.length, sent: 0, queued: 0 });
  });
});

describe('claims whose answer is lost', () => {
  it("a claim write that went through but whose answer was lost is still the sender's own: everyone is sent once", async () => {
    const postId = '2026-11-26-claim-answer-lost';
    const { batch } = await dispatchedBatch(stack, postId);

    // The first claim write of each ledger reaches DynamoDB, then its answer is lost; the SDK
    // retries the write, and the retry finds the recipients claimed.
    const lossy = dynamoClient({ dynamodb: stack.dynamoUrl });
    const lost = new Set<string>();
    lossy.middlewareStack.add(
      (next, context) => async (args) => {
        const ledger = (args.input as { Key?: { subscriberId?: { S?: string } } }).Key?.subscriberId?.S;
        const result = await next(args);
        if (context.commandName === 'UpdateItemCommand' && ledger?.startsWith('~claims#') && !lost.has(ledger)) {
          lost.add(ledger);
          throw Object.assign(new Error('the answer never arrived'), { name: 'TimeoutError' });
        }
        return result;
      },
      { step: 'deserialize', name: 'loseFirstClaimAnswer' },
    );
    try {
      const sender = senderOver(lossy);
      const result = await sender.sendBatch(jobsFromRecords(batch));
      expect(lost.size).toBeGreaterThan(0);
      expect(result.counts).toMatchObject({ sent: people.length, duplicate: 0, unknown: 0 });
    } finally {
      lossy.destroy();
    }
    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    for (const person of people) expect(copies.get(person.email), person.email).toBe(1);
  });
});
