import { describe, expect, it } from 'vitest';
import type { SendJob } from '../../functions/contract/messages';
import { issueStatus } from '../../functions/delivery/delivery-status';
import type { Mailer } from '../../functions/mail/mailer';
import {
  copiesByAddress,
  createIssue,
  deliveriesOf,
  pipeline,
  type Stack,
  sesMailer,
  storedEmails,
  TestQueue,
  testMessage,
  useSeededStack,
} from './delivery-harness';

let stack: Stack;
let people: { id: string; email: string; state: string }[];

useSeededStack(400, (seeded) => ({ stack, people } = seeded));

describe('the same work arriving twice', () => {
  it('sends each recipient once when SQS delivers a batch again while the first delivery still runs, and once more after', async () => {
    const run = pipeline(stack);
    await createIssue(stack, '2026-11-26-redelivered');
    // Capture the dispatcher's messages instead of letting the queue consume them.
    const captured = new TestQueue<SendJob>();
    const { dispatchIssue } = await import('../../functions/delivery/dispatcher');
    await dispatchIssue({ ...run.dispatchPorts, sendQueue: captured }, '2026-11-26-redelivered');
    const records = captured.receive();
    expect(records.length).toBeGreaterThan(0);
    const everything = [...records, ...captured.receive(), ...captured.receive()];
    expect(captured.size).toBe(0);

    // Visibility timeout ran out mid-batch: two senders hold the same messages at once.
    const [first, second] = await Promise.all([
      run.sender.sendBatch(jobs(everything)),
      run.sender.sendBatch(jobs(everything)),
    ]);
    const third = await run.sender.sendBatch(jobs(everything));
    expect(first.counts.sent + second.counts.sent).toBe(400);
    expect(first.counts.duplicate + second.counts.duplicate).toBe(400);
    expect(third.counts).toMatchObject({ sent: 0, duplicate: 400 });

    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    for (const person of people) expect(copies.get(person.email), person.email).toBe(1);
  });

  it('sends a post published twice at once (two issue writes, two dispatchers) once to each subscriber', async () => {
    const postId = '2026-11-26-published-twice';
    const created = await Promise.all([
      createIssue(stack, postId, testMessage('第一次')),
      createIssue(stack, postId, testMessage('第二次')),
    ]);
    expect(created.sort()).toEqual(['created', 'exists']);

    const run = pipeline(stack, { pageSize: 50 });
    const outcomes = await Promise.all([run.dispatch(postId), run.dispatch(postId)]);
    await run.idle();
    // Both start on the first page; the one that checkpoints second hands the post over.
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['dispatched', 'taken-over']);

    const emails = await storedEmails(stack.sesUrl);
    const copies = copiesByAddress(emails);
    for (const person of people) expect(copies.get(person.email), person.email).toBe(1);
    // Every copy is the version whose issue record won.
    expect(new Set(emails.map((email) => email.subject)).size).toBe(1);
    const issue = await stack.issues.getIssue(postId);
    expect(issue).toMatchObject({ state: 'dispatched', enqueued: 400 });
    // Re-pushing the post later changes nothing.
    expect(await createIssue(stack, postId)).toBe('exists');
    expect(await run.dispatch(postId)).toMatchObject({ status: 'not-dispatching' });
  });

  it('skips subscribers who unsubscribe during the send and never mails them after they left', async () => {
    const postId = '2026-11-26-unsubscribing';
    // A hundred subscribers (in no particular send order) leave once 100 copies went out.
    const leaving = people.slice(-100);
    const leftBeforeTheirTurn = new Set<string>();
    let copiesSent = 0;
    const real = sesMailer(stack.sesUrl);
    const mailer: Mailer = {
      async sendRaw(message) {
        const id = await real.sendRaw(message);
        if (++copiesSent === 100) {
          for (const person of leaving) {
            if (await stack.subscribers.deactivate(person.id)) leftBeforeTheirTurn.add(person.email);
          }
        }
        return id;
      },
    };
    const run = pipeline(stack, { mailer, concurrency: 4, senders: 1 });
    await createIssue(stack, postId);
    await run.dispatch(postId);
    await run.idle();

    const copies = copiesByAddress(await storedEmails(stack.sesUrl));
    const deliveries = await deliveriesOf(stack, postId);
    for (const person of people) {
      const delivery = deliveries.get(person.id)!;
      if (delivery.state === 'skipped') {
        expect(copies.has(person.email)).toBe(false);
        expect(delivery.reason).toBe('subscriber unsubscribed');
        expect(leftBeforeTheirTurn.has(person.email)).toBe(true);
      } else {
        expect(delivery.state).toBe('sent');
        expect(copies.get(person.email), person.email).toBe(1);
      }
    }
    const status = await issueStatus(stack.issues, postId, new Date());
    expect(status!.counts.skipped).toBeGreaterThan(50);
    expect(status!.counts.sent + status!.counts.skipped).toBe(400);

    // Put them back for the other tests.
    for (const person of leaving)
      await stack.subscribers.createIfAbsent({
        email: person.email,
        state: 'active',
        consent: { at: new Date().toISOString(), source: 'import' },
      });
  });
});

function jobs(records: { messageId: string; body: string }[]) {
  return records.map((record) => ({ messageId: record.messageId, job: JSON.parse(record.body) as SendJob }));
}
