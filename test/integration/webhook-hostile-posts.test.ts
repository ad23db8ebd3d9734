import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus } from '../../functions/cli/status-command';
import { issueStatus } from '../../functions/delivery/delivery-status';
import type { LocalStack } from '../../functions/local/stack';
import { importSubscribers } from '../../functions/subscribers/import';
import { storedEmails } from './delivery-harness';
import {
  type BlogRepository,
  deliveryHeaders,
  type FakeGitHub,
  type HookedStack,
  pushPayload,
  startHookedStack,
} from './webhook-harness';

/**
 * Posts over each render limit, pushed through the webhook of a running local stack: each is
 * recorded as failed with the reason once, the editors get one email per post, nothing is
 * retried or sent to readers, and the signup form answers while the posts are being rendered.
 */
const REPOSITORY = 'octocat/hostile';
const EDITOR = 'editor@example.com';
const READER = 'reader@example.com';

/** Post file -> its body, and what the failure must name. */
const HOSTILE: Record<string, { body: string; reason: RegExp }> = {
  // First: the slowest to fail (Liquid's render time limit), so the form is asked while it renders.
  '_posts/2024-11-01-slow-loop.md': {
    body: '{% for i in (1..20000) %}{% for j in (1..20000) %}x{% endfor %}{% endfor %}',
    reason: /Liquid ran longer than 5 s/,
  },
  '_posts/2024-11-02-huge-range.md': {
    body: '{% for i in (1..100000000) %}{{ i }}{% endfor %}',
    reason: /Liquid builds more than 10,000,000/,
  },
  '_posts/2024-11-03-deep-quotes.md': { body: '> '.repeat(100_000) + 'deep', reason: /nested more than 100 levels/ },
  '_posts/2024-11-04-deep-lists.md': { body: '- '.repeat(100_000) + 'deep', reason: /nested more than 100 levels/ },
  '_posts/2024-11-05-deep-html.md': {
    body: '<div>'.repeat(5_000) + 'deep' + '</div>'.repeat(5_000),
    reason: /HTML elements are nested more than 256 levels/,
  },
};
const idOf = (path: string) => path.replace(/^_posts\/|\.md$/g, '');

let hooked: HookedStack;
let repository: BlogRepository;
let github: FakeGitHub;
let stack: LocalStack;
let hook: string;
let base: string;

beforeAll(async () => {
  hooked = await startHookedStack(REPOSITORY, 'title: Hostile\nurl: https://hostile.example.com\n', {
    PUSHLETTER_EDITORS: EDITOR,
  });
  ({ repository, github, stack, hook, base } = hooked);
  const { composition } = stack;
  await importSubscribers([{ line: 2, email: READER }], {
    store: composition.subscribers,
    service: composition.subscriptions,
    clock: composition.clock,
    confirmed: true,
  });
});

afterAll(async () => {
  await hooked?.stop();
});

async function deliver(body: string): Promise<Response> {
  return fetch(hook, {
    method: 'POST',
    headers: deliveryHeaders(body, { secret: stack.composition.secrets.webhookSecret }),
    body,
  });
}

const readsOf = (path: string) => github.requests.filter((request) => request.path === path).length;

function commitPosts(message: string, paths: string[]) {
  return repository.commit(message, {
    write: Object.fromEntries(
      paths.map((path) => [path, `---\ntitle: ${idOf(path)}\n---\n\n${HOSTILE[path]!.body}\n`]),
    ),
  });
}

describe('hostile posts pushed to the local stack', () => {
  const [slow, ...others] = Object.keys(HOSTILE) as [string, ...string[]];

  it('keeps the signup form answering while a post renders for seconds', async () => {
    const commit = commitPosts('A slow post', [slow]);
    // The HTTP app shares this thread: any stall of it while the post renders shows here.
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    const pushedAt = Date.now();
    expect(
      (await deliver(JSON.stringify(pushPayload({ fullName: REPOSITORY, before: base, commits: [commit] })))).status,
    ).toBe(202);
    base = commit.id;
    while (!github.requests.some((request) => request.path === '_config.yml' && request.ref === commit.id))
      await new Promise((resolve) => setTimeout(resolve, 20));
    const form = await fetch(`http://127.0.0.1:${stack.ports.http}/`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('<form');
    await stack.ingest.idle();
    stalls.disable();
    const processingMs = Date.parse((await stack.sending.issues.getIssue(idOf(slow)))!.createdAt) - pushedAt;
    // Rendered in this thread, the post would stall it for the whole render (at least Liquid's 5 s).
    expect(stalls.max / 1e6).toBeLessThan(processingMs / 2);
  });

  it('records each post over a limit as failed once, mails the editors once, and retries nothing', async () => {
    const commit = commitPosts('Hostile posts', others);
    const body = JSON.stringify(pushPayload({ fullName: REPOSITORY, before: base, commits: [commit] }));
    expect((await deliver(body)).status).toBe(202);
    await stack.ingest.idle();
    await stack.sending.idle();

    for (const [path, { reason }] of Object.entries(HOSTILE)) {
      const issue = await stack.sending.issues.getIssue(idOf(path));
      expect(issue, path).toMatchObject({ state: 'failed', hasMessage: false });
      expect(issue?.failReason, path).toContain(path);
      expect(issue?.failReason, path).toMatch(reason);
      // Read once from GitHub: a failure that repeats is not retried.
      expect(readsOf(path), path).toBe(1);
      const status = formatStatus((await issueStatus(stack.sending.issues, idOf(path), new Date()))!);
      expect(status).toMatch(/issue +failed/);
      expect(status).toMatch(reason);
    }

    const emails = await storedEmails(`http://127.0.0.1:${stack.ports.ses}`);
    expect(emails.every((email) => email.destination.to.join() === EDITOR)).toBe(true);
    expect(emails.map((email) => email.subject).sort()).toEqual(
      Object.keys(HOSTILE)
        .map((path) => `[pushletter] ${path} was not sent`)
        .sort(),
    );

    // GitHub redelivers the push: the records answer, nobody is mailed again.
    expect((await deliver(body)).status).toBe(202);
    await stack.ingest.idle();
    expect(await storedEmails(`http://127.0.0.1:${stack.ports.ses}`)).toHaveLength(Object.keys(HOSTILE).length);
  });
});
