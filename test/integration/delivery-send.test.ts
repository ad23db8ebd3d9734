import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bucketOf } from '../../functions/delivery/claims';
import { deriveKeys, SubscriberTokens } from '../../functions/subscribers/tokens';
import {
  clearEmails,
  copiesByAddress,
  createIssue,
  deliveriesOf,
  PUBLIC_URL,
  pipeline,
  type Stack,
  seedSubscribers,
  startStack,
  storedEmails,
} from './delivery-harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  await clearEmails(stack.sesUrl);
});

function tokenIn(text: string): string {
  const match = text.match(new RegExp(`${PUBLIC_URL.replace(/[./]/g, '\\$&')}/unsubscribe\\?token=([A-Za-z0-9_-]+)`));
  if (!match) throw new Error('no unsubscribe link in the email');
  return match[1]!;
}

describe('pushing a post to subscribers', () => {
  it('sends 10,000 active subscribers exactly one copy each, with their own unsubscribe link, and nobody else', async () => {
    // One in eleven has not confirmed: they must get nothing.
    const people = await seedSubscribers(stack, 11_000, (index) => (index % 11 === 10 ? 'pending' : 'active'));
    const active = people.filter((person) => person.state === 'active');
    expect(active).toHaveLength(10_000);

    const run = pipeline(stack, { rate: 5_000, concurrency: 24 });
    expect(await createIssue(stack, '2026-11-26-ten-thousand')).toBe('created');
    const outcome = await run.dispatch('2026-11-26-ten-thousand');
    expect(outcome).toEqual({ status: 'dispatched', enqueued: 10_000 });
    // Ids, not bodies, travel on the queue: each message holds one claim bucket's recipients
    // (about 40 of the 250 buckets' share), never more than 50.
    expect((await stack.issues.getIssue('2026-11-26-ten-thousand'))?.claimBuckets).toBe(250);
    for (const job of run.sent.jobs) {
      expect(job.subscriberIds.length).toBeLessThanOrEqual(50);
      for (const id of job.subscriberIds) expect(bucketOf(id, job.buckets)).toBe(job.bucket);
    }
    expect(run.sent.messages).toBeLessThan(10_000 / 25);
    await run.idle();
    expect(run.sendQueue.deadLetters).toEqual([]);

    const emails = await storedEmails(stack.sesUrl);
    const copies = copiesByAddress(emails);
    expect(emails).toHaveLength(10_000);
    for (const person of active) expect(copies.get(person.email), person.email).toBe(1);
    for (const person of people.filter((candidate) => candidate.state !== 'active'))
      expect(copies.has(person.email)).toBe(false);

    const tokens = new SubscriberTokens(deriveKeys(stack.masterKey).tokenKey, { now: () => new Date() });
    const idByAddress = new Map(people.map((person) => [person.email, person.id]));
    for (const email of emails.slice(0, 200)) {
      const address = email.destination.to[0]!.replace(/^.*<([^>]+)>.*$/, '$1');
      expect(tokens.verify(tokenIn(email.body.text ?? ''), 'unsubscribe').subscriberId).toBe(idByAddress.get(address));
    }

    const deliveries = await deliveriesOf(stack, '2026-11-26-ten-thousand');
    expect(deliveries.size).toBe(10_000);
    expect([...deliveries.values()].every((delivery) => delivery.state === 'sent' && delivery.sesMessageId)).toBe(true);
    const issue = await stack.issues.getIssue('2026-11-26-ten-thousand');
    expect(issue).toMatchObject({ state: 'dispatched', enqueued: 10_000 });
  }, 300_000);
});
