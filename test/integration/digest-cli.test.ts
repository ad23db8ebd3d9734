import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runDigest } from '../../functions/cli/digest-command';
import { readSettings } from '../../functions/commons/config';
import { digestWeekAt } from '../../functions/digest/digest-week';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { ingestPost } from '../../functions/publishing/ingest-post';
import { importSubscribers } from '../../functions/subscribers/import';
import { storedEmails } from './delivery-harness';

const BLOG_EN = fileURLToPath(new URL('../fixtures/blog-en/', import.meta.url));
const PUBLISH_BLOG = fileURLToPath(new URL('../fixtures/publish-blog/', import.meta.url));

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'pushletter-digest-cli-'));
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

async function digest(
  args: string[],
  io: { settings?: ReturnType<typeof readSettings>; now?: Date } = {},
): Promise<{ code: number; out: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const err = new PassThrough() as unknown as NodeJS.WriteStream;
  (err as unknown as PassThrough).resume();
  const code = await runDigest(args, { out, err, ...io });
  return { code, out: Buffer.concat(chunks).toString('utf8') };
}

describe('pushletter digest (preview)', () => {
  const settings = readSettings({ PUSHLETTER_PUBLIC_URL: 'https://news.example.org' });
  const now = new Date('2024-06-03T09:00:00Z');

  it("writes the week's digest as html, txt and a complete eml, and prints its subject and size", async () => {
    const out = join(folder, 'preview');
    const result = await digest(['--site', BLOG_EN, '--since', '2024-04-01', '--out', out], { settings, now });
    expect(result.code).toBe(0);
    // hello-world and helm charts are in the window; members-only (June) is after `now`.
    expect(result.out).toContain('✓ digest of 2 posts dated from 2024-04-01 (Field Notes)');
    expect(result.out).toContain('subject: This week on Field Notes: Hello World and 1 more');
    const base = join(out, 'digest-2024-W23');
    for (const extension of ['html', 'txt', 'eml']) expect(existsSync(`${base}.${extension}`), extension).toBe(true);
    const eml = readFileSync(`${base}.eml`, 'latin1');
    expect(eml).toMatch(/^List-Unsubscribe: <https:\/\/news\.example\.org\/unsubscribe\?token=preview>\r$/m);
    expect(eml).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    const text = readFileSync(`${base}.txt`, 'utf8');
    expect(text).toContain('Shipping Helm charts without surprises');
    expect(text).toContain('Unsubscribe: https://news.example.org/unsubscribe?token=preview');
    expect(readFileSync(`${base}.html`, 'utf8')).not.toContain('%%PUSHLETTER');
  });

  it('says what to fix when --out is a file, lies under a file, or one of its names is a folder, and writes none of the three', async () => {
    const args = (out: string) => ['--site', BLOG_EN, '--since', '2024-04-01', '--out', out];
    const file = join(folder, 'a-file');
    writeFileSync(file, 'mine');
    await expect(digest(args(file), { settings, now })).rejects.toMatchObject({
      code: 'DIGEST_NOT_WRITTEN',
      message: `cannot create the folder ${file}: ${file} is a file, not a folder; pass another --out folder`,
    });
    await expect(digest(args(join(file, 'out')), { settings, now })).rejects.toMatchObject({
      code: 'DIGEST_NOT_WRITTEN',
      message: `cannot create the folder ${join(file, 'out')}: a part of it is a file, not a folder; pass another --out folder`,
    });
    expect(readFileSync(file, 'utf8')).toBe('mine');

    const out = join(folder, 'txt-is-a-folder');
    mkdirSync(join(out, 'digest-2024-W23.txt'), { recursive: true });
    const txt = join(out, 'digest-2024-W23.txt');
    await expect(digest(args(out), { settings, now })).rejects.toMatchObject({
      code: 'DIGEST_NOT_WRITTEN',
      message: `cannot write ${txt}: ${txt} is a folder: remove it or pass another --out`,
    });
    expect(readdirSync(out)).toEqual(['digest-2024-W23.txt']);
  });

  it('says when the week has no posts, and writes nothing', async () => {
    const out = join(folder, 'empty');
    // Seven days before midnight UTC is the evening of 24 December on the blog's clock.
    const result = await digest(['--site', BLOG_EN, '--out', out], { settings, now: new Date('2030-01-01T00:00:00Z') });
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toMatch(
      /^no posts dated from 2029-12-24 until now in .*_posts: that week's digest would not be sent$/m,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('names what to fix for a folder that is no blog, a date that is none, or options that do not go together', async () => {
    await expect(digest(['--site', folder], { settings, now })).rejects.toThrow(
      /no _posts folder; run this in the blog's folder/,
    );
    await expect(digest(['--site', BLOG_EN, '--since', 'last week'], { settings, now })).rejects.toThrow(
      /--since last week: not a date; write it as YYYY-MM-DD/,
    );
    await expect(digest(['--site', BLOG_EN, '--since', '2026-02-30'], { settings, now })).rejects.toThrow(
      /--since 2026-02-30: not a date; February 2026 has 28 days/,
    );
    await expect(digest(['--send', '--since', '2024-01-01'], { settings, now })).rejects.toThrow(
      /--send sends the week the running stack's posts make up/,
    );
  });
});

describe('pushletter digest --send', () => {
  let stack: LocalStack;
  let dataDir: string;
  const savedEnvironment = { ...process.env };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pushletter-digest-send-'));
    stack = await startLocalStack({
      dataDir,
      ports: { http: 0, ses: 0, dynamodb: 0 },
      settings: readSettings({ PUSHLETTER_SITE_URL: 'https://small.example.org' }),
    });
    process.env.PORT = String(stack.ports.http);
    process.env.SES_PORT = String(stack.ports.ses);
    process.env.DYNAMODB_PORT = String(stack.ports.dynamodb);
    process.env.PUSHLETTER_DATA_DIR = dataDir;
  });

  afterAll(async () => {
    process.env = savedEnvironment;
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends the digest due now to its readers through the running stack, once however often it is asked', async () => {
    const { composition } = stack;
    await importSubscribers(
      ['weekly@example.org', 'each-post@example.org'].map((email, index) => ({ line: index + 2, email })),
      { store: composition.subscribers, service: composition.subscriptions, clock: composition.clock, confirmed: true },
    );
    const weekly = composition.subscribers.idFor('weekly@example.org');
    await composition.dynamo.send(
      new UpdateItemCommand({
        TableName: composition.resources.subscribersTable,
        Key: marshall({ id: weekly }),
        UpdateExpression: 'SET frequency = :digest',
        ExpressionAttributeValues: marshall({ ':digest': 'digest' }),
      }),
    );
    const path = '_posts/2024-10-03-tested-first.md';
    await ingestPost(
      {
        path,
        source: readFileSync(join(PUBLISH_BLOG, path)),
        config: { text: readFileSync(join(PUBLISH_BLOG, '_config.yml'), 'utf8'), label: '_config.yml' },
        kind: 'post',
        origin: 'publish',
      },
      stack.ingest.ports,
    );
    await stack.sending.idle();
    // The post went out in the week the digest due now covers.
    const week = digestWeekAt(new Date(), composition.settings.digest);
    await composition.dynamo.send(
      new UpdateItemCommand({
        TableName: composition.resources.issuesTable,
        Key: marshall({ postId: '2024-10-03-tested-first' }),
        UpdateExpression: 'SET sendAt = :sent',
        ExpressionAttributeValues: marshall({ ':sent': new Date(week.since.getTime() + 60_000).toISOString() }),
      }),
    );

    const first = await digest(['--send']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(new RegExp(`^sending ${week.id}: ".+": 1 post to 1 digest reader \\(1 variant\\)$`, 'm'));
    expect(first.out).toMatch(/^sent to 1 subscriber$/m);
    const again = await digest(['--send']);
    expect(again.out).toContain(`${week.id} was already sent; nothing sent again`);

    await stack.sending.idle();
    const digests = (await storedEmails(`http://127.0.0.1:${stack.ports.ses}`)).filter((email) =>
      email.subject.startsWith('This week on'),
    );
    expect(digests.map((email) => email.destination.to.join())).toEqual(['weekly@example.org']);
  });
});
