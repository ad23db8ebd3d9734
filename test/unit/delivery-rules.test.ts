import { describe, expect, it } from 'vitest';
import type { SendJob } from '../../functions/contract/messages';
import type { QueuedSendJob } from '../../functions/delivery/delivery-worker';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { DEAD_LETTERED } from '../../functions/delivery/jobs';
import { sendingWorld } from './delivery-world';

/**
 * The exactly-once rules of a send (claims, duplicates, dead letters, deadlines, the rate
 * limit) on the in-memory adapters, which answer as the DynamoDB ones do (test/contract). The
 * integration suite keeps the same rules against dynalite and the SES emulator, with faults.
 */
async function dispatched(world: ReturnType<typeof sendingWorld>, postId = 'post-1'): Promise<QueuedSendJob[]> {
  await world.issues.createIssue({
    postId,
    title: 'Hello',
    subject: 'Hello',
    state: 'dispatching',
    sendAt: world.now.value.toISOString(),
    message: world.message,
  });
  expect((await dispatchIssue(world.dispatch, postId, { pageSize: 7 })).status).toBe('dispatched');
  return world.sendJobs.map((job: SendJob, index) => ({ messageId: `m${index}`, job }));
}

function recipients(world: ReturnType<typeof sendingWorld>): string[] {
  return world.sent.map((message) => message.to).sort();
}

describe('sending rules on the in-memory adapters', () => {
  it('sends every active subscriber one copy, each after a slot of the rate limit', async () => {
    const world = sendingWorld({ subscribers: 90 });
    const jobs = await dispatched(world);
    const result = await world.worker().sendBatch(jobs);
    expect(result.retryMessageIds).toEqual([]);
    expect(result.counts.sent).toBe(90);
    expect(recipients(world)).toEqual(world.people.map((person) => person.email).sort());
    expect(world.rate.acquired).toBe(90);
    expect((await world.issues.getIssue('post-1'))?.state).toBe('dispatched');
    expect(await world.issues.getDelivery('post-1', world.people[0]!.id)).toMatchObject({ state: 'sent' });
  });

  it('sends nothing twice: a redelivered message and a second worker on the same jobs find the claims taken', async () => {
    const world = sendingWorld({ subscribers: 60 });
    const jobs = await dispatched(world);
    const [first, second] = await Promise.all([world.worker().sendBatch(jobs), world.worker().sendBatch(jobs)]);
    expect(first.counts.sent + second.counts.sent).toBe(60);
    const again = await world.worker().sendBatch(jobs);
    expect(again.counts.sent).toBe(0);
    expect(again.counts.duplicate).toBe(60);
    expect(new Set(recipients(world)).size).toBe(60);
    expect(world.sent).toHaveLength(60);
  });

  it('sends a dispatch that runs twice once: the second dispatcher finds the post dispatched', async () => {
    const world = sendingWorld({ subscribers: 20 });
    const jobs = await dispatched(world);
    expect((await dispatchIssue(world.dispatch, 'post-1')).status).toBe('not-dispatching');
    await world.worker().sendBatch(jobs);
    expect(world.sent).toHaveLength(20);
  });

  it('gives a throttled recipient back to the queue, and records them failed on the last receive', async () => {
    const world = sendingWorld({ subscribers: 3 });
    const jobs = await dispatched(world);
    const throttled = world.people[1]!.email;
    world.mailer.failWith = (message) =>
      message.to === throttled ? Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }) : undefined;
    const first = await world.worker({ throttleRetries: 0 }).sendBatch(jobs);
    expect(first.retryMessageIds).toEqual(jobs.map((job) => job.messageId));
    expect(first.counts.sent).toBe(2);
    const last = await world
      .worker({ throttleRetries: 0 })
      .sendBatch(jobs.map((job) => ({ ...job, lastReceive: true })));
    expect(last.counts.sent).toBe(0);
    const record = await world.issues.getDelivery('post-1', world.people[1]!.id);
    expect(record?.state).toBe('failed');
    expect(record?.reason).toMatch(new RegExp(`^${DEAD_LETTERED}`));
    expect(recipients(world)).not.toContain(throttled);
  });

  it('records a rejected address as failed and leaves a copy SES may have taken as unknown, never sent again', async () => {
    const world = sendingWorld({ subscribers: 3 });
    const jobs = await dispatched(world);
    const [rejected, timedOut] = [world.people[0]!, world.people[2]!];
    world.mailer.failWith = (message) => {
      if (message.to === rejected.email)
        return Object.assign(new Error('Address blacklisted'), { name: 'MessageRejected' });
      if (message.to === timedOut.email) return Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return undefined;
    };
    const result = await world.worker().sendBatch(jobs);
    expect(result.counts).toMatchObject({ sent: 1, failed: 1, unknown: 1 });
    expect(await world.issues.getDelivery('post-1', rejected.id)).toMatchObject({
      state: 'failed',
      reason: 'MessageRejected: Address blacklisted',
    });
    world.mailer.failWith = undefined;
    const again = await world.worker().sendBatch(jobs);
    expect(again.counts.sent).toBe(0);
    expect(recipients(world)).toEqual([world.people[1]!.email]);
    const states = [];
    for await (const page of world.issues.deliveries('post-1')) states.push(...page.map((delivery) => delivery.state));
    expect(states.sort()).toEqual(['failed', 'sending', 'sent']);
  });

  it('claims nothing inside the deadline reserve: the whole message comes back unsent', async () => {
    const world = sendingWorld({ subscribers: 5 });
    const jobs = await dispatched(world);
    const result = await world.worker({ deadlineReserveMs: 12_000 }).sendBatch(jobs, world.now.value.getTime() + 5_000);
    expect(result.retryMessageIds).toEqual(jobs.map((job) => job.messageId));
    expect(world.sent).toEqual([]);
    expect((await world.worker().sendBatch(jobs)).counts.sent).toBe(5);
  });

  it('skips a subscriber who left after the dispatch, and sends the others', async () => {
    const world = sendingWorld({ subscribers: 4 });
    const jobs = await dispatched(world);
    await world.directory.suppress(world.people[3]!.id, 'complained', world.now.value);
    const result = await world.worker().sendBatch(jobs);
    expect(result.counts).toMatchObject({ sent: 3, skipped: 1 });
    expect(await world.issues.getDelivery('post-1', world.people[3]!.id)).toMatchObject({ state: 'skipped' });
  });
});
