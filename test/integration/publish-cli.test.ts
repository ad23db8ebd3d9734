import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPublish } from '../../functions/cli/publish-command';
import { readSettings } from '../../functions/commons/config';
import { PUBLISH_PATH, PUBLISH_SIGNATURE_HEADER } from '../../functions/local/publish-route';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { ingestPost } from '../../functions/publishing/ingest-post';
import { signPayload } from '../../functions/publishing/webhook-signature';
import { importSubscribers } from '../../functions/subscribers/import';
import { clearEmails, copiesByAddress, storedEmails } from './delivery-harness';

const SITE = fileURLToPath(new URL('../fixtures/publish-blog/', import.meta.url));
const post = (name: string) => join(SITE, '_posts', name);
const EDITOR = 'editor@example.org';
const READERS = ['reader.one@example.org', 'reader.two@example.org', 'reader.three@example.org'];

let stack: LocalStack;
let dataDir: string;
let inbox: string;
const savedEnvironment = { ...process.env };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pushletter-publish-'));
  stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings: readSettings({ PUSHLETTER_EDITORS: EDITOR, PUSHLETTER_SITE_URL: 'https://small.example.org' }),
  });
  inbox = `http://127.0.0.1:${stack.ports.ses}`;
  // The CLI finds the running stack the way an editor's shell would: ports and data folder.
  process.env.PORT = String(stack.ports.http);
  process.env.SES_PORT = String(stack.ports.ses);
  process.env.DYNAMODB_PORT = String(stack.ports.dynamodb);
  process.env.PUSHLETTER_DATA_DIR = dataDir;
  const { composition } = stack;
  await importSubscribers(
    READERS.map((email, index) => ({ line: index + 2, email })),
    { store: composition.subscribers, service: composition.subscriptions, clock: composition.clock, confirmed: true },
  );
});

afterAll(async () => {
  process.env = savedEnvironment;
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(async () => {
  await stack.sending.idle();
  await clearEmails(inbox);
});

async function publish(...args: string[]): Promise<{ code: number; out: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const err = new PassThrough() as unknown as NodeJS.WriteStream;
  (err as unknown as PassThrough).resume();
  const code = await runPublish(args, { out, err });
  return { code, out: Buffer.concat(chunks).toString('utf8') };
}

describe('pushletter publish', () => {
  it('sends a post once to every subscriber when two editors publish it at the same time', async () => {
    const [first, second] = await Promise.all([
      publish(post('2024-10-02-concurrent.md')),
      publish(post('2024-10-02-concurrent.md')),
    ]);
    expect([first.code, second.code]).toEqual([0, 0]);
    const outputs = [first.out, second.out].sort();
    expect(outputs.filter((output) => /sent to 3 subscribers/.test(output))).toHaveLength(1);
    expect(outputs.filter((output) => /already sent before; nothing sent again/.test(output))).toHaveLength(1);

    await stack.sending.idle();
    const emails = await storedEmails(inbox);
    expect(copiesByAddress(emails)).toEqual(new Map(READERS.map((address) => [address, 1])));
    expect(emails[0]?.subject).toBe('同时发布两次');
    const issue = await stack.sending.issues.getIssue('2024-10-02-concurrent');
    expect(issue).toMatchObject({ state: 'dispatched', enqueued: 3, source: 'publish' });
  });

  it('sends a test to one address without recording the post, which can then be published', async () => {
    const test = await publish(post('2024-10-03-tested-first.md'), '--test', 'proofreader@example.org');
    expect(test.out).toMatch(/test "\[Test\] Tested first" sent to proofreader@example.org; nothing recorded/);
    let emails = await storedEmails(inbox);
    expect(copiesByAddress(emails)).toEqual(new Map([['proofreader@example.org', 1]]));
    expect(emails[0]?.subject).toBe('[Test] Tested first');
    expect(await stack.sending.issues.getIssue('2024-10-03-tested-first')).toBeUndefined();

    await clearEmails(inbox);
    const real = await publish(post('2024-10-03-tested-first.md'));
    expect(real.out).toMatch(/sent to 3 subscribers/);
    emails = await storedEmails(inbox);
    expect(copiesByAddress(emails)).toEqual(new Map(READERS.map((address) => [address, 1])));
  });

  it('schedules a post dated in the future instead of sending it', async () => {
    const result = await publish(post('2099-06-01-far-future.md'));
    // 09:00 in the site's zone (Asia/Shanghai) is 01:00 UTC.
    expect(result.out).toMatch(/scheduled 2099-06-01-far-future for 2099-06-01T01:00:00.000Z/);
    await stack.sending.idle();
    expect(await storedEmails(inbox)).toEqual([]);
    expect(await stack.sending.issues.getIssue('2099-06-01-far-future')).toMatchObject({
      state: 'scheduled',
      sendAt: '2099-06-01T01:00:00.000Z',
    });
    expect(stack.ingest.scheduler.pending()).toContain('2099-06-01-far-future');
  });

  it('records a post marked published: false as skipped, and says why', async () => {
    const result = await publish(post('2024-10-04-web-only.md'));
    expect(result.out).toMatch(/skipped 2024-10-04-web-only because .*published/);
    expect(await stack.sending.issues.getIssue('2024-10-04-web-only')).toMatchObject({ state: 'skipped' });
    expect(await storedEmails(inbox)).toEqual([]);
  });

  it('sends a post recorded as skipped once the editor flips it to published: true and publishes it again', async () => {
    const site = mkdtempSync(join(tmpdir(), 'pushletter-flip-'));
    try {
      mkdirSync(join(site, '_posts'));
      const file = join(site, '_posts', '2024-10-06-changed-mind.md');
      writeFileSync(file, '---\ntitle: Changed my mind\npublished: false\n---\n\nFor the newsletter after all.\n');
      expect((await publish(file, '--site', SITE)).out).toMatch(/skipped 2024-10-06-changed-mind because/);
      // Publishing it again unchanged keeps it skipped.
      expect((await publish(file, '--site', SITE)).out).toMatch(/was recorded as skipped before/);
      expect(await storedEmails(inbox)).toEqual([]);

      writeFileSync(file, '---\ntitle: Changed my mind\npublished: true\n---\n\nFor the newsletter after all.\n');
      // A push of the edit (the webhook's ingest, no explicit publish) still sends nothing.
      const pushed = await ingestPost(
        { path: '_posts/2024-10-06-changed-mind.md', source: readFileSync(file), kind: 'post', origin: 'webhook' },
        stack.ingest.ports,
      );
      expect(pushed).toMatchObject({ status: 'exists', state: 'skipped' });
      expect((await publish(file, '--site', SITE)).out).toMatch(/sent to 3 subscribers/);
      await stack.sending.idle();
      expect(copiesByAddress(await storedEmails(inbox))).toEqual(new Map(READERS.map((address) => [address, 1])));
      expect(await stack.sending.issues.getIssue('2024-10-06-changed-mind')).toMatchObject({
        state: 'dispatched',
        enqueued: 3,
      });

      // Now it was sent, like any other post: never again, not even by a replace racing the publish.
      expect((await publish(file, '--site', SITE)).out).toMatch(/already sent before; nothing sent again/);
      expect(
        await stack.sending.issues.replaceSkipped({
          postId: '2024-10-06-changed-mind',
          title: 'x',
          subject: 'x',
          state: 'dispatching',
          sendAt: new Date().toISOString(),
        }),
      ).toBe('exists');
      await stack.sending.idle();
      expect(copiesByAddress(await storedEmails(inbox))).toEqual(new Map(READERS.map((address) => [address, 1])));
    } finally {
      rmSync(site, { recursive: true, force: true });
    }
  });

  it('sends a draft as a preview to the editors only', async () => {
    const result = await publish(join(SITE, '_drafts', 'work-in-progress.md'));
    expect(result.out).toMatch(
      /is a draft: preview "\[Preview\] Work in progress" sent to 1 editor, not to subscribers/,
    );
    const emails = await storedEmails(inbox);
    expect(copiesByAddress(emails)).toEqual(new Map([[EDITOR, 1]]));
  });

  it('refuses a broken post with one line naming the file, and records nothing', async () => {
    await expect(publish(post('2024-10-05-broken.md'))).rejects.toThrow(/2024-10-05-broken\.md/);
    expect(await stack.sending.issues.getIssue('2024-10-05-broken')).toBeUndefined();
  });

  it('answers a signed publish request of the wrong shape with 400 naming the field, and records nothing', async () => {
    const source = Buffer.from('---\ntitle: Shape\n---\n\nText.\n').toString('base64');
    const path = '_posts/2024-10-06-shape.md';
    const cases: [unknown, RegExp][] = [
      [{ path, source, kind: 'post', config: { text: 42, label: '_config.yml' } }, /config without text/],
      [{ path, source, kind: 'post', config: { text: 'title: x', label: null } }, /config without label/],
      [{ path, source, kind: 'post', config: 'title: x' }, /config that is not an object/],
      [{ path, source, kind: 'post', test: ['proofreader@example.org'] }, /test address that is not text/],
      [{ path, source: 'not base64!', kind: 'post' }, /source/],
      [{ path: 7, source, kind: 'post' }, /path/],
      [{ path, source, kind: 'page' }, /kind/],
      [[path, source], /JSON object/],
    ];
    for (const [request, reason] of cases) {
      const body = JSON.stringify(request);
      const response = await fetch(`http://127.0.0.1:${stack.ports.http}${PUBLISH_PATH}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [PUBLISH_SIGNATURE_HEADER]: signPayload(stack.composition.secrets.webhookSecret, body),
        },
        body,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message?: string }).message).toMatch(reason);
    }
    expect(await stack.sending.issues.getIssue('2024-10-06-shape')).toBeUndefined();
  });

  it('refuses to publish when asked for AWS, saying to push the post instead, and sends nothing locally', async () => {
    await expect(publish(post('2024-10-02-concurrent.md'), '--aws')).rejects.toMatchObject({
      code: 'PUBLISH_AWS_UNSUPPORTED',
      message: expect.stringMatching(/push .*webhook/),
    });
    process.env.PUSHLETTER_TARGET = 'aws';
    try {
      await expect(publish(post('2024-10-02-concurrent.md'))).rejects.toMatchObject({
        code: 'PUBLISH_AWS_UNSUPPORTED',
      });
    } finally {
      delete process.env.PUSHLETTER_TARGET;
    }
    await stack.sending.idle();
    expect(await storedEmails(inbox)).toEqual([]);
  });

  it('says how to start a stack when none is running', async () => {
    const port = process.env.DYNAMODB_PORT;
    process.env.DYNAMODB_PORT = '1';
    try {
      await expect(publish(post('2024-10-02-concurrent.md'))).rejects.toMatchObject({
        code: 'LOCAL_STACK_NOT_RUNNING',
        message: expect.stringContaining('npx pushletter dev'),
      });
    } finally {
      process.env.DYNAMODB_PORT = port;
    }
  });
});
