import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostFile } from '../../functions/publishing/ingest-post';
import { ingestPost } from '../../functions/publishing/ingest-post';
import { clickStats } from '../../functions/stats/clicks';
import { postScope } from '../../functions/stats/counted';
import { LinkSigner } from '../../functions/stats/tracked-links';
import { inbox, startTestStack, type TestStack } from './http-helpers';

/**
 * Aggregate tracking through the local stack (dynalite, the SES emulator, the in-process send
 * pipeline, the HTTP app on a real port): a post sent to 200 readers, its links followed from
 * the delivered emails by readers' browsers and by scanners, the counts and the estimate read
 * back, and every URL that is not one of the post's own links refused.
 */
const READERS = 200;
const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15';
const GATEWAY = 'Mimecast URL Protect/1.0';
const CONFIG = { text: 'title: Field Notes\nurl: https://blog.example.org\nlang: en\n', label: '_config.yml' };

function postFile(slug: string, body: string): PostFile {
  return {
    path: `_posts/2026-11-05-${slug}.md`,
    source: `---\ntitle: ${slug}\n---\n\n${body}\n`,
    config: CONFIG,
    kind: 'post',
    origin: 'publish',
  };
}

const FIRST = postFile(
  'tracked',
  'Read [the guide](https://guide.example.org/start?from=letter#step-2), [北京](https://zh.wikipedia.org/wiki/北京) and <https://tools.example.org/check>.\n\nMail [me](mailto:me@example.org).',
);
const SECOND = postFile('another', 'Only [one link](https://elsewhere.example.org/).');

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ tracking: 'aggregate', maxSendRate: 500 });
  const consent = { at: new Date().toISOString(), source: 'import' };
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < READERS) {
        const index = next++;
        await stack.composition.subscribers.createIfAbsent({
          email: `reader${index}@example.com`,
          state: 'active',
          consent,
        });
      }
    }),
  );
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

/** The redirect links of an email's HTML, in order, and which of them is hidden (tabindex -1). */
function redirectLinks(html: string): { visible: string[]; hidden: string[] } {
  const visible: string[] = [];
  const hidden: string[] = [];
  for (const match of html.matchAll(/<a href="([^"]*\/r\/[^"]+)"([^>]*)>/g)) {
    const href = match[1]!.replaceAll('&amp;', '&');
    (match[2]!.includes('tabindex="-1"') ? hidden : visible).push(href);
  }
  return { visible: [...new Set(visible)], hidden };
}

async function open(url: string, method: 'GET' | 'HEAD', agent: string): Promise<Response> {
  return fetch(url, { method, redirect: 'manual', headers: { 'user-agent': agent } });
}

async function subscriberStates(): Promise<string> {
  const states: string[] = [];
  for await (const page of stack.composition.subscribers.scanAll())
    for (const subscriber of page) states.push(`${subscriber.email}:${subscriber.state}`);
  return states.sort().join('\n');
}

describe('a post sent with tracking aggregate', () => {
  let postId: string;
  let visible: string[];
  let hidden: string;

  it('reaches every reader with the same redirect links, which name no reader', async () => {
    const outcome = await ingestPost(FIRST, stack.ingest.ports);
    expect(outcome.status).toBe('dispatching');
    postId = outcome.postId;
    await stack.sending.idle();
    const emails = (await inbox(stack)).filter((email) => email.subject === 'tracked');
    expect(emails).toHaveLength(READERS);
    const first = redirectLinks(emails[0]!.body.html!);
    expect(first.visible).toHaveLength(3);
    expect(first.hidden).toHaveLength(1);
    for (const email of emails) expect(redirectLinks(email.body.html!)).toEqual(first);
    // The text part carries the same redirects, and not the hidden link.
    for (const link of first.visible) expect(emails[0]!.body.text).toContain(link);
    expect(emails[0]!.body.text).not.toContain(first.hidden[0]);
    expect(emails[0]!.body.text).toContain('me@example.org');
    visible = first.visible;
    hidden = first.hidden[0]!;
  }, 120_000);

  it("sends an editor's test copy with the links as written: nothing of it is counted", async () => {
    const outcome = await ingestPost(
      postFile('tested', 'See [the guide](https://guide.example.org/)'),
      stack.ingest.ports,
      {
        testAddress: 'editor@example.org',
      },
    );
    expect(outcome.status).toBe('test');
    const copy = (await inbox(stack, 'editor@example.org')).at(-1)!;
    expect(copy.body.html).toContain('href="https://guide.example.org/"');
    expect(copy.body.html).not.toContain('/r/');
    expect(copy.body.text).not.toContain('/r/');
  });

  it("leads each link to the post's own target with a 302", async () => {
    const targets = await Promise.all(
      visible.map(async (link) => (await open(link, 'GET', BROWSER)).headers.get('location')),
    );
    expect(targets).toEqual([
      'https://guide.example.org/start?from=letter#step-2',
      'https://zh.wikipedia.org/wiki/%E5%8C%97%E4%BA%AC',
      'https://tools.example.org/check',
    ]);
  });

  it('counts readers and scanners apart, estimates human clicks per link, and changes no subscriber', async () => {
    const before = await subscriberStates();
    // What the previous test did: one reader click on each link.
    const follows: Promise<Response>[] = [];
    // Readers: 40 more on the guide, 10 readers three times each on 北京, none on the tool.
    for (let reader = 0; reader < 40; reader++) follows.push(open(visible[0]!, 'GET', BROWSER));
    for (let reader = 0; reader < 10; reader++)
      for (let time = 0; time < 3; time++) follows.push(open(visible[1]!, 'GET', BROWSER));
    // Mail gateways that say who they are: every link of 25 emails, the hidden one too, 10 of them with HEAD.
    for (let email = 0; email < 25; email++)
      for (const link of [...visible, hidden]) follows.push(open(link, email < 10 ? 'HEAD' : 'GET', GATEWAY));
    // Scanners that pass for a browser: every link of 15 emails, within seconds.
    for (let email = 0; email < 15; email++)
      for (const link of [...visible, hidden]) follows.push(open(link, 'GET', BROWSER));
    const answers = await Promise.all(follows);
    expect(answers.every((answer) => answer.status === 302)).toBe(true);

    const links = await stack.sending.issues.getLinks(postId);
    const clicks = clickStats(await stack.composition.clicks.read(postScope(postId)), links!);
    expect(clicks).toEqual({
      links: [
        { url: 'https://guide.example.org/start?from=letter#step-2', total: 81, machine: 25, estimatedHuman: 41 },
        { url: 'https://zh.wikipedia.org/wiki/%E5%8C%97%E4%BA%AC', total: 71, machine: 25, estimatedHuman: 31 },
        { url: 'https://tools.example.org/check', total: 41, machine: 25, estimatedHuman: 1 },
      ],
      hiddenLinkFollows: 40,
    });
    expect(await subscriberStates()).toBe(before);
  }, 120_000);

  it('refuses, with a 404 and no redirect, every URL that is not one of its links', async () => {
    const other = await ingestPost(SECOND, stack.ingest.ports);
    await stack.sending.idle();
    const otherLink = redirectLinks((await inbox(stack)).find((email) => email.subject === 'another')!.body.html!)
      .visible[0]!;
    const [base, segment] = [visible[0]!.slice(0, visible[0]!.lastIndexOf('/')), visible[0]!.split('/').at(-1)!];
    const [index, signature] = segment.split('.') as [string, string];
    const signer = new LinkSigner(stack.composition.linkKey);
    const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
    const refused = [
      `${base}/${index}.${flipped}`, // a forged signature
      `${base}/${otherLink.split('/').at(-1)}`, // the other post's index and signature on this post
      `${base}/2.${signature}`, // another index with this link's signature
      `${base}/${segment}/more`, // a longer path
      `${base}/${segment}.gif`, // an altered segment
      `${base}/99.${signer.click(postId, 99)}`, // an index past the post's links, signed
      `${otherLink.slice(0, otherLink.indexOf('/r/'))}/r/${encodeURIComponent('2026-11-05-unknown')}/1.${signer.click('2026-11-05-unknown', 1)}`,
      `${base.replace(encodeURIComponent(postId), encodeURIComponent(other.postId))}/${segment}`, // this link on the other post
    ];
    for (const url of refused) {
      for (const method of ['GET', 'HEAD'] as const) {
        const answer = await open(url, method, BROWSER);
        expect(answer.status, `${method} ${url}`).toBe(404);
        expect(answer.headers.get('location'), url).toBeNull();
      }
    }
    // A query string cannot steer the redirect anywhere else.
    const steered = await open(`${visible[0]}?url=https://evil.example/&next=https://evil.example/`, 'GET', BROWSER);
    expect(steered.headers.get('location')).toBe('https://guide.example.org/start?from=letter#step-2');
  }, 120_000);
});
