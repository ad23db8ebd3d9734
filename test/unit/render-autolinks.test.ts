import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { parsePost } from '../../functions/render/post';
import { siteFromConfigText } from '../../functions/render/site';

/**
 * Bare URLs in a post, through the whole renderer: GFM's extended autolinks end a URL at a space,
 * which Chinese text seldom has, so a URL must also end where CJK text or full-width
 * punctuation begins. English text keeps GFM's rule.
 */
const settings = readSettings({});
const site = siteFromConfigText('url: https://blog.example.com\ntitle: Example', '_config.yml', settings);

async function render(body: string): Promise<{ links: Array<[string, string]>; text: string; html: string }> {
  const post = await parsePost({
    path: '_posts/2024-03-08-links.md',
    source: `---\ntitle: Links\n---\n\n${body}\n`,
    site,
  });
  const document = parseDocument(post.bodyHtml);
  const links = DomUtils.findAll((element) => element.name === 'a', document.children).map(
    (link) => [link.attribs.href ?? '', DomUtils.textContent(link)] as [string, string],
  );
  return { links, text: DomUtils.textContent(document), html: post.bodyHtml };
}

describe('a bare URL in Chinese text', () => {
  it('ends at full-width punctuation, leaves out the unbalanced ")" and keeps the link after it', async () => {
    const { links, text } = await render('见(https://example.com/a)，基于[b](https://example.com/b)。');
    expect(links).toEqual([
      ['https://example.com/a', 'https://example.com/a'],
      ['https://example.com/b', 'b'],
    ]);
    expect(text).toBe('见(https://example.com/a)，基于b。');
  });

  it('ends where Chinese text follows directly, as in "…的"', async () => {
    const { links, text } = await render('参考 https://example.com/guide的第二节。');
    expect(links).toEqual([['https://example.com/guide', 'https://example.com/guide']]);
    expect(text).toBe('参考 https://example.com/guide的第二节。');
  });

  it('ends before each kind of full-width punctuation', async () => {
    for (const mark of ['，', '。', '：', '；', '！', '？', '）', '」', '』', '】', '、', '…', '”']) {
      const { links } = await render(`地址 https://example.com/path${mark}后文`);
      expect(links, mark).toEqual([['https://example.com/path', 'https://example.com/path']]);
    }
  });

  it('ends inside full-width parentheses and brackets', async () => {
    const { links } = await render(
      '（https://example.com/a）「https://example.com/b」【https://example.com/c】 www.example.com/d。',
    );
    expect(links.map(([href]) => href)).toEqual([
      'https://example.com/a',
      'https://example.com/b',
      'https://example.com/c',
      'http://www.example.com/d',
    ]);
  });

  it('keeps balanced parentheses, as in Wikipedia links, and drops trailing ASCII punctuation', async () => {
    const { links } = await render(
      '见 https://en.wikipedia.org/wiki/Rust_(programming_language)，以及 https://example.com/x.，完。',
    );
    expect(links.map(([href]) => href)).toEqual([
      'https://en.wikipedia.org/wiki/Rust_(programming_language)',
      'https://example.com/x',
    ]);
  });

  it('keeps a query string and fragment up to the Chinese text', async () => {
    const { links } = await render('搜索 https://example.com/search?q=rust&page=2#results，结果很多。');
    expect(links.map(([href]) => href)).toEqual(['https://example.com/search?q=rust&page=2#results']);
  });

  it('leaves URLs inside code spans and code blocks alone', async () => {
    const { links, html } = await render(
      '行内 `https://example.com/a，中文` 结束。\n\n```\ncurl https://example.com/b，然后\n```',
    );
    expect(links).toEqual([]);
    expect(html).toContain('https://example.com/a，中文');
    expect(html).toContain('curl https://example.com/b，然后');
  });
});

describe('a bare URL in English text (GFM as before)', () => {
  it('ends at the space after a comma, leaves out the unbalanced ")" and keeps the link after it', async () => {
    const { links, text } = await render('see (https://example.com/a), based on [b](https://example.com/b).');
    expect(links).toEqual([
      ['https://example.com/a', 'https://example.com/a'],
      ['https://example.com/b', 'b'],
    ]);
    expect(text).toBe('see (https://example.com/a), based on b.');
  });

  it('runs on through Latin letters that follow directly, as GFM does', async () => {
    const { links } = await render('then https://example.com/guidebook.');
    expect(links.map(([href]) => href)).toEqual(['https://example.com/guidebook']);
  });

  it('ends before typographic quotes, which are never part of a bare URL', async () => {
    const { links } = await render('the “https://example.com/a” page and https://example.com/guide’s index');
    expect(links.map(([href]) => href)).toEqual(['https://example.com/a', 'https://example.com/guide']);
  });

  it('keeps balanced parentheses and drops trailing punctuation', async () => {
    const { links } = await render(
      '(see https://en.wikipedia.org/wiki/Rust_(programming_language)) and https://example.com/x.',
    );
    expect(links.map(([href]) => href)).toEqual([
      'https://en.wikipedia.org/wiki/Rust_(programming_language)',
      'https://example.com/x',
    ]);
  });

  it('leaves URLs inside code spans alone', async () => {
    const { links } = await render('run `curl https://example.com/a` now');
    expect(links).toEqual([]);
  });

  it('links www. addresses and email addresses as before', async () => {
    const { links } = await render('visit www.example.com/docs, or write to editor@example.com.');
    expect(links).toEqual([
      ['http://www.example.com/docs', 'www.example.com/docs'],
      ['mailto:editor@example.com', 'editor@example.com'],
    ]);
  });
});
