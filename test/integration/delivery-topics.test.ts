import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPublish } from '../../functions/cli/publish-command';
import { formatStatus, runStatus } from '../../functions/cli/status-command';
import { parseTopics } from '../../functions/commons/config';
import { issueStatus } from '../../functions/delivery/delivery-status';
import { ingestPost, type PostFile } from '../../functions/publishing/ingest-post';
import {
  cliAgainst,
  confirmLink,
  heading,
  inbox,
  postForm,
  postJson,
  pressConfirm,
  startTestStack,
  type TestStack,
  uniqueAddress,
} from './http-helpers';

/**
 * Topic routing end to end on the local stack (dynalite, the SES emulator, the HTTP app, the
 * in-process queues): readers choose topics and frequency on the form or in JSON, confirm, and
 * three posts in Chinese and English categories reach exactly the readers they are for.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ topics: parseTopics('旅行, rust') });
});

afterAll(async () => {
  await stack?.dispose();
});

const readers = {
  travel: uniqueAddress('travel'),
  rust: uniqueAddress('rust'),
  ticksAll: uniqueAddress('ticks-all'),
  sendsNone: uniqueAddress('sends-none'),
  digest: uniqueAddress('digest'),
  digestTravel: uniqueAddress('digest-travel'),
};

/** A form post with repeated fields, as a browser sends the checkboxes. */
function postFields(fields: [string, string][]): Promise<Response> {
  return fetch(`${stack.urls.app}/subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

function post(slug: string, frontMatter: string): PostFile {
  return {
    path: `_posts/2026-06-01-${slug}.md`,
    source: `---\ntitle: ${slug}\n${frontMatter}\n---\n\n这是一篇关于${slug}的文章。\n`,
    kind: 'post',
    origin: 'publish',
  };
}

async function publish(file: PostFile): Promise<{ postId: string; to: string[] }> {
  const outcome = await ingestPost(file, stack.ingest.ports);
  expect(outcome.status).toBe('dispatching');
  await stack.sending.idle();
  const subject = file.path.slice('_posts/2026-06-01-'.length, -'.md'.length);
  const to = (await inbox(stack))
    .filter((email) => email.subject === subject)
    .flatMap((email) => email.destination.to)
    .sort();
  return { postId: outcome.postId, to };
}

const addresses = (...names: (keyof typeof readers)[]) => names.map((name) => readers[name]).sort();

describe('topics chosen at signup', () => {
  beforeAll(async () => {
    const signups: Promise<Response>[] = [
      postFields([
        ['email', readers.travel],
        ['topics', ''],
        ['topics', '旅行'],
        ['frequency', 'post'],
      ]),
      postJson(`${stack.urls.app}/subscribe`, { email: readers.rust, topics: ['Rust'] }),
      postFields([
        ['email', readers.ticksAll],
        ['topics', ''],
        ['topics', '旅行'],
        ['topics', 'rust'],
      ]),
      postJson(`${stack.urls.app}/subscribe`, { email: readers.sendsNone }),
      postFields([
        ['email', readers.digest],
        ['topics', '旅行'],
        ['topics', 'rust'],
        ['frequency', 'digest'],
      ]),
      postFields([
        ['email', readers.digestTravel],
        ['topics', '旅行'],
        ['frequency', 'digest'],
      ]),
    ];
    for (const response of await Promise.all(signups)) expect(response.status).toBe(200);
    for (const address of Object.values(readers))
      expect((await pressConfirm(await confirmLink(stack, address))).status).toBe(200);
  });

  it("stores each reader's topics under the offered names, none for all ticked, and the frequency", async () => {
    const stored = async (address: string) => {
      const subscriber = await stack.composition.subscribers.findByEmail(address);
      return { state: subscriber?.state, topics: subscriber?.topics, frequency: subscriber?.frequency };
    };
    expect(await stored(readers.travel)).toEqual({ state: 'active', topics: ['旅行'], frequency: 'post' });
    expect(await stored(readers.rust)).toEqual({ state: 'active', topics: ['rust'], frequency: undefined });
    expect(await stored(readers.ticksAll)).toEqual({ state: 'active', topics: undefined, frequency: undefined });
    expect(await stored(readers.digest)).toEqual({ state: 'active', topics: undefined, frequency: 'digest' });
  });

  it('sends a post in category 旅行 only to its readers and those who chose no topics', async () => {
    const { postId, to } = await publish(post('去旅行', 'category: 旅行'));
    expect(to).toEqual(addresses('travel', 'ticksAll', 'sendsNone'));
    const status = (await issueStatus(stack.sending.issues, postId, new Date()))!;
    expect(status.counts).toMatchObject({ sent: 3, queued: 0, sending: 0 });
    expect(status.issue.notFor).toEqual({ topics: 1, digest: 2 });
    // The readers it is not for have no claim and no record, only the counts.
    const recorded: string[] = [];
    for await (const page of stack.sending.issues.deliveries(postId))
      recorded.push(...page.map((copy) => copy.subscriberId));
    const rustId = (await stack.composition.subscribers.findByEmail(readers.rust))!.id;
    expect(recorded).toHaveLength(3);
    expect(recorded).not.toContain(rustId);
    expect(formatStatus(status)).toMatch(
      /not for them +3 {2}\(1 chose topics this post has none of; 2 read the weekly digest/,
    );
  });

  it('matches a tag without case: a post tagged Rust reaches the rust readers', async () => {
    const { to } = await publish(post('borrow-checker', 'tags: [Rust, 编程]'));
    expect(to).toEqual(addresses('rust', 'ticksAll', 'sendsNone'));
  });

  it('publish and status from the CLI say how many readers a post was not for, and why', async () => {
    const cli = cliAgainst(stack, stack.dataDir);
    try {
      const folder = await mkdtemp(join(tmpdir(), 'pushletter-topics-post-'));
      const file = join(folder, '_posts', '2026-06-02-再去旅行.md');
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, '---\ntitle: 再去旅行\ncategories: [旅行]\n---\n\n又一次旅行。\n');
      const published = cli.streams();
      expect(await runPublish([file], published)).toBe(0);
      expect(published.printed()).toContain(
        'sent to 3 subscribers (3 not for them: 1 by topic, 2 read the weekly digest)',
      );
      const status = cli.streams();
      expect(await runStatus([file, '--no-follow'], status)).toBe(0);
      expect(status.printed()).toMatch(/not for them +3 {2}\(1 chose topics this post has none of;/);
      await rm(folder, { recursive: true, force: true });
    } finally {
      cli.restore();
    }
  });

  it('sends a post with none of the offered topics to everyone but the digest readers', async () => {
    const { postId, to } = await publish(post('随笔', 'categories: [随笔]'));
    expect(to).toEqual(addresses('travel', 'rust', 'ticksAll', 'sendsNone'));
    expect((await stack.sending.issues.getIssue(postId))?.notFor).toEqual({ topics: 0, digest: 2 });
  });
});

describe('a signup with a topic or frequency that is not offered', () => {
  it('answers 400 in the page language, naming the value and the topics, and stores nothing', async () => {
    const address = uniqueAddress('golang');
    const response = await postFields([
      ['lang', 'zh-CN'],
      ['email', address],
      ['topics', 'golang'],
    ]);
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(heading(page)).toBe('订阅 Example Blog');
    expect(page).toContain('没有可选的主题“golang”。可选的主题有：“旅行”、“rust”。');
    expect(await stack.composition.subscribers.findByEmail(address)).toBeUndefined();

    const json = await postJson(`${stack.urls.app}/subscribe`, { email: address, frequency: 'daily' });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({
      error: 'unknownFrequency',
      message: '"daily" is not a choice of how often: choose "post" (every post) or "digest" (a weekly digest).',
    });
    expect(await stack.composition.subscribers.findByEmail(address)).toBeUndefined();
  });

  it('asks again, boxes ticked, when every topic was unticked', async () => {
    const response = await postForm(`${stack.urls.app}/subscribe`, { email: uniqueAddress('none'), topics: '' });
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('Tick at least one topic');
    expect(page.match(/name="topics" value="[^"]+" checked/g)).toHaveLength(2);
  });
});
