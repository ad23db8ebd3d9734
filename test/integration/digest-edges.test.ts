import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { readSettings, type Settings } from '../../functions/commons/config';
import type { DispatchJob } from '../../functions/contract/messages';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { runWeeklyDigest } from '../../functions/digest/weekly-digest';
import { deriveKeys } from '../../functions/subscribers/keys';
import type { Frequency } from '../../functions/subscribers/types';
import {
  clearEmails,
  pipeline,
  type Stack,
  type StoredEmail,
  startStack,
  storedEmails,
  TestQueue,
  testMessage,
} from './delivery-harness';

/**
 * The digest at its edges, on dynalite and the SES emulator, weeks in a row on one list: a week
 * no reader takes the digest, readers switching between each post and the digest mid-week, and
 * the editor moving the digest day. Every post reaches every reader once, one by one or in a
 * digest.
 */
const settings = readSettings({
  PUSHLETTER_SITE_TITLE: 'Field Notes',
  PUSHLETTER_SITE_URL: 'https://blog.example.com',
  PUSHLETTER_PUBLIC_URL: 'http://newsletter.test',
});

let stack: Stack;
/** The subscriber store on the stack's table, on a clock the test moves (preferences saved at a time). */
let store: DynamoSubscriberStore;
const now = { value: new Date('2026-11-01T00:00:00Z') };
const ids = new Map<string, string>();

beforeAll(async () => {
  stack = await startStack();
  store = new DynamoSubscriberStore({
    client: stack.dynamo,
    tableName: stack.tables.subscribersTable,
    idKey: deriveKeys(stack.masterKey).idKey,
    listName: 'newsletter',
    clock: { now: () => now.value },
  });
});

afterAll(async () => {
  await stack?.close();
});

async function addReader(email: string, frequency: Frequency): Promise<void> {
  const { id } = await store.createIfAbsent({
    email,
    state: 'active',
    consent: { at: '2026-11-01T00:00:00Z', source: 'import' },
  });
  await setFrequency(email, frequency, '2026-11-01T00:00:00Z');
  ids.set(email, id);
}

/** The reader saves the preferences page at `at`. */
async function setFrequency(email: string, frequency: Frequency, at: string): Promise<void> {
  now.value = new Date(at);
  expect(await store.updatePreferences(store.idFor(email), { topics: [], frequency, lang: 'en' })).toBe(true);
}

/**
 * A post sent at `sendAt`, recorded `dispatching` (its dispatch to come, `sendPost`) or
 * `dispatched` (as the digest sees it, nobody mailed here).
 */
async function recordPost(title: string, sendAt: string, state: 'dispatching' | 'dispatched'): Promise<void> {
  await stack.issues.createIssue({
    postId: title,
    title,
    subject: title,
    state,
    sendAt,
    message: testMessage(title),
    summary: {
      title,
      date: sendAt,
      url: `https://blog.example.com/${title}/`,
      lang: 'en',
      excerptHtml: `<p>${title}: the first paragraph.</p>`,
      excerptText: `${title}: the first paragraph.`,
    },
    categoriesAndTags: [],
  });
}

/** The post's dispatch and send, now, to its readers of each post. */
async function sendPost(title: string): Promise<void> {
  const run = pipeline(stack);
  await dispatchIssue(run.dispatchPorts, title);
  await run.idle();
}

/** The digest due at `at` on the editor's schedule, dispatched and sent when it starts. */
async function digest(at: string, schedule: Partial<Settings['digest']> = {}) {
  const dispatchQueue = new TestQueue<DispatchJob>();
  const outcome = await runWeeklyDigest({
    settings: { ...settings, digest: { ...settings.digest, ...schedule } },
    issues: stack.issues,
    subscribers: stack.subscribers,
    dispatchQueue,
    clock: { now: () => new Date(at) },
  });
  if (outcome.status === 'started') {
    const run = pipeline(stack);
    await dispatchIssue(run.dispatchPorts, outcome.digestId);
    await run.idle();
  }
  return { outcome, dispatched: dispatchQueue.sentMessages };
}

/** What a reader got: the posts sent to them one by one, and each digest's posts. */
function received(emails: StoredEmail[], email: string, titles: string[]): { single: string[]; digests: string[][] } {
  const theirs = emails.filter((stored) => stored.destination.to.some((to) => to.includes(email)));
  const digests = theirs.filter((stored) => stored.subject.startsWith('This week on'));
  return {
    single: theirs.filter((stored) => !digests.includes(stored)).map((stored) => stored.subject),
    digests: digests.map((stored) => titles.filter((title) => stored.body.text?.includes(`${title}: the first`))),
  };
}

describe('the weekly digest at its edges', () => {
  it('creates nothing in a week no reader takes the digest: no issue, no dispatch, no email', async () => {
    await addReader('each@example.com', 'post');
    await recordPost('Lonely post', '2026-11-24T10:00:00.000Z', 'dispatched');
    const { outcome, dispatched } = await digest('2026-11-30T08:00:00Z');
    expect(outcome).toEqual({ status: 'no-readers', digestId: 'digest/2026-W49', posts: 1 });
    expect(dispatched).toBe(0);
    expect(await stack.issues.getIssue('digest/2026-W49')).toBeUndefined();
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
  });

  it('sends a reader who switches mid-week each post once: before the switch the old way, after it the new', async () => {
    await addReader('leaver@example.com', 'digest');
    await addReader('joiner@example.com', 'post');
    await clearEmails(stack.sesUrl);
    await recordPost('Monday', '2026-11-30T10:00:00.000Z', 'dispatching');
    await sendPost('Monday');
    // Sent a minute before the readers switch; its dispatch reaches them after (a long list).
    await recordPost('Wednesday', '2026-12-02T08:59:00.000Z', 'dispatching');
    await setFrequency('leaver@example.com', 'post', '2026-12-02T09:00:00Z');
    await setFrequency('joiner@example.com', 'digest', '2026-12-02T09:00:00Z');
    await sendPost('Wednesday');
    await recordPost('Friday', '2026-12-04T10:00:00.000Z', 'dispatching');
    await sendPost('Friday');

    const { outcome } = await digest('2026-12-07T08:00:00Z');
    expect(outcome).toMatchObject({ status: 'started', digestId: 'digest/2026-W50', posts: 3, readers: 2 });
    const emails = await storedEmails(stack.sesUrl);
    const week = ['Monday', 'Wednesday', 'Friday'];
    expect(received(emails, 'leaver@example.com', week)).toEqual({
      single: ['Friday'],
      digests: [['Monday', 'Wednesday']],
    });
    expect(received(emails, 'joiner@example.com', week)).toEqual({
      single: ['Monday', 'Wednesday'],
      digests: [['Friday']],
    });
    expect(received(emails, 'each@example.com', week)).toEqual({ single: week, digests: [] });
  });

  it('puts every post in exactly one digest when the editor moves the digest day, either way', async () => {
    await clearEmails(stack.sesUrl);
    const posts: [string, string][] = [
      ['Tuesday-8th', '2026-12-08T10:00:00.000Z'],
      ['Wednesday-9th-early', '2026-12-09T07:00:00.000Z'],
      ['Thursday-10th', '2026-12-10T10:00:00.000Z'],
      ['Tuesday-15th', '2026-12-15T10:00:00.000Z'],
      ['Wednesday-16th-late', '2026-12-16T09:00:00.000Z'],
      ['Friday-18th', '2026-12-18T10:00:00.000Z'],
    ];
    for (const [title, sendAt] of posts) await recordPost(title, sendAt, 'dispatched');

    // Monday's digest went out this week: on the new Wednesday there is no second one.
    const wednesday = { day: 'wednesday' } as const;
    expect((await digest('2026-12-09T08:00:00Z', wednesday)).outcome).toMatchObject({
      status: 'exists',
      digestId: 'digest/2026-W50',
    });
    // The next Wednesday's carries everything since Monday's, nine days.
    expect((await digest('2026-12-16T08:00:00Z', wednesday)).outcome).toMatchObject({
      status: 'started',
      digestId: 'digest/2026-W51',
      posts: 4,
    });
    // Back to Monday: the Monday due on Thursday is before the last digest ended; it ran already.
    expect((await digest('2026-12-17T12:00:00Z')).outcome).toMatchObject({
      status: 'exists',
      digestId: 'digest/2026-W51',
    });
    expect((await digest('2026-12-21T08:00:00Z')).outcome).toMatchObject({
      status: 'started',
      digestId: 'digest/2026-W52',
      posts: 2,
    });

    const titles = posts.map(([title]) => title);
    const joiner = received(await storedEmails(stack.sesUrl), 'joiner@example.com', titles);
    expect(joiner).toEqual({ single: [], digests: [titles.slice(0, 4), titles.slice(4)] });
    expect((await stack.issues.getIssue('digest/2026-W51'))?.digest).toMatchObject({
      since: '2026-12-07T08:00:00.000Z',
      until: '2026-12-16T08:00:00.000Z',
    });
  });
});
