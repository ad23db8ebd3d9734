import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../functions/cli/status-command';
import { issueStatus } from '../../functions/delivery/delivery-status';
import {
  copiesByAddress,
  createIssue,
  deliveriesOf,
  pipeline,
  recipientOf,
  type Stack,
  sesError,
  sesMailer,
  startFaultProxy,
  storedEmails,
  useSeededStack,
} from './delivery-harness';

let stack: Stack;
let people: { id: string; email: string; state: string }[];

useSeededStack(300, (seeded) => ({ stack, people } = seeded));

function isSend(form: URLSearchParams): boolean {
  return form.get('Action') === 'SendRawEmail';
}

describe('SES errors during a send', () => {
  it('retries throttled (30% of calls) and 5xx answers until every subscriber has exactly one copy', async () => {
    let sends = 0;
    const proxy = await startFaultProxy(stack.sesUrl, (form) => {
      if (!isSend(form)) return undefined;
      const call = sends++;
      if (call % 10 === 1 || call % 10 === 4 || call % 10 === 7)
        return sesError(400, 'Throttling', 'Maximum sending rate exceeded.');
      if (call % 50 === 9)
        return sesError(503, 'ServiceUnavailable', 'Service is unavailable. Please try again later.', 'Receiver');
      return undefined;
    });
    try {
      const run = pipeline(stack, { mailer: sesMailer(proxy.url), concurrency: 8 });
      await createIssue(stack, '2026-11-26-throttled');
      await run.dispatch('2026-11-26-throttled');
      await run.idle();

      expect(proxy.faults).toBeGreaterThan(90);
      const copies = copiesByAddress(await storedEmails(stack.sesUrl));
      for (const person of people) expect(copies.get(person.email), person.email).toBe(1);
      expect(run.sendQueue.deadLetters).toEqual([]);
      const status = await issueStatus(stack.issues, '2026-11-26-throttled', new Date());
      expect(status?.counts).toMatchObject({ queued: 0, sending: 0, sent: 300, failed: 0, unknown: 0 });
      expect(status?.done).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("records a rejected address as failed with SES's reason and sends everyone else", async () => {
    const rejected = people[7]!;
    const proxy = await startFaultProxy(stack.sesUrl, (form) =>
      isSend(form) && recipientOf(form) === rejected.email
        ? sesError(
            400,
            'MessageRejected',
            'Email address is not verified. The following identities failed the check in region US-EAST-1: reader7@example.com',
          )
        : undefined,
    );
    try {
      const run = pipeline(stack, { mailer: sesMailer(proxy.url) });
      await createIssue(stack, '2026-11-26-rejected');
      await run.dispatch('2026-11-26-rejected');
      await run.idle();

      const copies = copiesByAddress(await storedEmails(stack.sesUrl));
      expect(copies.has(rejected.email)).toBe(false);
      for (const person of people.filter((candidate) => candidate !== rejected))
        expect(copies.get(person.email), person.email).toBe(1);
      const deliveries = await deliveriesOf(stack, '2026-11-26-rejected');
      expect(deliveries.get(rejected.id)).toMatchObject({ state: 'failed' });
      expect(deliveries.get(rejected.id)?.reason).toMatch(/^MessageRejected: Email address is not verified/);
      // Not retried: a rejection is final, so the message is not redelivered or dead-lettered.
      expect(proxy.faults).toBe(1);
      expect(run.sendQueue.deadLetters).toEqual([]);
      const status = await issueStatus(stack.issues, '2026-11-26-rejected', new Date());
      expect(status?.counts).toMatchObject({ sent: 299, failed: 1, queued: 0 });
      expect(status?.failures).toEqual([{ reason: 'MessageRejected', count: 1 }]);
    } finally {
      await proxy.close();
    }
  });

  it('dead-letters a batch SES keeps refusing, and leaves its recipients free to send later', async () => {
    const proxy = await startFaultProxy(stack.sesUrl, (form) =>
      isSend(form) ? sesError(400, 'Throttling', 'Maximum sending rate exceeded.') : undefined,
    );
    try {
      // Refusals, not lost answers: on a loaded machine the proxy's answer can outlast the usual
      // 10 s, and a call that ends without one rightly keeps its claim (SES may have taken it).
      const patient = { connectionTimeout: 60_000, requestTimeout: 120_000, maxAttempts: 1 };
      const run = pipeline(stack, { mailer: sesMailer(proxy.url, patient), pageSize: 50 });
      await createIssue(stack, '2026-11-26-refused');
      await run.dispatch('2026-11-26-refused');
      await run.idle();
      // Every message tried five times (SQS maxReceiveCount), then parked.
      expect(run.sendQueue.deadLetters).toHaveLength(run.sent.messages);
      expect(run.sendQueue.deadLetters.every((letter) => letter.receives === 5)).toBe(true);
      expect(await storedEmails(stack.sesUrl)).toEqual([]);
      // The editor sees them as failed, with what to do, not as queued forever.
      const parked = await deliveriesOf(stack, '2026-11-26-refused');
      expect(parked.size).toBe(people.length);
      for (const delivery of parked.values())
        expect(delivery).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^DeadLettered: .*redrive/) });
      const before = await issueStatus(stack.issues, '2026-11-26-refused', new Date());
      expect(before?.counts).toMatchObject({ failed: people.length, queued: 0, sent: 0 });
      expect(before?.failures).toEqual([{ reason: 'DeadLettered', count: people.length }]);
      expect(formatStatus(before!)).toMatch(
        new RegExp(
          `failed +${people.length} +\\(DeadLettered ×${people.length}\\)[\\s\\S]*redrive the send dead-letter queue`,
        ),
      );

      // No claim is left behind, so a redrive from the DLQ sends them, and they count as sent.
      const redrive = pipeline(stack);
      await redrive.sendQueue.send(run.sendQueue.deadLetters.map((letter) => JSON.parse(letter.body)));
      await redrive.idle();
      const copies = copiesByAddress(await storedEmails(stack.sesUrl));
      for (const person of people) expect(copies.get(person.email), person.email).toBe(1);
      const after = await issueStatus(stack.issues, '2026-11-26-refused', new Date());
      expect(after?.counts).toMatchObject({ sent: people.length, failed: 0, queued: 0 });
    } finally {
      await proxy.close();
    }
  });
});
