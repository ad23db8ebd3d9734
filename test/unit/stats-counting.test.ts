import { describe, expect, it, vi } from 'vitest';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { POSTS_SCOPE, postEntry } from '../../functions/stats/counted';
import { sendingWorld } from './delivery-world';

/** What the sending pipeline counts, on the in-memory adapters. */
describe('counting a send', () => {
  it("counts a batch's copies sent and refused on the post and the day, in one addition, and a redelivered batch not again", async () => {
    const world = sendingWorld({ subscribers: 30 });
    const sendAt = world.now.value.toISOString();
    await world.issues.createIssue({
      postId: 'post-1',
      title: 'Hello',
      subject: 'Hello',
      state: 'dispatching',
      sendAt,
      message: world.message,
    });
    expect((await dispatchIssue(world.dispatch, 'post-1', { pageSize: 7 })).status).toBe('dispatched');
    const refused = world.people[4]!;
    world.mailer.failWith = (message) =>
      message.to === refused.email
        ? Object.assign(new Error('Address blacklisted'), { name: 'MessageRejected' })
        : undefined;
    const add = vi.spyOn(world.counters, 'add');
    const batch = world.sendJobs.map((job, index) => ({ messageId: `m${index}`, job }));
    await world.worker().sendBatch(batch);
    expect(add).toHaveBeenCalledTimes(1);
    expect(await world.counters.read('post#post-1')).toEqual({ sent: 29, rejected: 1 });
    expect(await world.counters.read('day#2026-06-01')).toEqual({ sent: 29 });
    // Listed once for `stats`, though dispatch queued five pages.
    expect(await world.counters.read(POSTS_SCOPE)).toEqual({ [postEntry(sendAt, 'post-1')]: 1 });

    // SQS delivers the same messages again: the claims are taken, nothing is sent or counted.
    await world.worker().sendBatch(batch);
    expect(await world.counters.read('post#post-1')).toEqual({ sent: 29, rejected: 1 });
  });

  it("puts the post's reference, the same in every copy and naming no reader, in each unsubscribe link", async () => {
    const world = sendingWorld({ subscribers: 3 });
    await world.issues.createIssue({
      postId: '/2026/06/01/长文/',
      title: 'Hello',
      subject: 'Hello',
      state: 'dispatching',
      sendAt: world.now.value.toISOString(),
      message: world.message,
    });
    await dispatchIssue(world.dispatch, '/2026/06/01/长文/');
    await world.worker().sendBatch(world.sendJobs.map((job, index) => ({ messageId: `m${index}`, job })));
    const links = world.sent.map(
      (message) =>
        /https:\/\/newsletter\.test\/unsubscribe\?[^\s>]+/.exec(Buffer.from(message.data).toString('latin1'))![0],
    );
    expect(links).toHaveLength(3);
    // The first link of each copy is its List-Unsubscribe header, which one-click uses.
    const references = links.map((link) => new URL(link).searchParams.get('post'));
    expect(new Set(references).size).toBe(1);
    expect(references[0]).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
