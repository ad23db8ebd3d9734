import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import { openLocalBlog } from '../../functions/local/blog';
import { DAY_COUNTER, dayOf, dayScope } from '../../functions/stats/counted';
import { importSubscribers } from '../../functions/subscribers/import';
import {
  confirmLink,
  heading,
  type InboxEmail,
  inbox,
  postForm,
  pressConfirm,
  startTestStack,
  type TestStack,
  testSettings,
  uniqueAddress,
} from './http-helpers';

/**
 * What follows a signup, through the local stack's HTTP server, dynalite and the SES emulator:
 * one welcome email after confirming (the blog's own `_newsletter/welcome.md`, or the default),
 * one reminder a day after an unconfirmed signup, and the pending record deleted after 7 days.
 * The test clock moves; `runTimer` is what the AWS schedule (a timer locally) runs.
 */
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const welcomesOf = (emails: InboxEmail[]) => emails.filter((email) => /^(Welcome|欢迎)/.test(email.subject));
const remindersOf = (emails: InboxEmail[]) => emails.filter((email) => /^(Reminder|提醒)/.test(email.subject));

/** Emails counted as sent on the days from `since` to the stack's now (UTC, the test stack's time zone). */
async function countedSent(stack: TestStack, since: Date): Promise<number> {
  let total = 0;
  for (let at = since.getTime(); at <= stack.clock.now().getTime() + DAY; at += DAY) {
    total += (await stack.composition.counters.read(dayScope(dayOf(new Date(at), 'UTC'))))[DAY_COUNTER.sent] ?? 0;
  }
  return total;
}

async function signUp(stack: TestStack, address: string, lang?: string): Promise<void> {
  const response = await postForm(`${stack.urls.app}/subscribe`, { email: address, ...(lang ? { lang } : {}) });
  expect(response.status).toBe(200);
}

describe('the default welcome email (a blog without _newsletter/welcome.md)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ topics: parseTopics('旅行, rust') });
  });
  afterAll(async () => {
    await stack?.dispose();
  });

  it('comes once, right after confirming: a second click on the button sends nothing', async () => {
    const address = uniqueAddress('welcome');
    await signUp(stack, address);
    const link = await confirmLink(stack, address);
    expect(heading(await (await pressConfirm(link)).text())).toBe('You are subscribed');
    expect(heading(await (await pressConfirm(link)).text())).toBe('Already confirmed');
    await stack.runTimer();

    const welcomes = welcomesOf(await inbox(stack, address));
    expect(welcomes).toHaveLength(1);
    const [welcome] = welcomes;
    expect(welcome!.subject).toBe('Welcome to Example Blog');
    expect(welcome!.body.text).toContain('You will receive each new post by email');
    expect(welcome!.body.text).toContain('Visit Example Blog: https://blog.example.org/');
    // Its unsubscribe link is the reader's own and works with one click (RFC 8058).
    const unsubscribe = /Unsubscribe: (\S+\/unsubscribe\?token=\S+)/.exec(welcome!.body.text ?? '')?.[1];
    expect(unsubscribe).toBeDefined();
    expect(welcome!.body.html).toContain(unsubscribe!.replaceAll('&', '&amp;'));
    const oneClick = await postForm(unsubscribe!, { 'List-Unsubscribe': 'One-Click' });
    expect(oneClick.status).toBe(200);
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('unsubscribed');
  });

  it('speaks the language the reader signed up in', async () => {
    const address = uniqueAddress('welcome-zh');
    await signUp(stack, address, 'zh-CN');
    await pressConfirm(await confirmLink(stack, address));
    const [welcome, ...more] = welcomesOf(await inbox(stack, address));
    expect(more).toEqual([]);
    expect(welcome!.subject).toBe('欢迎订阅 Example Blog');
    expect(welcome!.body.text).toContain('每篇新文章发布后不久，都会发送到你的邮箱。');
    expect(welcome!.body.html).toContain('lang="zh-CN"');
  });

  it('says which topics the reader chose on the form, and that a weekly digest is what comes', async () => {
    const address = uniqueAddress('welcome-topics');
    const body = new URLSearchParams([
      ['email', address],
      ['lang', 'zh-CN'],
      ['topics', '旅行'],
      ['frequency', 'digest'],
    ]);
    const response = await fetch(`${stack.urls.app}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    expect(response.status).toBe(200);
    await pressConfirm(await confirmLink(stack, address));
    const [welcome] = welcomesOf(await inbox(stack, address));
    expect(welcome!.body.text).toContain('你选择的主题：旅行。');
    expect(welcome!.body.text).toContain('你会收到每周摘要');
    expect(welcome!.body.text).toMatch(/^管理订阅: http:\/\/localhost:\d+\/preferences\?token=[\w-]+$/m);
  });

  it('is not sent to readers the editor imports with --confirmed, even one who had signed up; they join the list today', async () => {
    const signedUp = uniqueAddress('imported-pending');
    const fresh = uniqueAddress('imported-fresh');
    await signUp(stack, signedUp);
    const { composition } = stack;
    const today = dayScope(dayOf(stack.clock.now(), 'UTC'));
    const joinedBefore = (await composition.counters.read(today))[DAY_COUNTER.joined] ?? 0;
    const report = await importSubscribers(
      [
        { line: 2, email: signedUp },
        { line: 3, email: fresh },
      ],
      { store: composition.subscribers, service: composition.subscriptions, clock: composition.clock, confirmed: true },
    );
    expect(report).toMatchObject({ imported: 1, updated: 1 });
    expect((await composition.counters.read(today))[DAY_COUNTER.joined] ?? 0).toBe(joinedBefore + 2);

    stack.clock.advance(30 * MINUTE);
    await stack.runTimer();
    expect(welcomesOf(await inbox(stack, signedUp))).toEqual([]);
    expect(welcomesOf(await inbox(stack, fresh))).toEqual([]);
    // Nothing left owed that a later run could send or that would stay owed for ever.
    const { id } = (await composition.subscribers.findByEmail(signedUp))!;
    expect(await composition.subscribers.claimWelcome(id, stack.clock.now())).toBe('not-owed');
  });

  it('is not lost when the process dies between activating the reader and sending it, nor sent twice', async () => {
    const address = uniqueAddress('welcome-crash');
    await signUp(stack, address);
    const link = await confirmLink(stack, address);
    // The confirming request "dies" right after the activation: nothing after it runs.
    const store = stack.composition.subscribers;
    const claimWelcome = store.claimWelcome;
    store.claimWelcome = async () => {
      store.claimWelcome = claimWelcome;
      throw new Error('the process died here');
    };
    expect(heading(await (await pressConfirm(link)).text())).toBe('You are subscribed');
    expect(store.claimWelcome).toBe(claimWelcome);
    expect(welcomesOf(await inbox(stack, address))).toEqual([]);

    // The schedule finds it once it is due, and only once however often it runs.
    await stack.runTimer();
    expect(welcomesOf(await inbox(stack, address))).toEqual([]);
    stack.clock.advance(6 * MINUTE);
    await stack.runTimer();
    await stack.runTimer();
    expect(heading(await (await pressConfirm(link)).text())).toBe('Already confirmed');
    stack.clock.advance(30 * MINUTE);
    await stack.runTimer();
    expect(welcomesOf(await inbox(stack, address))).toHaveLength(1);
  });

  it('is sent by the schedule when the process died holding it, after the claim goes stale, once', async () => {
    const address = uniqueAddress('welcome-held');
    await signUp(stack, address);
    const link = await confirmLink(stack, address);
    // Dies after claiming the welcome, before sending it: the claim stays.
    const store = stack.composition.subscribers;
    const claimWelcome = store.claimWelcome;
    const get = store.get;
    store.claimWelcome = async (...args) => {
      store.claimWelcome = claimWelcome;
      const claim = await claimWelcome.apply(store, args);
      store.get = async () => {
        store.get = get;
        throw new Error('the process died here');
      };
      return claim;
    };
    expect(heading(await (await pressConfirm(link)).text())).toBe('You are subscribed');
    expect(store.get).toBe(get);

    stack.clock.advance(6 * MINUTE);
    await stack.runTimer();
    // Claimed 6 minutes ago: its holder may still be sending.
    expect(welcomesOf(await inbox(stack, address))).toEqual([]);
    stack.clock.advance(10 * MINUTE);
    await stack.runTimer();
    await stack.runTimer();
    expect(welcomesOf(await inbox(stack, address))).toHaveLength(1);
  });
});

describe('the reminder of an unconfirmed signup', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.dispose();
  });

  it('comes once, a day after signing up, with a fresh link that confirms', async () => {
    const address = uniqueAddress('reminder');
    const start = stack.clock.now();
    await signUp(stack, address);
    stack.clock.advance(23 * HOUR);
    await stack.runTimer();
    expect(remindersOf(await inbox(stack, address))).toEqual([]);

    stack.clock.advance(HOUR + MINUTE);
    await stack.runTimer();
    await stack.runTimer();
    const reminders = remindersOf(await inbox(stack, address));
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.subject).toBe('Reminder: confirm your subscription to Example Blog');
    expect(reminders[0]!.body.text).toContain('This is the only reminder.');

    stack.clock.advance(3 * DAY);
    await stack.runTimer();
    expect(remindersOf(await inbox(stack, address))).toHaveLength(1);

    const link = await confirmLink(stack, address);
    expect(heading(await (await pressConfirm(link)).text())).toBe('You are subscribed');
    expect(welcomesOf(await inbox(stack, address))).toHaveLength(1);
    // The confirmation, the reminder and the welcome: SES counts each in the account's bounce
    // and complaint rates, and so do the figures' 30-day rates.
    expect(await inbox(stack, address)).toHaveLength(3);
    expect(await countedSent(stack, start)).toBe(3);
  });

  it('is not doubled by signing up again: it follows the latest confirmation email by a day', async () => {
    const address = uniqueAddress('reminder-again');
    await signUp(stack, address, 'zh-CN');
    stack.clock.advance(12 * HOUR);
    await signUp(stack, address, 'zh-CN');
    expect(await inbox(stack, address)).toHaveLength(2);

    stack.clock.advance(12 * HOUR + MINUTE);
    await stack.runTimer();
    // A day after the first signup, but only half a day after the second confirmation email.
    expect(remindersOf(await inbox(stack, address))).toEqual([]);
    stack.clock.advance(12 * HOUR);
    await stack.runTimer();
    stack.clock.advance(DAY);
    await stack.runTimer();
    const reminders = remindersOf(await inbox(stack, address));
    expect(reminders.map((email) => email.subject)).toEqual(['提醒：请确认订阅 Example Blog']);
  });

  it('is never sent to a reader who confirmed in time', async () => {
    const address = uniqueAddress('reminder-confirmed');
    await signUp(stack, address);
    await pressConfirm(await confirmLink(stack, address));
    stack.clock.advance(DAY + MINUTE);
    await stack.runTimer();
    expect(remindersOf(await inbox(stack, address))).toEqual([]);
  });
});

describe('an unconfirmed signup after 7 days', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.dispose();
  });

  it('is deleted with its address; the address may sign up again; an active subscriber stays', async () => {
    const pending = uniqueAddress('pending');
    const imported = uniqueAddress('imported');
    const active = uniqueAddress('active');
    await signUp(stack, active);
    await pressConfirm(await confirmLink(stack, active));
    await signUp(stack, pending);
    const { composition } = stack;
    const subscribers = composition.subscribers;
    // Imported and asked to confirm by email: kept no longer than a form signup.
    await importSubscribers([{ line: 2, email: imported }], {
      store: subscribers,
      service: composition.subscriptions,
      clock: composition.clock,
      confirmed: false,
    });
    expect(await inbox(stack, imported)).toHaveLength(1);

    stack.clock.advance(7 * DAY - MINUTE);
    await stack.runTimer();
    expect((await subscribers.findByEmail(pending))?.state).toBe('pending');
    expect((await subscribers.findByEmail(imported))?.state).toBe('pending');

    stack.clock.advance(2 * MINUTE);
    expect((await stack.runTimer()).deleted).toBe(2);
    expect(await subscribers.findByEmail(pending)).toBeUndefined();
    expect(await subscribers.findByEmail(imported)).toBeUndefined();
    expect((await subscribers.findByEmail(active))?.state).toBe('active');
    // Its old link says so; a new signup starts afresh.
    expect(heading(await (await pressConfirm(await confirmLink(stack, pending))).text())).toBe(
      'This confirmation link does not work',
    );
    await signUp(stack, pending);
    expect((await subscribers.findByEmail(pending))?.state).toBe('pending');
    await pressConfirm(await confirmLink(stack, pending));
    expect((await subscribers.findByEmail(pending))?.state).toBe('active');

    stack.clock.advance(30 * DAY);
    expect((await stack.runTimer()).deleted).toBe(0);
    expect((await subscribers.findByEmail(active))?.state).toBe('active');
    expect((await subscribers.findByEmail(pending))?.state).toBe('active');
  });

  it('keeps a complaint about a confirmation email: that mailbox is never mailed again', async () => {
    const complainer = uniqueAddress('complainer');
    await signUp(stack, complainer);
    const subscribers = stack.composition.subscribers;
    const { id } = (await subscribers.findByEmail(complainer))!;
    await subscribers.suppress(id, 'complained', stack.clock.now());
    stack.clock.advance(8 * DAY);
    await stack.runTimer();
    expect((await subscribers.findByEmail(complainer))?.state).toBe('complained');
    await signUp(stack, complainer);
    expect(await inbox(stack, complainer)).toHaveLength(1);
  });
});

describe("the blog's own welcome email (_newsletter/welcome.md)", () => {
  let stack: TestStack;
  let blogDir: string;
  beforeAll(async () => {
    blogDir = await mkdtemp(join(tmpdir(), 'pushletter-welcome-blog-'));
    await mkdir(join(blogDir, '_posts'));
    await mkdir(join(blogDir, '_newsletter'));
    await mkdir(join(blogDir, '_includes'));
    await writeFile(join(blogDir, '_includes', 'signature.html'), '<p>—— 林夕</p>\n');
    await writeFile(
      join(blogDir, '_config.yml'),
      'title: 云栈笔记\nurl: "https://notes.example.cn"\nlang: zh-CN\ntimezone: Asia/Shanghai\n',
    );
    await writeFile(
      join(blogDir, '_newsletter', 'welcome.md'),
      '---\ntitle: 欢迎来到云栈笔记\n---\n\n你好！这里每周写一点**运维**笔记。\n\n- 文章一般在周末发布\n- 可以直接回复邮件和我聊\n\n{% include signature.html %}\n',
    );
    stack = await startTestStack({}, { blog: await openLocalBlog(blogDir, testSettings()) });
  });
  afterAll(async () => {
    await stack?.dispose();
    await rm(blogDir, { recursive: true, force: true });
  });

  it('is what every confirming reader gets, rendered like a post, once', async () => {
    const address = uniqueAddress('own-welcome');
    await signUp(stack, address, 'en');
    const link = await confirmLink(stack, address);
    await pressConfirm(link);
    await pressConfirm(link);
    stack.clock.advance(HOUR);
    await stack.runTimer();

    const welcomes = (await inbox(stack, address)).filter((email) => email.subject === '欢迎来到云栈笔记');
    expect(welcomes).toHaveLength(1);
    const [welcome] = welcomes;
    expect(welcome!.body.html).toContain('<strong>运维</strong>');
    expect(welcome!.body.html).toContain('可以直接回复邮件和我聊');
    // An include of the blog's, read from its folder.
    expect(welcome!.body.text).toContain('—— 林夕');
    expect(welcome!.body.html).toContain('lang="zh-CN"');
    // "View on the web" leads to the blog (as the local stack serves it), not to a page that does not exist.
    expect(stack.urls.blog).toMatch(/\/blog\/$/);
    expect(welcome!.body.text).toMatch(new RegExp(`^在网页上查看: ${stack.urls.blog}$`, 'm'));
    const unsubscribe = /(http\S+\/unsubscribe\?token=[\w-]+)/.exec(welcome!.body.text ?? '')?.[1];
    expect(unsubscribe).toBeDefined();
    expect((await postForm(unsubscribe!, { 'List-Unsubscribe': 'One-Click' })).status).toBe(200);
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('unsubscribed');
  });

  it('is read again when the editor changes the file, and the default comes back when it is removed', async () => {
    const welcomeFile = join(blogDir, '_newsletter', 'welcome.md');
    await writeFile(welcomeFile, '---\ntitle: 新的欢迎信\n---\n\n改过的欢迎信。\n');
    await stack.runTimer();
    const edited = uniqueAddress('edited-welcome');
    await signUp(stack, edited, 'en');
    await pressConfirm(await confirmLink(stack, edited));
    expect(welcomesOf(await inbox(stack, edited))).toEqual([]);
    expect((await inbox(stack, edited)).at(-1)?.subject).toBe('新的欢迎信');

    await rm(welcomeFile);
    await stack.runTimer();
    const later = uniqueAddress('default-again');
    await signUp(stack, later, 'en');
    await pressConfirm(await confirmLink(stack, later));
    expect(welcomesOf(await inbox(stack, later)).map((email) => email.subject)).toEqual(['Welcome to 云栈笔记']);
  });
});
