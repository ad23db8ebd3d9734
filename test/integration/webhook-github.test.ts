import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitHubContents } from '../../functions/adapters/github-contents';
import type { Clock } from '../../functions/commons/clock';
import { readSettings, type Settings } from '../../functions/commons/config';
import { CachedSecret } from '../../functions/commons/secrets';
import type { IngestMessage } from '../../functions/contract/messages';
import { dispatchIssue } from '../../functions/delivery/dispatcher';
import { personalise, valuesForLanguage } from '../../functions/mail/message';
import { handleGitHubWebhook, type WebhookResponse } from '../../functions/publishing/github-webhook';
import { createIngestHandler, type IngestWorkerDependencies } from '../../functions/publishing/ingest-consumer';
import { TimerScheduler } from '../../functions/publishing/schedule';
import { PREFERENCES_URL_PLACEHOLDER, UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import {
  clearEmails,
  copiesByAddress,
  PUBLIC_URL,
  pipeline,
  type Stack,
  seedSubscribers,
  sesMailer,
  startStack,
  storedEmails,
  TestQueue,
} from './delivery-harness';
import { BlogRepository, deliveryHeaders, type FakeGitHub, pushPayload, startFakeGitHub } from './webhook-harness';

const REPOSITORY = 'octocat/blog';
const SECRET = 'webhook-secret-for-tests-0123456789';
const EDITOR = 'editor@example.com';
const clock: Clock = { now: () => new Date() };

const CONFIG = `title: Field Notes
url: https://blog.example.com
timezone: Asia/Shanghai
lang: en
`;

function post(title: string, extra = ''): string {
  return `---\ntitle: "${title}"\n${extra}---\n\nA paragraph of **${title}** for the newsletter.\n\n## A heading\n\nAnd a [link](/about/).\n`;
}

let stack: Stack;
let repository: BlogRepository;
let github: FakeGitHub;
let settings: Settings;
let flow: ReturnType<typeof pipeline>;
let ingestQueue: TestQueue<IngestMessage>;
let scheduler: TimerScheduler;
let ingest: ReturnType<typeof createIngestHandler>;
let ports: IngestWorkerDependencies;
let activeAddresses: string[];
let previousCommit: string;

beforeAll(async () => {
  stack = await startStack();
  repository = new BlogRepository();
  previousCommit = repository.commit('Start the blog', {
    write: { '_config.yml': CONFIG, 'about.md': '# About\n' },
  }).id;
  github = await startFakeGitHub(repository, REPOSITORY);
  settings = readSettings({
    PUSHLETTER_REPOSITORY: REPOSITORY,
    PUSHLETTER_BRANCH: 'main',
    PUSHLETTER_EDITORS: EDITOR,
    PUSHLETTER_PUBLIC_URL: PUBLIC_URL,
    PUSHLETTER_GITHUB_API_URL: github.url,
  });
  flow = pipeline(stack);
  ingestQueue = new TestQueue<IngestMessage>();
  scheduler = new TimerScheduler((job) => flow.dispatchQueue.send([job]), clock);
  ports = {
    settings,
    issues: stack.issues,
    dispatchQueue: flow.dispatchQueue,
    scheduler,
    mailer: sesMailer(stack.sesUrl),
    clock,
    files: new GitHubContents({ apiUrl: settings.githubApiUrl, timeoutMs: 5_000 }),
  };
  ingest = createIngestHandler(async () => ports);
  const people = await seedSubscribers(stack, 4, (index) => (index === 3 ? 'pending' : 'active'));
  activeAddresses = people.filter((person) => person.state === 'active').map((person) => person.email);
});

afterAll(async () => {
  scheduler?.stop();
  await github?.close();
  await stack?.close();
  repository?.remove();
});

afterEach(async () => {
  await clearEmails(stack.sesUrl);
});

/** One webhook delivery, as GitHub makes it: raw JSON bytes and signed headers. */
async function deliver(
  payload: unknown,
  options: { event?: string; secret?: string | null; raw?: string; form?: boolean } = {},
): Promise<WebhookResponse> {
  const json = options.raw ?? JSON.stringify(payload);
  // A webhook set to application/x-www-form-urlencoded sends the JSON as `payload=`.
  const body = options.form ? new URLSearchParams({ payload: json }).toString() : json;
  const secret = options.secret === null ? undefined : (options.secret ?? SECRET);
  const headers = deliveryHeaders(body, { event: options.event, secret });
  if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  return handleGitHubWebhook(
    { headers, body: Buffer.from(body) },
    { repository: settings.repository, branch: settings.branch, secret: SECRET, ingestQueue },
  );
}

/** Runs what the queues would run after the webhook answered: ingest, dispatch, send. */
async function settle(): Promise<void> {
  await ingestQueue.drain(
    async (records) => (await ingest({ Records: records })).batchItemFailures.map((failure) => failure.itemIdentifier),
    1,
  );
  await flow.dispatchQueue.drain(async (records) => {
    for (const record of records)
      await dispatchIssue(flow.dispatchPorts, (JSON.parse(record.body) as { postId: string }).postId);
    return [];
  });
  await flow.idle();
}

function pushOf(...commits: { id: string; added: string[]; removed: string[]; modified: string[] }[]) {
  const payload = pushPayload({ fullName: REPOSITORY, before: previousCommit, commits });
  previousCommit = commits[commits.length - 1]!.id;
  return payload;
}

describe('POST /hooks/github', () => {
  it('sends a pushed post to every active subscriber exactly once, read at the pushed commit', async () => {
    const commit = repository.commit('New post', {
      write: { '_posts/2024-10-20-first-issue.md': post('First issue') },
    });
    const response = await deliver(pushOf(commit));
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ accepted: true, posts: ['_posts/2024-10-20-first-issue.md'] });

    await settle();
    const emails = await storedEmails(stack.sesUrl);
    expect(copiesByAddress(emails)).toEqual(new Map(activeAddresses.map((address) => [address, 1])));
    expect(emails.every((email) => email.subject === 'First issue')).toBe(true);
    expect(
      github.requests
        .filter((request) => request.path === '_posts/2024-10-20-first-issue.md')
        .map((request) => request.ref),
    ).toEqual([commit.id]);
    expect(github.requests.some((request) => request.path === '_config.yml' && request.ref === commit.id)).toBe(true);

    // The emulator drops custom headers, so the stored message itself is checked: what each
    // recipient's copy is made from carries RFC 8058 one-click unsubscribe with their own URL.
    const message = await stack.issues.getMessage('2024-10-20-first-issue');
    const copy = await simpleParser(
      personalise(message!, {
        to: 'reader0@example.com',
        values: {
          ...valuesForLanguage(message!.languageValues, 'en'),
          [UNSUBSCRIBE_URL_PLACEHOLDER]: `${PUBLIC_URL}/unsubscribe?token=abc`,
          [PREFERENCES_URL_PLACEHOLDER]: `${PUBLIC_URL}/preferences?token=abc`,
        },
      }),
    );
    const header = (key: string) => copy.headerLines.find((line) => line.key === key)?.line;
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(header('list-unsubscribe')).toBe(`List-Unsubscribe: <${PUBLIC_URL}/unsubscribe?token=abc>`);
    expect(copy.subject).toBe('First issue');
    expect(copy.text).toContain('A paragraph of First issue');
  });

  it('accepts a webhook configured to send form-encoded payloads', async () => {
    const commit = repository.commit('Form', { write: { '_posts/2024-10-17-form-encoded.md': post('Form encoded') } });
    expect(await deliver(pushOf(commit), { form: true })).toMatchObject({
      status: 202,
      body: { posts: ['_posts/2024-10-17-form-encoded.md'] },
    });
    await settle();
    expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(
      new Map(activeAddresses.map((address) => [address, 1])),
    );
  });

  it('sends a redelivered push (and a second push of the same post) only once', async () => {
    const commit = repository.commit('Another post', {
      write: { '_posts/2024-10-21-redelivered.md': post('Redelivered') },
    });
    const payload = pushOf(commit);
    expect((await deliver(payload)).status).toBe(202);
    expect((await deliver(payload)).status).toBe(202);
    await settle();
    expect((await deliver(payload)).status).toBe(202);
    await settle();

    expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(
      new Map(activeAddresses.map((address) => [address, 1])),
    );
    const issue = await stack.issues.getIssue('2024-10-21-redelivered');
    expect(issue).toMatchObject({
      state: 'dispatched',
      enqueued: activeAddresses.length,
      commit: commit.id,
      source: 'webhook',
    });
  });

  it('refuses unsigned and mis-signed deliveries with 401 and does nothing', async () => {
    const commit = repository.commit('Unsigned', { write: { '_posts/2024-10-22-unsigned.md': post('Unsigned') } });
    const payload = pushOf(commit);
    expect(await deliver(payload, { secret: null })).toMatchObject({ status: 401 });
    expect(await deliver(payload, { secret: 'somebody-elses-secret-0123456789' })).toMatchObject({ status: 401 });
    expect(ingestQueue.size).toBe(0);
    await settle();
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
    expect(await stack.issues.getIssue('2024-10-22-unsigned')).toBeUndefined();
  });

  it('answers ping and ignores other events', async () => {
    expect(await deliver({ zen: 'Keep it logically awesome.', hook_id: 1 }, { event: 'ping' })).toMatchObject({
      status: 200,
    });
    const issues = await deliver({ action: 'opened' }, { event: 'issues' });
    expect(issues.status).toBe(202);
    expect(String(issues.body.ignored)).toMatch(/not a push/);
    expect(ingestQueue.size).toBe(0);
  });

  it('ignores pushes to another branch or another repository', async () => {
    const commit = repository.commit('Elsewhere', { write: { '_posts/2024-10-23-elsewhere.md': post('Elsewhere') } });
    const onBranch = pushPayload({
      fullName: REPOSITORY,
      ref: 'refs/heads/preview',
      before: previousCommit,
      commits: [commit],
    });
    const otherRepository = pushPayload({ fullName: 'octocat/other-blog', before: previousCommit, commits: [commit] });
    previousCommit = commit.id;
    const branchAnswer = await deliver(onBranch);
    const repositoryAnswer = await deliver(otherRepository);
    expect(branchAnswer.status).toBe(202);
    expect(String(branchAnswer.body.ignored)).toMatch(/refs\/heads\/preview is not the configured branch main/);
    expect(repositoryAnswer.status).toBe(202);
    expect(String(repositoryAnswer.body.ignored)).toMatch(/octocat\/other-blog/);
    await settle();
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
    expect(await stack.issues.getIssue('2024-10-23-elsewhere')).toBeUndefined();
  });

  it('sends nothing for pushes that only modify, rename or remove posts, or add and remove one', async () => {
    const edit = repository.commit('Fix a typo', {
      write: { '_posts/2024-10-20-first-issue.md': post('First issue, fixed') },
    });
    const rename = repository.commit('Move into a folder', {
      write: { '_posts/news/2024-10-21-redelivered.md': post('Redelivered') },
      remove: ['_posts/2024-10-21-redelivered.md'],
    });
    const added = repository.commit('Oops', { write: { '_posts/2024-10-24-oops.md': post('Oops') } });
    const removed = repository.commit('Remove oops', { remove: ['_posts/2024-10-24-oops.md'] });
    expect(edit.modified).toEqual(['_posts/2024-10-20-first-issue.md']);
    const response = await deliver(pushOf(edit, rename, added, removed));
    expect(response).toMatchObject({ status: 202, body: { ignored: 'the push adds no post or draft' } });
    await settle();
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
    expect(await stack.issues.getIssue('2024-10-24-oops')).toBeUndefined();
  });

  it('sends a pushed draft to the editors only, marked as a preview, and records no issue for the post', async () => {
    const commit = repository.commit('Draft', { write: { '_drafts/next-week.md': post('Next week') } });
    const payload = pushOf(commit);
    expect(await deliver(payload)).toMatchObject({ status: 202, body: { drafts: ['_drafts/next-week.md'] } });
    await deliver(payload);
    await settle();
    const emails = await storedEmails(stack.sesUrl);
    expect(copiesByAddress(emails)).toEqual(new Map([[EDITOR, 1]]));
    expect(emails[0]?.subject).toBe('[Preview] Next week');
    for await (const page of stack.issues.deliveries('draft-next-week')) expect(page).toEqual([]);
  });

  it('records a post whose front matter says not to send as skipped, with the reason', async () => {
    const commit = repository.commit('Not for email', {
      write: { '_posts/2024-10-25-web-only.md': post('Web only', 'newsletter: false\n') },
    });
    await deliver(pushOf(commit));
    await settle();
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
    const issue = await stack.issues.getIssue('2024-10-25-web-only');
    expect(issue?.state).toBe('skipped');
    expect(issue?.skipReason).toMatch(/newsletter/);
  });

  it('schedules a post dated in the future instead of sending it', async () => {
    const commit = repository.commit('Future', {
      write: { '_posts/2099-01-01-future.md': post('From the future', 'date: 2099-01-01 08:00:00\n') },
    });
    await deliver(pushOf(commit));
    await settle();
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
    const issue = await stack.issues.getIssue('2099-01-01-future');
    expect(issue?.state).toBe('scheduled');
    // 08:00 in the site's timezone (Asia/Shanghai) is midnight UTC.
    expect(issue?.sendAt).toBe('2099-01-01T00:00:00.000Z');
    expect(scheduler.pending()).toContain('2099-01-01-future');
  });

  it('answers 400 with a reason for a malformed payload', async () => {
    const truncated = await deliver(undefined, { raw: '{"ref": "refs/heads/main", "after": ' });
    expect(truncated.status).toBe(400);
    expect(String(truncated.body.error)).toMatch(/not JSON/);
    const shapeless = await deliver({
      ref: 'refs/heads/main',
      after: 'a'.repeat(40),
      before: 'b'.repeat(40),
      commits: [],
    });
    expect(shapeless.status).toBe(400);
    expect(String(shapeless.body.error)).toMatch(/repository/);
    expect(ingestQueue.size).toBe(0);
  });

  it('retries when GitHub rate-limits, and sends once the limit resets', async () => {
    const commit = repository.commit('Busy GitHub', {
      write: { '_posts/2024-10-26-rate-limited.md': post('Rate limited') },
    });
    await deliver(pushOf(commit));
    github.rateLimited = true;
    const first = ingestQueue.receive();
    const failed = await ingest({ Records: first });
    expect(failed.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(
      first.map((record) => record.messageId),
    );
    ingestQueue.returnToQueue(first);
    expect(await stack.issues.getIssue('2024-10-26-rate-limited')).toBeUndefined();

    github.rateLimited = false;
    await settle();
    expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(
      new Map(activeAddresses.map((address) => [address, 1])),
    );
  });

  it('keeps a post GitHub hides behind a missing token: retried, parked in the dead-letter queue, sent once the token is set and the message redriven', async () => {
    // The repository turns private; the GitHub token secret is still empty.
    let stored: string | undefined;
    const files = ports.files;
    ports.files = new GitHubContents({
      apiUrl: settings.githubApiUrl,
      timeoutMs: 5_000,
      token: new CachedSecret(async () => stored, 3_600_000),
    });
    github.requiredToken = 'ghp_private_blog';
    try {
      const commit = repository.commit('Private now', {
        write: { '_posts/2024-10-28-private.md': post('Private blog') },
      });
      await deliver(pushOf(commit));
      for (let attempt = 1; ingestQueue.size > 0; attempt++) {
        const records = ingestQueue.receive();
        // Every attempt fails as retryable: SQS delivers it again, then parks it.
        expect(
          (await ingest({ Records: records })).batchItemFailures.map((failure) => failure.itemIdentifier),
          `attempt ${attempt}`,
        ).toEqual(records.map((record) => record.messageId));
        ingestQueue.returnToQueue(records);
      }
      const parked = ingestQueue.dead.splice(0);
      expect(parked.map((record) => JSON.parse(record.body).path)).toEqual(['_posts/2024-10-28-private.md']);
      expect(await stack.issues.getIssue('2024-10-28-private')).toBeUndefined();
      expect(await storedEmails(stack.sesUrl)).toEqual([]);

      // The editor puts the token in the secret and redrives: the refusal makes the warm
      // function read the secret again at once, without waiting for the cache to expire.
      stored = 'ghp_private_blog';
      await ingestQueue.send(parked.map((record) => JSON.parse(record.body) as IngestMessage));
      await settle();
      expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(
        new Map(activeAddresses.map((address) => [address, 1])),
      );
    } finally {
      github.requiredToken = undefined;
      ports.files = files;
    }
  });

  it('records a post that cannot be parsed as failed instead of retrying it, and tells the editors once', async () => {
    const commit = repository.commit('Broken', {
      write: { '_posts/2024-10-27-broken.md': '---\ntitle: [unclosed\n---\n\nBody.\n' },
    });
    const payload = pushOf(commit);
    await deliver(payload);
    const records = ingestQueue.receive();
    expect((await ingest({ Records: records })).batchItemFailures).toEqual([]);
    const issue = await stack.issues.getIssue('2024-10-27-broken');
    expect(issue).toMatchObject({ state: 'failed', hasMessage: false, commit: commit.id });
    expect(issue?.failReason).toMatch(/_posts\/2024-10-27-broken\.md.*front matter/);
    // A redelivery of the same push finds the record: no second email.
    await deliver(payload);
    await settle();
    const emails = await storedEmails(stack.sesUrl);
    expect(copiesByAddress(emails)).toEqual(new Map([[EDITOR, 1]]));
    expect(emails[0]?.subject).toBe('[pushletter] _posts/2024-10-27-broken.md was not sent');
  });

  it('finishes the job when the worker died between recording the issue and starting the dispatch', async () => {
    const commit = repository.commit('Crash', { write: { '_posts/2024-10-18-crash.md': post('After a crash') } });
    await deliver(pushOf(commit));
    const records = ingestQueue.receive();
    // The dispatcher cannot be reached right after the issue is written, as if the worker died there.
    const unreachable = createIngestHandler(async () => ({
      ...ports,
      dispatchQueue: { send: async () => Promise.reject(new Error('connect ECONNREFUSED dispatcher')) },
    }));
    expect((await unreachable({ Records: records })).batchItemFailures).toHaveLength(1);
    expect(await stack.issues.getIssue('2024-10-18-crash')).toMatchObject({ state: 'dispatching', enqueued: 0 });
    ingestQueue.returnToQueue(records);

    await settle();
    expect(copiesByAddress(await storedEmails(stack.sesUrl))).toEqual(
      new Map(activeAddresses.map((address) => [address, 1])),
    );
    expect(await stack.issues.getIssue('2024-10-18-crash')).toMatchObject({
      state: 'dispatched',
      enqueued: activeAddresses.length,
    });
  });

  it('treats a push adding more than ten posts as an import of the archive and sends nothing', async () => {
    const archive = Object.fromEntries(
      Array.from({ length: 11 }, (_, index) => [
        `_posts/2019-01-${String(index + 10)}-archive-${index}.md`,
        post(`Archive ${index}`),
      ]),
    );
    const commit = repository.commit('Import the old blog', { write: archive });
    const response = await deliver(pushOf(commit));
    expect(response.status).toBe(202);
    expect(String(response.body.ignored)).toMatch(/adds 11 posts at once .*import/);
    expect(ingestQueue.size).toBe(0);
    await settle();
    expect(await storedEmails(stack.sesUrl)).toEqual([]);
  });

  it('sends no previews for a push adding more than ten drafts, but still sends its post', async () => {
    const drafts = Object.fromEntries(
      Array.from({ length: 11 }, (_, index) => [`_drafts/idea-${index}.md`, post(`Idea ${index}`)]),
    );
    const commit = repository.commit('Import drafts', {
      write: { ...drafts, '_posts/2024-10-28-with-drafts.md': post('With drafts') },
    });
    const response = await deliver(pushOf(commit));
    expect(response).toMatchObject({ status: 202, body: { posts: ['_posts/2024-10-28-with-drafts.md'], drafts: [] } });
    expect(String(response.body.draftsIgnored)).toMatch(/adds 11 drafts at once .*no previews/);
    await settle();
    const emails = await storedEmails(stack.sesUrl);
    expect(emails.filter((email) => email.subject.startsWith('[Preview]'))).toEqual([]);
    expect(copiesByAddress(emails)).toEqual(new Map(activeAddresses.map((address) => [address, 1])));
  });
});
