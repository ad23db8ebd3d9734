import { describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { categoriesAndTagsOf } from '../../functions/publishing/ingest-post';
import type { Frequency } from '../../functions/subscribers/types';
import { sendingWorld } from './delivery-world';

/**
 * Topic routing on the in-memory adapters: dispatch queues only the readers a post is for and
 * counts the others by reason in its checkpoints. The integration suite
 * (test/integration/delivery-topics.test.ts) runs the same over dynalite and the SES emulator.
 */
function topicWorld() {
  const world = sendingWorld();
  const readers: Record<string, { topics?: string[]; frequency?: Frequency }> = {};
  const add = (name: string, count: number, choices: { topics?: string[]; frequency?: Frequency }) => {
    for (let index = 0; index < count; index++) {
      const email = `${name}${index}@example.com`;
      world.directory.put({
        id: `id-${email}`,
        email,
        state: 'active',
        createdAt: world.now.value.toISOString(),
        consent: { at: world.now.value.toISOString(), source: 'form' },
        ...choices,
      });
      readers[`id-${email}`] = choices;
    }
  };
  add('travel', 5, { topics: ['旅行'] });
  add('rust', 6, { topics: ['Rust'] });
  add('all', 4, {});
  add('digest', 3, { topics: ['旅行'], frequency: 'digest' });
  const dispatch = { ...world.dispatch, topics: parseTopics('旅行, rust') };
  const publish = (postId: string, categoriesAndTags: string[]) =>
    world.issues.createIssue({
      postId,
      title: postId,
      subject: postId,
      state: 'dispatching',
      sendAt: world.now.value.toISOString(),
      message: world.message,
      categoriesAndTags,
    });
  const queued = () => world.sendJobs.flatMap((job) => job.subscriberIds).sort();
  return { world, dispatch, publish, queued };
}

describe('dispatch by topic', () => {
  it('queues a post of one topic to its readers and those who chose none, and counts the rest by reason', async () => {
    const { world, dispatch, publish, queued } = topicWorld();
    await publish('trip', ['旅行', 'photos']);
    expect(await dispatchIssue(dispatch, 'trip', { pageSize: 4 })).toEqual({ status: 'dispatched', enqueued: 9 });
    expect(queued()).toEqual([
      ...Array.from({ length: 4 }, (_, index) => `id-all${index}@example.com`),
      ...Array.from({ length: 5 }, (_, index) => `id-travel${index}@example.com`),
    ]);
    expect(await world.issues.getIssue('trip')).toMatchObject({ enqueued: 9, notFor: { topics: 6, digest: 3 } });
  });

  it('matches topic names as Unicode text, whatever their case', async () => {
    const { dispatch, publish, queued } = topicWorld();
    await publish('borrow', ['RUST']);
    await dispatchIssue(dispatch, 'borrow');
    expect(queued().filter((id) => id.startsWith('id-rust'))).toHaveLength(6);
    expect(queued()).toHaveLength(10);
  });

  it('sends a post with none of the offered topics to everyone but the digest readers', async () => {
    const { world, dispatch, publish } = topicWorld();
    await publish('news', ['announcements']);
    expect(await dispatchIssue(dispatch, 'news')).toEqual({ status: 'dispatched', enqueued: 15 });
    expect((await world.issues.getIssue('news'))?.notFor).toEqual({ topics: 0, digest: 3 });
  });

  it('counts each reader once when a dispatch stops at its deadline and another resumes it', async () => {
    const { world, dispatch, publish, queued } = topicWorld();
    await publish('trip', ['旅行']);
    const hurried = { ...dispatch, remainingMs: () => 0 };
    expect(await dispatchIssue(hurried, 'trip', { pageSize: 5 })).toMatchObject({ status: 'continued' });
    expect((await world.issues.getIssue('trip'))?.notFor).toBeDefined();
    while ((await dispatchIssue(hurried, 'trip', { pageSize: 5 })).status === 'continued');
    expect((await world.issues.getIssue('trip'))?.state).toBe('dispatched');
    expect(queued()).toHaveLength(9);
    expect(await world.issues.getIssue('trip')).toMatchObject({ enqueued: 9, notFor: { topics: 6, digest: 3 } });
  });

  it('never claims or mails the readers a post is not for', async () => {
    const { world, dispatch, publish } = topicWorld();
    await publish('trip', ['旅行']);
    await dispatchIssue(dispatch, 'trip');
    const jobs = world.sendJobs.map((job, index) => ({ messageId: `m${index}`, job }));
    expect((await world.worker().sendBatch(jobs)).counts.sent).toBe(9);
    expect(world.sent.map((message) => message.to).filter((to) => /^(rust|digest)/.test(to))).toEqual([]);
    expect(await world.issues.getDelivery('trip', 'id-rust0@example.com')).toBeUndefined();
    expect(await world.issues.getDelivery('trip', 'id-digest0@example.com')).toBeUndefined();
  });

  it('without topics configured, sends every post to every reader but the digest readers', async () => {
    const { world, publish } = topicWorld();
    await publish('trip', ['旅行']);
    expect(await dispatchIssue(world.dispatch, 'trip')).toEqual({ status: 'dispatched', enqueued: 15 });
  });
});

describe('the categories and tags an issue keeps', () => {
  it('keeps each name once, categories first, and stops before a runaway front matter fills the record', () => {
    expect(categoriesAndTagsOf({ categories: ['旅行', 'notes'], tags: ['rust', '旅行'] })).toEqual([
      '旅行',
      'notes',
      'rust',
    ]);
    const tags = Array.from({ length: 5_000 }, (_, index) => `tag-${String(index).padStart(6, '0')}`);
    const kept = categoriesAndTagsOf({ categories: ['旅行'], tags });
    expect(kept[0]).toBe('旅行');
    expect(kept.join('').length).toBeLessThanOrEqual(10_000);
    expect(kept.length).toBeGreaterThan(900);
  });
});
