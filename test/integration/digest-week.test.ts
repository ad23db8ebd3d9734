import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import type { DispatchJob, SendJob } from '../../functions/contract/messages';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { runWeeklyDigest } from '../../functions/digest/weekly-digest';
import { categoriesAndTagsOf } from '../../functions/publishing/ingest-post';
import { summarizePost } from '../../functions/render/excerpt';
import { parsePost } from '../../functions/render/post';
import type { SiteConfig } from '../../functions/render/types';
import type { Frequency } from '../../functions/subscribers/types';
import type { ChildTask } from './delivery-child';
import {
  clearEmails,
  copiesByAddress,
  deliveriesOf,
  pipeline,
  type Stack,
  type StoredEmail,
  startFaultProxy,
  startStack,
  storedEmails,
  TestQueue,
} from './delivery-harness';

/**
 * A week of posts of several topics (Chinese ones among them) and readers of several choices:
 * each digest reader gets one digest, holding exactly the week's posts meant for them, however
 * often the digest runs and whatever crashes on the way.
 */
const CHILD = fileURLToPath(new URL('./delivery-child.ts', import.meta.url));
const settings = readSettings({
  PUSHLETTER_TOPICS: '旅行, rust, 烹饪',
  PUSHLETTER_DIGEST_DAY: 'monday',
  PUSHLETTER_DIGEST_HOUR: '8',
  PUSHLETTER_TIMEZONE: 'Asia/Shanghai',
  PUSHLETTER_SITE_TITLE: '田野笔记',
  PUSHLETTER_SITE_URL: 'https://blog.example.com',
  PUSHLETTER_PUBLIC_URL: 'http://newsletter.test',
});
const site: SiteConfig = {
  url: 'https://blog.example.com',
  baseurl: '',
  title: '田野笔记',
  permalink: 'date',
  timezone: 'Asia/Shanghai',
  data: {},
};

/** The Monday 08:00 (Shanghai) digest of ISO week 50 covers posts sent from 30 Nov 08:00 to 7 Dec 08:00. */
const DIGEST_TIME = new Date('2026-12-07T00:30:00Z');
const WEEK_ID = 'digest/2026-W50';

interface WeekPost {
  id: string;
  title: string;
  sendAt: string;
  frontMatter: string;
}

const POSTS: WeekPost[] = [
  {
    id: '2026-12-01-kyoto',
    title: '京都的秋天',
    sendAt: '2026-12-01T02:00:00Z',
    frontMatter: 'categories: [旅行]',
  },
  {
    id: '2026-12-02-borrowing',
    title: 'Borrowing without tears',
    sendAt: '2026-12-02T10:00:00Z',
    frontMatter: 'tags: [rust]',
  },
  { id: '2026-12-04-notes', title: '周末随笔', sendAt: '2026-12-04T12:00:00Z', frontMatter: 'categories: [随笔]' },
];
/** Sent after the digest time: next week's digest carries it, not this one. */
const LATE_POST: WeekPost = {
  id: '2026-12-07-late',
  title: 'Too late for this week',
  sendAt: '2026-12-07T01:00:00Z',
  frontMatter: 'tags: [rust]',
};

async function recordPost(stack: Stack, post: WeekPost): Promise<void> {
  const source = `---\ntitle: ${post.title}\n${post.frontMatter}\n---\n\n${post.title}: the first paragraph, 第一段。\n\nThe rest of the post.\n`;
  const parsed = await parsePost({ path: `_posts/${post.id}.md`, source, site });
  await stack.issues.createIssue({
    postId: post.id,
    title: post.title,
    subject: post.title,
    state: 'dispatched',
    sendAt: post.sendAt,
    summary: summarizePost(parsed),
    categoriesAndTags: categoriesAndTagsOf(parsed),
  });
}

interface Reader {
  email: string;
  topics?: string[];
  frequency?: Frequency;
  state?: 'active' | 'pending';
  /** The language they signed up in. */
  lang?: string;
  /** The titles their digest must hold; none: no digest. */
  expects: string[];
}

const [KYOTO, BORROWING, NOTES] = POSTS.map((post) => post.title) as [string, string, string];
const READERS: Reader[] = [
  { email: 'everything@example.com', frequency: 'digest', expects: [KYOTO, BORROWING, NOTES] },
  { email: 'travel@example.com', frequency: 'digest', topics: ['旅行'], expects: [KYOTO, NOTES] },
  { email: 'english@example.com', frequency: 'digest', topics: ['旅行'], lang: 'en', expects: [KYOTO, NOTES] },
  { email: 'rust@example.com', frequency: 'digest', topics: ['Rust'], expects: [BORROWING, NOTES] },
  { email: 'both@example.com', frequency: 'digest', topics: ['旅行', 'rust'], expects: [KYOTO, BORROWING, NOTES] },
  { email: 'cooking@example.com', frequency: 'digest', topics: ['烹饪'], expects: [NOTES] },
  { email: 'each-post@example.com', frequency: 'post', topics: ['rust'], expects: [] },
  { email: 'default@example.com', expects: [] },
  { email: 'pending@example.com', frequency: 'digest', state: 'pending', expects: [] },
];

async function addReader(stack: Stack, reader: Pick<Reader, 'email' | 'topics' | 'frequency' | 'state' | 'lang'>) {
  const { id } = await stack.subscribers.createIfAbsent({
    email: reader.email,
    state: reader.state ?? 'active',
    ...(reader.lang ? { lang: reader.lang } : {}),
    consent: { at: '2026-11-01T00:00:00Z', source: 'import' },
  });
  // Topics and frequency as the preferences page and the form store them.
  const fields = {
    ...(reader.topics ? { topics: reader.topics } : {}),
    ...(reader.frequency ? { frequency: reader.frequency } : {}),
  };
  if (Object.keys(fields).length > 0) {
    await stack.dynamo.send(
      new UpdateItemCommand({
        TableName: stack.tables.subscribersTable,
        Key: marshall({ id }),
        UpdateExpression: `SET ${Object.keys(fields)
          .map((name) => `#${name} = :${name}`)
          .join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(Object.keys(fields).map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: marshall(
          Object.fromEntries(Object.entries(fields).map(([name, value]) => [`:${name}`, value])),
        ),
      }),
    );
  }
  return id;
}

const titlesIn = (email: StoredEmail) =>
  [KYOTO, BORROWING, NOTES, LATE_POST.title].filter((title) => email.body.text?.includes(title));

function emailsTo(emails: StoredEmail[], address: string): StoredEmail[] {
  return emails.filter((email) => email.destination.to.some((to) => to.toLowerCase().includes(address)));
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  for (const post of [...POSTS, LATE_POST]) await recordPost(stack, post);
  for (const reader of READERS) await addReader(stack, reader);
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  await clearEmails(stack.sesUrl);
});

/** What the digest function runs with, at a given time; its dispatch jobs stay in the test's queue. */
function digestPorts(at: Date) {
  const dispatchQueue = new TestQueue<DispatchJob>();
  return { settings, issues: stack.issues, subscribers: stack.subscribers, dispatchQueue, clock: { now: () => at } };
}

/** The digest's dispatch and send, as the dispatch and send functions run them. */
async function sendDigest(digestId: string) {
  const run = pipeline(stack);
  await dispatchIssue(run.dispatchPorts, digestId);
  await run.idle();
  return run;
}

describe('the weekly digest', () => {
  it('gives each digest reader one copy with exactly their posts, run twice; nobody else gets one', async () => {
    const ports = digestPorts(DIGEST_TIME);
    const first = await runWeeklyDigest(ports);
    expect(first).toMatchObject({ status: 'started', digestId: WEEK_ID, posts: 3, readers: 6 });
    // Four distinct sets of posts among the six readers (two take the whole week), one of them
    // also in English.
    expect(first.status === 'started' && first.variants).toBe(5);
    const run = await sendDigest(WEEK_ID);
    // The schedule fires again (or the editor runs `digest --send`): nothing new is sent, and a
    // send job delivered twice sends nothing either.
    expect(await runWeeklyDigest(ports)).toMatchObject({ status: 'exists', digestId: WEEK_ID, resumed: false });
    await run.consume(run.sent.jobs.map((job, index) => ({ messageId: `again-${index}`, body: JSON.stringify(job) })));

    const emails = await storedEmails(stack.sesUrl);
    for (const reader of READERS) {
      const copies = emailsTo(emails, reader.email);
      if (reader.expects.length === 0) {
        expect(copies, reader.email).toHaveLength(0);
        continue;
      }
      expect(copies, reader.email).toHaveLength(1);
      expect(titlesIn(copies[0]!), reader.email).toEqual(reader.expects);
      expect(copies[0]!.subject).toContain('田野笔记');
      // The digest's words are the reader's language, else the site's (most of the week is
      // Chinese here); each carries the reader's own link.
      if (reader.lang === 'en') {
        expect(copies[0]!.subject).toMatch(/^This week on 田野笔记: /);
        expect(copies[0]!.body.text).toContain('Unsubscribe: http://newsletter.test/unsubscribe?token=');
      } else {
        expect(copies[0]!.subject).toMatch(/^「田野笔记」本周：/);
        expect(copies[0]!.body.text).toContain('退订: http://newsletter.test/unsubscribe?token=');
      }
    }
    const status = [...(await deliveriesOf(stack, WEEK_ID)).values()];
    expect(status.map((delivery) => delivery.state)).toEqual(Array(6).fill('sent'));
  });

  it('resumed after a sender was killed mid-send, sends nobody a second copy', async () => {
    // Next week: the late post alone, for 120 more digest readers of Rust.
    const readers = Array.from({ length: 120 }, (_, index) => `crash${index}@example.com`);
    for (const email of readers) await addReader(stack, { email, frequency: 'digest', topics: ['rust'] });
    const ports = digestPorts(new Date('2026-12-14T00:30:00Z'));
    const started = await runWeeklyDigest(ports);
    // The late post is rust-only: the travel and cooking readers have nothing this week.
    expect(started).toMatchObject({ status: 'started', digestId: 'digest/2026-W51', posts: 1, readers: 123 });

    const captured = new TestQueue<SendJob>({ batchSize: 100 });
    const run = pipeline(stack);
    await dispatchIssue({ ...run.dispatchPorts, sendQueue: captured }, 'digest/2026-W51');
    const batch = captured.receive();

    // SES stops answering after 30 copies, and the sender is killed while copies are in flight.
    const silentSes = await startFaultProxy(stack.sesUrl, () => undefined, { answerOnly: 30 });
    try {
      const task: ChildTask = {
        mode: 'send',
        sesUrl: silentSes.url,
        dynamoUrl: stack.dynamoUrl,
        masterKey: stack.masterKey.toString('base64'),
        tables: stack.tables,
        records: batch,
        concurrency: 8,
      };
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(task)], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const deadline = Date.now() + 60_000;
      while (silentSes.unanswered < 1) {
        if (Date.now() > deadline) throw new Error('timed out waiting for a copy whose answer the sender never gets');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      await exited;
    } finally {
      await silentSes.close();
    }

    // The digest runs again (the schedule's retry), and the queue redelivers the dead sender's batch.
    expect(await runWeeklyDigest(ports)).toMatchObject({ status: 'exists' });
    expect(await run.consume(batch)).toEqual([]);

    const emails = await storedEmails(stack.sesUrl);
    const copies = copiesByAddress(emails);
    const deliveries = await deliveriesOf(stack, 'digest/2026-W51');
    const ids = new Map<string, string>();
    for (const email of [...readers, 'rust@example.com', 'both@example.com', 'everything@example.com'])
      ids.set(email, (await stack.subscribers.findByEmail(email))!.id);
    let inDoubt = 0;
    for (const [email, id] of ids) {
      expect(copies.get(email) ?? 0, email).toBeLessThanOrEqual(1);
      const delivery = deliveries.get(id);
      if (delivery?.state === 'sending') inDoubt++;
      else {
        expect(delivery?.state, email).toBe('sent');
        expect(copies.get(email), email).toBe(1);
      }
    }
    expect(inDoubt).toBeGreaterThan(0);
    for (const email of emails) expect(titlesIn(email)).toEqual([LATE_POST.title]);
    for (const address of ['travel@example.com', 'english@example.com', 'cooking@example.com', 'default@example.com'])
      expect(copies.get(address) ?? 0, address).toBe(0);
  });

  it('skips a week without posts: no issue, no email', async () => {
    // The week after the late post's: nothing was sent since that digest.
    const ports = digestPorts(new Date('2026-12-21T02:00:00Z'));
    expect(await runWeeklyDigest(ports)).toEqual({ status: 'empty', digestId: 'digest/2026-W52' });
    expect(await stack.issues.getIssue('digest/2026-W52')).toBeUndefined();
    expect(ports.dispatchQueue.sentMessages).toBe(0);
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
  });
});
