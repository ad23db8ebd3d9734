import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPublish } from '../../functions/cli/publish-command';
import { runStats } from '../../functions/cli/stats-command';
import { readSettings } from '../../functions/commons/config';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { DAY_COUNTER, dayOf, dayScope } from '../../functions/stats/counted';
import type { StatsSnapshot } from '../../functions/stats/snapshot';
import { importSubscribers } from '../../functions/subscribers/import';
import { storedEmails } from './delivery-harness';

/**
 * A real send through the local stack (publish, dispatch, the senders, the SES emulator and its
 * Send and Delivery events), then `pushletter stats`, as an editor runs them in a second terminal.
 */
const SITE = fileURLToPath(new URL('../fixtures/publish-blog/', import.meta.url));
const POST = join(SITE, '_posts', '2024-10-02-concurrent.md');
const POST_ID = '2024-10-02-concurrent';
const READERS = ['ada@example.org', 'lei@example.org', 'grace@example.org'];
const TIME_ZONE = 'Asia/Shanghai';

let stack: LocalStack;
let dataDir: string;
let inbox: string;
let app: string;
const savedEnvironment = { ...process.env };

async function stats(...args: string[]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  expect(await runStats(args, out)).toBe(0);
  return Buffer.concat(chunks).toString('utf8');
}

const snapshot = async (...args: string[]) => JSON.parse(await stats('--json', ...args)) as StatsSnapshot;

/** Waits until `check` passes: the emulator's events are handled after its answer to the sender. */
async function eventually(check: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await check();
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** The link in an email's plain-text part that starts with `path`. */
async function linkTo(address: string, path: string): Promise<string> {
  const emails = (await storedEmails(inbox)).filter((email) => email.destination.to.some((to) => to.includes(address)));
  const urls = emails.flatMap((email) => email.body.text?.match(/https?:\/\/\S+/g) ?? []);
  const url = urls.find((candidate) => new URL(candidate).pathname === path);
  if (url === undefined) throw new Error(`no ${path} link in the emails to ${address}`);
  return url;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pushletter-stats-'));
  stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: readSettings({ PUSHLETTER_TIMEZONE: TIME_ZONE }),
  });
  inbox = `http://127.0.0.1:${stack.ports.ses}`;
  app = `http://127.0.0.1:${stack.ports.http}`;
  process.env.PORT = String(stack.ports.http);
  process.env.SES_PORT = String(stack.ports.ses);
  process.env.DYNAMODB_PORT = String(stack.ports.dynamodb);
  process.env.PUSHLETTER_DATA_DIR = dataDir;
  process.env.PUSHLETTER_TIMEZONE = TIME_ZONE;
  const { composition } = stack;
  await importSubscribers(
    READERS.map((email, index) => ({ line: index + 2, email })),
    { store: composition.subscribers, service: composition.subscriptions, clock: composition.clock, confirmed: true },
  );
  const out = new PassThrough().resume();
  const err = new PassThrough().resume() as unknown as NodeJS.WriteStream;
  expect(await runPublish([POST], { out, err })).toBe(0);
  await stack.sending.idle();
});

afterAll(async () => {
  process.env = savedEnvironment;
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('pushletter stats', () => {
  it('shows a sent post as the pipeline sent and SES delivered it', async () => {
    await eventually(async () => {
      const { posts } = await snapshot(POST);
      expect(posts).toEqual([
        expect.objectContaining({
          postId: POST_ID,
          title: '同时发布两次',
          recipients: 3,
          notFor: {},
          sent: 3,
          delivered: 3,
          bounced: { permanent: 0, transient: 0 },
          complained: 0,
          rejected: 0,
          delayed: 0,
          unsubscribed: 0,
        }),
      ]);
      expect(posts[0]!.clicks).toBeUndefined();
    });
    const { rates, list, site } = await snapshot();
    expect(site.title).toBe(readSettings({}).siteTitle);
    expect(rates).toEqual({
      bounceRate30d: 0,
      complaintRate30d: 0,
      sent30d: 3,
      limits: { sesBounceReview: 0.05, sesComplaintReview: 0.001, gmailSpam: 0.003 },
    });
    expect(list).toHaveLength(30);
    expect(list.at(-1)).toMatchObject({ date: dayOf(new Date(), TIME_ZONE), active: 3 });
  });

  it("counts an unsubscribe through a post's one-click link on that post and on the day, once", async () => {
    const url = await linkTo(READERS[0]!, '/unsubscribe');
    // The link names the post, not the reader: the same reference in every copy.
    const reference = new URL(url).searchParams.get('post');
    expect(new URL(await linkTo(READERS[1]!, '/unsubscribe')).searchParams.get('post')).toBe(reference);
    for (let click = 0; click < 2; click++) {
      const response = await fetch(url.replace(/^https?:\/\/[^/]+/, app), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(response.status).toBe(200);
    }
    const { posts, list } = await snapshot(POST_ID);
    expect(posts[0]).toMatchObject({ sent: 3, unsubscribed: 1 });
    expect(list.at(-1)).toMatchObject({ unsubscribes: 1, active: 2 });
  });

  it('counts the list per day: a signup, its confirmation, and the active total at the end of the day', async () => {
    const signup = await fetch(`${app}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=newcomer%40example.org',
    });
    expect(signup.status).toBeLessThan(400);
    await eventually(async () => {
      await linkTo('newcomer@example.org', '/confirm');
    });
    const confirm = await linkTo('newcomer@example.org', '/confirm');
    expect((await fetch(confirm.replace(/^https?:\/\/[^/]+/, app), { method: 'POST' })).status).toBe(200);

    const { list, rates } = await snapshot();
    expect(list.at(-1)).toMatchObject({
      date: dayOf(new Date(), TIME_ZONE),
      signups: 1,
      confirmations: 1,
      unsubscribes: 1,
      bounces: 0,
      complaints: 0,
      active: 3,
    });
    // Earlier days end with what was active before today's changes: nobody, as the three
    // readers were imported today.
    expect(list.at(-2)).toMatchObject({ active: 0, signups: 0 });
    // The confirmation and the welcome count among the emails sent, as SES counts them.
    expect(rates.sent30d).toBe(5);
  });

  it('prints the rates next to their limits, then each post, aligned', async () => {
    const text = await stats();
    expect(text).toMatch(/^Rates over the last 30 days \(5 emails sent/m);
    expect(text).toMatch(/^ {2}bounce rate {5}0\.00% {3}SES reviews an account at 5%$/m);
    expect(text).toMatch(/^ {2}complaint rate {2}0\.00% {3}SES reviews at 0\.1%; Gmail's spam limit is 0\.3%$/m);
    expect(text).toContain(`${POST_ID}  "同时发布两次"`);
    expect(text).toMatch(/^ {2}sent {10}3$/m);
    expect(text).toMatch(/^ {2}unsubscribed {2}1$/m);
    // The post's two rates start in one column.
    const column = (label: string) =>
      text
        .split('\n')
        .find((line) => line.startsWith(`  ${label} `))!
        .indexOf(' rate ');
    expect(column('bounced')).toBeGreaterThan(0);
    expect(column('complained')).toBe(column('bounced') + 'complaint'.length - 'bounce'.length);
    expect(text).toMatch(/^ {2}date {8}signups {2}confirmed {2}unsubscribed {2}bounced {2}complained {2}active$/m);
  });

  it('counts a pending reader who unsubscribes as an unsubscribe, not as leaving the list or the post', async () => {
    const signup = await fetch(`${app}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=undecided%40example.org',
    });
    expect(signup.status).toBeLessThan(400);
    const { subscribers, subscriptions } = stack.composition;
    const { id } = (await subscribers.findByEmail('undecided@example.org'))!;
    // Even through a post's link (one kept from an earlier subscription): never on the post's list.
    const reference = new URL(await linkTo(READERS[1]!, '/unsubscribe')).searchParams.get('post')!;
    const leave = new URL(subscriptions.unsubscribeUrl(id));
    leave.searchParams.set('post', reference);
    const response = await fetch(`${app}${leave.pathname}${leave.search}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);
    expect((await subscribers.get(id))?.state).toBe('unsubscribed');

    const { list, posts } = await snapshot(POST_ID);
    expect(list.at(-1)).toMatchObject({ signups: 2, unsubscribes: 2, active: 3 });
    expect(list.at(-2)).toMatchObject({ active: 0 });
    expect(posts[0]).toMatchObject({ unsubscribed: 1 });
  });

  it('counts an erased active reader as leaving the list today, so earlier days keep their active total', async () => {
    const today = dayScope(dayOf(new Date(), TIME_ZONE));
    const { counters, subscriptions } = stack.composition;
    const left = async () => (await counters.read(today))[DAY_COUNTER.left] ?? 0;
    const before = { left: await left(), active: (await snapshot(POST_ID)).list.at(-1)!.active };
    expect(await subscriptions.forget(READERS[2]!)).toBe(true);
    expect(await left()).toBe(before.left + 1);
    expect((await snapshot(POST_ID)).list.at(-1)!.active).toBe(before.active - 1);
    expect(await subscriptions.forget(READERS[2]!)).toBe(false);
    expect(await left()).toBe(before.left + 1);
  });

  it('names a post that was never sent, and what to do', async () => {
    await expect(stats('2099-01-01-never')).rejects.toThrow(
      /no issue for post "2099-01-01-never": it has not been published/,
    );
  });
});
