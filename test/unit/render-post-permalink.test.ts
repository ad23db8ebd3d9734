import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { parsePost } from '../../functions/render/post';
import { findSiteRoot, loadSite, siteFromConfigText } from '../../functions/render/site';

const settings = readSettings({});

async function urlOf(options: { config?: string; path?: string; frontMatter?: string }) {
  const site = siteFromConfigText(`url: https://blog.example.com\n${options.config ?? ''}`, '_config.yml', settings);
  const source = `---\n${options.frontMatter ?? 'title: x'}\n---\n\nBody.\n`;
  const post = await parsePost({ path: options.path ?? '_posts/2024-03-08-Hello-World.md', source, site });
  return post.url;
}

describe("a post's URL follows the site's permalink setting like Jekyll 4", () => {
  const frontMatter = 'title: x\ncategories: [Cloud Native, ops]\ndate: 2024-03-08 09:05:07';

  it.each([
    ['', 'https://blog.example.com/cloud%20native/ops/2024/03/08/Hello-World.html'],
    ['permalink: date', 'https://blog.example.com/cloud%20native/ops/2024/03/08/Hello-World.html'],
    ['permalink: pretty', 'https://blog.example.com/cloud%20native/ops/2024/03/08/Hello-World/'],
    ['permalink: ordinal', 'https://blog.example.com/cloud%20native/ops/2024/068/Hello-World.html'],
    ['permalink: weekdate', 'https://blog.example.com/cloud%20native/ops/2024/W10/Fri/Hello-World.html'],
    ['permalink: none', 'https://blog.example.com/cloud%20native/ops/Hello-World.html'],
    ['permalink: /:year/:month/:day/:title:output_ext', 'https://blog.example.com/2024/03/08/Hello-World.html'],
    ['permalink: /blog/:slug/', 'https://blog.example.com/blog/hello-world/'],
    [
      'permalink: /:short_year/:i_month/:i_day/:hour:minute:second-:title',
      'https://blog.example.com/24/3/8/090507-Hello-World',
    ],
    [
      'permalink: /:slugified_categories/:long_month/:title/',
      'https://blog.example.com/cloud-native/ops/March/Hello-World/',
    ],
    [
      'permalink: /:categories/:title/\nbaseurl: /docs',
      'https://blog.example.com/docs/cloud%20native/ops/Hello-World/',
    ],
  ])('%s', async (config, expected) => {
    expect(await urlOf({ config, frontMatter })).toBe(expected);
  });

  it('drops :categories cleanly when the post has none', async () => {
    expect(await urlOf({ config: 'permalink: pretty' })).toBe('https://blog.example.com/2024/03/08/Hello-World/');
  });

  it('lets the front-matter permalink and slug win over the site setting and file name', async () => {
    expect(
      await urlOf({ config: 'permalink: pretty', frontMatter: 'title: x\npermalink: /about/:year/custom.html' }),
    ).toBe('https://blog.example.com/about/2024/custom.html');
    expect(await urlOf({ config: 'permalink: pretty', frontMatter: 'title: x\nslug: Better Name' })).toBe(
      'https://blog.example.com/2024/03/08/Better-Name/',
    );
  });

  it('reads the URL date in the site timezone, even when the front matter gives another offset', async () => {
    const config = 'permalink: /:year/:month/:day/:title/\ntimezone: Asia/Shanghai';
    // 23:30 in Los Angeles on the 8th is already the 9th in Shanghai.
    expect(await urlOf({ config, frontMatter: 'title: x\ndate: 2024-03-08 23:30:00 -0800' })).toBe(
      'https://blog.example.com/2024/03/09/Hello-World/',
    );
    expect(await urlOf({ config, frontMatter: 'title: x\ndate: 2024-03-08 23:30:00' })).toBe(
      'https://blog.example.com/2024/03/08/Hello-World/',
    );
  });

  it('keeps Chinese slugs and categories, percent-encoded', async () => {
    const url = await urlOf({
      config: 'permalink: /:categories/:title/',
      path: '_posts/2024-03-08-你好-世界.md',
      frontMatter: 'title: x\ncategory: 随笔',
    });
    expect(url).toBe('https://blog.example.com/%E9%9A%8F%E7%AC%94/%E4%BD%A0%E5%A5%BD-%E4%B8%96%E7%95%8C/');
    expect(decodeURI(url)).toBe('https://blog.example.com/随笔/你好-世界/');
  });
});

describe('front matter read the way Jekyll reads it', () => {
  const site = siteFromConfigText('url: https://blog.example.com\ntimezone: Europe/Berlin\n', '_config.yml', settings);
  const parse = (frontMatter: string, path = '_posts/2024-03-08-api-design-notes.md') =>
    parsePost({ path, source: `---\n${frontMatter}\n---\n\nBody.\n`, site });

  it('titles an untitled post from its slug', async () => {
    expect((await parse('layout: post')).title).toBe('Api Design Notes');
  });

  it('splits a space-separated categories string but keeps a single category whole', async () => {
    expect((await parse('categories: cloud ops')).categories).toEqual(['cloud', 'ops']);
    expect((await parse('category: cloud native')).categories).toEqual(['cloud native']);
    expect((await parse('tags: a b\ntag: c d')).tags).toEqual(['a', 'b', 'c d']);
  });

  it('treats YAML 1.1 "no" as false, as Ruby does', async () => {
    expect((await parse('newsletter: no')).skipReason).toContain('newsletter: false');
    expect((await parse('published: false')).skipReason).toContain('published: false');
    expect((await parse('newsletter: true')).skipReason).toBeUndefined();
  });

  it('reads dates in the forms Jekyll accepts', async () => {
    expect((await parse('date: 2024-03-08')).date.toISOString()).toBe('2024-03-07T23:00:00.000Z');
    expect((await parse('date: 2024-07-08 10:00')).date.toISOString()).toBe('2024-07-08T08:00:00.000Z');
    expect((await parse('date: 2024-03-08T10:00:00Z')).date.toISOString()).toBe('2024-03-08T10:00:00.000Z');
    expect((await parse('date: 2024-03-08 10:00:00 +05:30')).date.toISOString()).toBe('2024-03-08T04:30:00.000Z');
  });

  it('takes description, else excerpt, else the first paragraph', async () => {
    expect((await parse('description: Short summary')).description).toBe('Short summary');
    expect((await parse('excerpt: The excerpt')).description).toBe('The excerpt');
    expect((await parse('title: x')).description).toBe('Body.');
  });

  it('makes the front-matter image absolute, also when given as image.path', async () => {
    expect((await parse('image: /img/cover.jpg')).image).toBe('https://blog.example.com/img/cover.jpg');
    expect((await parse('image:\n  path: img/cover.jpg')).image).toBe('https://blog.example.com/img/cover.jpg');
    expect((await parse('image: https://cdn.example.net/c.png')).image).toBe('https://cdn.example.net/c.png');
  });
});

describe('what the site folder tells about a post', () => {
  const folder = mkdtempSync(join(tmpdir(), 'pushletter-layout-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
    return join(folder, path);
  };

  it('takes categories from folders above _posts, and links Markdown pages to the page they become', async () => {
    write('_config.yml', 'url: https://layout.example.com\npermalink: pretty\n');
    write('about.md', '---\ntitle: About\n---\n\nAbout me.\n');
    write('docs/guide.md', '---\npermalink: /the-guide/\n---\n\nGuide.\n');
    const file = write(
      'news/_posts/2024-03-08-launch.md',
      '---\ntitle: Launch\ncategories: release\n---\n\nSee [about](../../about.md) and [the guide](../../docs/guide.md#install).\n',
    );
    const root = findSiteRoot(file);
    expect(root).toBe(folder);
    const post = await parsePost({ path: file, source: readFileSync(file), site: await loadSite(root, settings) });
    expect(post.categories).toEqual(['news', 'release']);
    expect(post.url).toBe('https://layout.example.com/news/release/2024/03/08/launch/');
    expect(post.bodyHtml).toContain('<a href="https://layout.example.com/about/">about</a>');
    expect(post.bodyHtml).toContain('<a href="https://layout.example.com/the-guide/#install">the guide</a>');
  });

  it('does not count collections_dir as a category', async () => {
    const site = join(folder, 'collections-site');
    write(
      'collections-site/_config.yml',
      'url: https://c.example.com\ncollections_dir: my_collections\npermalink: /:categories/:title/\n',
    );
    const file = write('collections-site/my_collections/_posts/2024-03-08-hello.md', '---\ntitle: Hello\n---\n\nHi.\n');
    expect(findSiteRoot(file)).toBe(site);
    const post = await parsePost({ path: file, source: readFileSync(file), site: await loadSite(site, settings) });
    expect(post.categories).toEqual([]);
    expect(post.url).toBe('https://c.example.com/hello/');
  });
});
