import { randomBytes } from 'node:crypto';
import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { renderEmail } from '../../functions/render/email';
import { parsePost } from '../../functions/render/post';
import { siteFromConfigText } from '../../functions/render/site';
import { UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import { LinkSigner, readClickPath, readPixelPath } from '../../functions/stats/tracked-links';

/**
 * Aggregate tracking, on the rendered email: the post's links lead to the signed redirect in
 * both parts, each redirect to the right stored target, and nothing else is touched.
 */
const PUBLIC_URL = 'https://newsletter.example.org';
const key = randomBytes(32);
const signer = new LinkSigner(key);
const settings = readSettings({ PUSHLETTER_PUBLIC_URL: PUBLIC_URL, PUSHLETTER_TRACKING: 'aggregate' });

const BODY = `你好。先看[北京的条目](https://zh.wikipedia.org/wiki/北京)和[搜索结果](https://example.com/search?q=a&lang=中文#results)。

再看一次[同一个条目](https://zh.wikipedia.org/wiki/北京)，或者直接打开 <https://example.com/auto>。

写信到 [me@example.com](mailto:me@example.com)，或者跳到[注释](#notes)。

## Notes {#notes}

End.`;

async function render(options: { tracking: boolean; opens?: boolean; path?: string }) {
  const site = await siteFromConfigText('url: https://blog.example.com\ntitle: Example', '_config.yml', settings);
  const post = await parsePost({
    path: options.path ?? '_posts/2024-03-08-links.md',
    source: `---\ntitle: Links\n---\n\n${BODY}\n`,
    site,
  });
  const email = await renderEmail(
    post,
    site,
    settings,
    options.tracking ? { publicUrl: PUBLIC_URL, key, opens: options.opens ?? false } : undefined,
  );
  const anchors = DomUtils.findAll((element) => element.name === 'a', parseDocument(email.html).children);
  return { post, email, anchors };
}

/** The target a redirect URL leads to, checking its signature as the route does. */
function follow(url: string, links: string[]): string | undefined {
  const match = /^https:\/\/newsletter\.example\.org\/r\/([^/]+)\/([^/]+)$/.exec(url);
  if (match === null) return undefined;
  const link = readClickPath(match[1]!, match[2]!);
  if (link === undefined || !signer.verifyClick(link.postId, link.index, link.signature)) return undefined;
  return links[link.index];
}

describe('links with tracking aggregate', () => {
  it('lead to the redirect, which leads to the written target: Chinese paths, query strings and fragments kept', async () => {
    const { email, anchors } = await render({ tracking: true });
    const links = email.links!;
    const redirected = anchors
      .map((anchor) => anchor.attribs.href!)
      .filter((href) => href.startsWith(`${PUBLIC_URL}/r/`))
      .map((href) => follow(href, links));
    expect(redirected).toContain('https://zh.wikipedia.org/wiki/%E5%8C%97%E4%BA%AC');
    expect(redirected).toContain('https://example.com/search?q=a&lang=%E4%B8%AD%E6%96%87#results');
    expect(redirected).toContain('https://example.com/auto');
    expect(redirected).not.toContain(undefined);
  });

  it('give a link written twice one index, so its clicks add up in one count', async () => {
    const { email, anchors } = await render({ tracking: true });
    const wiki = anchors.filter((anchor) => follow(anchor.attribs.href!, email.links!)?.includes('wikipedia'));
    expect(wiki).toHaveLength(2);
    expect(wiki[0]!.attribs.href).toBe(wiki[1]!.attribs.href);
    expect(email.links!.filter((link) => link.includes('wikipedia'))).toHaveLength(1);
  });

  it('keep the text a reader sees: an autolink still shows its own URL', async () => {
    const { email, anchors } = await render({ tracking: true });
    const auto = anchors.find((anchor) => DomUtils.textContent(anchor) === 'https://example.com/auto');
    expect(auto?.attribs.href).toMatch(/^https:\/\/newsletter\.example\.org\/r\//);
    expect(email.text).toMatch(/https:\/\/example\.com\/auto\s\(https:\/\/newsletter\.example\.org\/r\/[^)]+\)/);
  });

  it('are the redirect in the text part too', async () => {
    const { email } = await render({ tracking: true });
    const inText = [...email.text.matchAll(/https:\/\/newsletter\.example\.org\/r\/\S+?(?=\)|\s)/g)].map((match) =>
      follow(match[0], email.links!),
    );
    expect(inText).toContain('https://zh.wikipedia.org/wiki/%E5%8C%97%E4%BA%AC');
    expect(inText).not.toContain(undefined);
    expect(email.text).not.toContain('https://zh.wikipedia.org');
  });

  it('leave mailto:, anchors within the post, "view on the web" and the unsubscribe link alone', async () => {
    const { post, email, anchors } = await render({ tracking: true });
    const hrefs = anchors.map((anchor) => anchor.attribs.href!);
    expect(hrefs).toContain('mailto:me@example.com');
    expect(hrefs).toContain(`${post.url}#notes`);
    expect(hrefs).toContain(post.url);
    expect(hrefs).toContain(UNSUBSCRIBE_URL_PLACEHOLDER);
    expect(email.text).toContain(UNSUBSCRIBE_URL_PLACEHOLDER);
  });

  it('add one link nobody sees, tabs to or hears, leading to the post, in the HTML part only', async () => {
    const { post, email, anchors } = await render({ tracking: true });
    const hidden = anchors.filter(
      (anchor) => follow(anchor.attribs.href!, email.links!) !== undefined && anchor.attribs.tabindex === '-1',
    );
    expect(hidden).toHaveLength(1);
    const link = hidden[0]!;
    expect(link.attribs['aria-hidden']).toBe('true');
    expect((link.parent as { attribs?: Record<string, string> }).attribs?.['aria-hidden']).toBe('true');
    expect((link.parent as { attribs?: Record<string, string> }).attribs?.style).toMatch(/height:0;.*overflow:hidden/);
    expect(follow(link.attribs.href!, email.links!)).toBe(post.url);
    expect(email.text).not.toContain(link.attribs.href!);
    expect(email.html).not.toContain('/o/');
  });

  it('with opens, add a pixel signed for the post', async () => {
    const { post, email } = await render({ tracking: true, opens: true });
    const src = /<img src="(https:\/\/newsletter\.example\.org\/o\/[^"]+)"/.exec(email.html)?.[1];
    const pixel = readPixelPath(src!.split('/o/')[1]!);
    expect(pixel?.postId).toBe(post.id);
    expect(signer.verifyOpen(pixel!.postId, pixel!.signature)).toBe(true);
  });

  it('carry a Chinese post id encoded in the URL, read back whole', async () => {
    const { post, email, anchors } = await render({ tracking: true, path: '_posts/2024-03-08-北京之行.md' });
    expect(post.id).toContain('北京之行');
    const href = anchors.map((anchor) => anchor.attribs.href!).find((value) => value.includes('/r/'))!;
    expect(href).toContain(`/r/${encodeURIComponent(post.id)}/`);
    expect(follow(href, email.links!)).toBeDefined();
  });
});

describe('links with tracking off', () => {
  it('go straight to their targets, with no hidden link and no link list', async () => {
    const { email, anchors } = await render({ tracking: false });
    expect(email.html).not.toContain('/r/');
    expect(email.text).not.toContain('/r/');
    expect(email.links).toBeUndefined();
    expect(anchors.map((anchor) => anchor.attribs.href)).toContain('https://zh.wikipedia.org/wiki/%E5%8C%97%E4%BA%AC');
  });
});

describe('a redirect URL changed in any way', () => {
  it('no longer verifies: another index, another post, another key', () => {
    const signature = signer.click('2024-03-08-links', 2);
    expect(signer.verifyClick('2024-03-08-links', 2, signature)).toBe(true);
    expect(signer.verifyClick('2024-03-08-links', 3, signature)).toBe(false);
    expect(signer.verifyClick('2024-03-09-other', 2, signature)).toBe(false);
    expect(new LinkSigner(randomBytes(32)).verifyClick('2024-03-08-links', 2, signature)).toBe(false);
    expect(readClickPath('2024-03-08-links', `2.${signature}x`)).toBeUndefined();
    expect(readClickPath('2024-03-08-links', `02.${signature}`)).toBeUndefined();
    expect(readClickPath('%E0%A4%A', `2.${signature}`)).toBeUndefined();
  });
});
