import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack';
import { confirmLink, inbox, postForm, pressConfirm } from './http-helpers';
import {
  type BlogRepository,
  deliveryHeaders,
  type HookedStack,
  pushPayload,
  startHookedStack,
} from './webhook-harness';

/**
 * The blog's `_newsletter/welcome.md` as editors change it: a push that adds, edits or removes
 * it is read by ingest at the pushed commit (from a GitHub stand-in serving a real git
 * repository) and stored; readers confirming afterwards get that welcome, or the default.
 */
const REPOSITORY = 'octocat/blog';
const WELCOME = '_newsletter/welcome.md';

let hooked: HookedStack;
let repository: BlogRepository;
let stack: LocalStack;
let readers = 0;

beforeAll(async () => {
  hooked = await startHookedStack(REPOSITORY, 'title: Hooked\nurl: https://hooked.example.com\nlang: en\n', {
    PUSHLETTER_SIGNUP_LIMITS: 'off',
    PUSHLETTER_EDITORS: 'editor@example.org',
  });
  ({ repository, stack } = hooked);
});

afterAll(async () => {
  await hooked?.stop();
});

/** Pushes one commit with these changes; resolves to the webhook's answer once ingest is done. */
async function push(changes: { write?: Record<string, string>; remove?: string[] }) {
  const before = repository.head();
  const commit = repository.commit('Welcome', changes);
  const body = JSON.stringify(pushPayload({ fullName: REPOSITORY, before, commits: [commit] }));
  const response = await fetch(hooked.hook, {
    method: 'POST',
    headers: deliveryHeaders(body, { secret: stack.composition.secrets.webhookSecret }),
    body,
  });
  await stack.ingest.idle();
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, commit: commit.id };
}

/** A new reader signs up and confirms; resolves to the welcome email they got. */
async function welcomeOfNewReader(lang = 'en') {
  readers += 1;
  const address = `reader-${process.pid}-${readers}@example.com`;
  await postForm(`${stack.urls.app}/subscribe`, { email: address, lang });
  await pressConfirm(await confirmLink(stack, address));
  const emails = await inbox(stack, address);
  expect(emails).toHaveLength(2);
  return emails[1]!;
}

describe('a pushed _newsletter/welcome.md', () => {
  it('is the welcome readers get from then on, read at the pushed commit; an edit replaces it', async () => {
    expect((await welcomeOfNewReader()).subject).toMatch(/^Welcome to /);

    const added = await push({
      write: { [WELCOME]: '---\ntitle: 欢迎加入\nlang: zh-CN\n---\n\n每周一封信，**不追踪**，随时可以退订。\n' },
    });
    expect(added.status).toBe(202);
    expect(added.body).toMatchObject({ accepted: true, posts: [], welcome: WELCOME });
    expect(hooked.github.requests.filter((request) => request.path === WELCOME).map((request) => request.ref)).toEqual([
      added.commit,
    ]);
    const welcome = await welcomeOfNewReader('zh-CN');
    expect(welcome.subject).toBe('欢迎加入');
    expect(welcome.body.html).toContain('<strong>不追踪</strong>');
    // The footer speaks the reader's language, with the reader's own links.
    expect(welcome.body.text).toMatch(/^退订: http:\/\/localhost:\d+\/unsubscribe\?token=[\w-]+$/m);
    expect(welcome.body.text).toMatch(/^管理订阅: http:\/\/localhost:\d+\/preferences\?token=[\w-]+$/m);
    const english = await welcomeOfNewReader('en');
    expect(english.subject).toBe('欢迎加入');
    expect(english.body.text).toMatch(/^Unsubscribe: http:\/\/localhost:\d+\/unsubscribe\?token=[\w-]+$/m);

    await push({ write: { [WELCOME]: '---\ntitle: Welcome aboard\n---\n\nOne letter a week.\n' } });
    expect((await welcomeOfNewReader()).subject).toBe('Welcome aboard');
  });

  it('is not replaced by an older push ingested late', async () => {
    const older = repository.head();
    await push({ write: { [WELCOME]: '---\ntitle: The newest welcome\n---\n\nNewest.\n' } });
    // The ingest message of an earlier push, redelivered after the newer one was stored.
    await stack.ingest.ingestQueue.send([
      {
        repository: REPOSITORY,
        commit: older,
        path: WELCOME,
        kind: 'welcome',
        receivedAt: new Date(Date.now() - 60_000).toISOString(),
      },
    ]);
    await stack.ingest.idle();
    expect((await welcomeOfNewReader()).subject).toBe('The newest welcome');
  });

  it('that cannot be rendered keeps the welcome before it, and the editors are told once', async () => {
    const broken = await push({ write: { [WELCOME]: '---\ntitle: [unclosed\n---\n\nBroken.\n' } });
    expect(broken.status).toBe(202);
    expect((await welcomeOfNewReader()).subject).toBe('The newest welcome');
    const told = await inbox(stack, 'editor@example.org');
    expect(told.map((email) => email.subject)).toEqual([`[pushletter] ${WELCOME} was not taken`]);
    expect(told[0]!.body.text).toContain(broken.commit.slice(0, 7));
  });

  it('without front matter is refused with a message that names _newsletter/welcome.md, not a post', async () => {
    const bare = await push({ write: { [WELCOME]: 'Welcome aboard, no front matter.\n' } });
    expect(bare.status).toBe(202);
    const told = (await inbox(stack, 'editor@example.org')).filter((email) =>
      (email.body.text ?? '').includes(bare.commit.slice(0, 7)),
    );
    expect(told).toHaveLength(1);
    expect(told[0]!.body.text).toContain(
      `${WELCOME}: no front matter, so pushletter cannot read the welcome email's title`,
    );
    expect(told[0]!.body.text).not.toContain('_drafts/welcome.md');
    expect(told[0]!.body.text).not.toContain('as a post');
  });

  it('in a push taken for an import of old posts is still taken, and no post is sent', async () => {
    const posts = Object.fromEntries(
      Array.from({ length: 11 }, (_, index) => [
        `_posts/2020-01-${String(index + 1).padStart(2, '0')}-old-${index}.md`,
        `---\ntitle: Old ${index}\n---\n\nFrom the archive.\n`,
      ]),
    );
    const imported = await push({
      write: { ...posts, [WELCOME]: '---\ntitle: Welcome to the moved blog\n---\n\nSame letters, new home.\n' },
    });
    expect(imported.body).toMatchObject({ posts: [], welcome: WELCOME });
    expect(String(imported.body.ignored)).toContain('import of old posts');
    expect((await welcomeOfNewReader()).subject).toBe('Welcome to the moved blog');
    expect((await inbox(stack)).filter((email) => email.subject.startsWith('Old '))).toEqual([]);
  });

  it('removed brings back the default welcome', async () => {
    const removed = await push({ remove: [WELCOME] });
    expect(removed.body).toMatchObject({ welcome: WELCOME });
    expect((await welcomeOfNewReader()).subject).toMatch(/^Welcome to /);
  });
});
