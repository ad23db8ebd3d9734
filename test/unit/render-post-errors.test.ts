import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { InvalidInputError } from '../../functions/commons/errors';
import { parsePost } from '../../functions/render/post';
import { findSiteRoot, loadSite, siteFromConfigText } from '../../functions/render/site';

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const settings = readSettings({});
const site = siteFromConfigText('title: Test\nurl: https://blog.example.com\n', '_config.yml', settings);

async function failure(run: () => Promise<unknown>): Promise<InvalidInputError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected the input to be refused');
}

async function parseFixture(path: string) {
  const file = fixture(path);
  return parsePost({ path: file, source: readFileSync(file), site: await loadSite(findSiteRoot(file), settings) });
}

function expectOneLine(error: InvalidInputError, file: string) {
  expect(error.message.startsWith(`${file}: `)).toBe(true);
  expect(error.message).not.toContain('\n');
}

describe('bad posts are refused with one line naming the file, the problem and the fix', () => {
  it('a file without front matter', async () => {
    const file = fixture('bad-posts/_posts/2024-01-01-no-front-matter.md');
    const error = await failure(() => parseFixture('bad-posts/_posts/2024-01-01-no-front-matter.md'));
    expect(error.code).toBe('POST_NO_FRONT_MATTER');
    expectOneLine(error, file);
    expect(error.message).toContain('no front matter');
    expect(error.message).toContain('"---"');
  });

  it('front matter that is not valid YAML, with the line of the problem', async () => {
    const file = fixture('bad-posts/_posts/2024-01-02-malformed-yaml.md');
    const error = await failure(() => parseFixture('bad-posts/_posts/2024-01-02-malformed-yaml.md'));
    expect(error.code).toBe('POST_BAD_FRONT_MATTER');
    expectOneLine(error, file);
    expect(error.message).toMatch(/not valid YAML near line [23] \(Missing closing "quote/);
  });

  it('a file in another encoding, with the line of the first bad byte', async () => {
    const file = fixture('bad-posts/_posts/2024-01-03-latin1-encoding.md');
    const error = await failure(() => parseFixture('bad-posts/_posts/2024-01-03-latin1-encoding.md'));
    expect(error.code).toBe('POST_NOT_UTF8');
    expectOneLine(error, file);
    expect(error.message).toContain('line 2 is not valid UTF-8 (byte 0xE9)');
  });

  it('a binary file named like a post', async () => {
    const error = await failure(() => parseFixture('bad-posts/_posts/2024-01-04-binary-image.md'));
    expect(error.code).toBe('POST_BINARY');
    expect(error.message).toContain('binary file');
  });

  it('front matter with nothing after it', async () => {
    const error = await failure(() => parseFixture('bad-posts/_posts/2024-01-05-empty-body.md'));
    expect(error.code).toBe('POST_EMPTY_BODY');
    expect(error.message).toContain('no text after it');
  });

  it('a post without the date in its file name', async () => {
    const file = fixture('bad-posts/_posts/notes-without-date.md');
    const error = await failure(() => parseFixture('bad-posts/_posts/notes-without-date.md'));
    expect(error.code).toBe('POST_BAD_NAME');
    expectOneLine(error, file);
    expect(error.message).toContain('rename it to YYYY-MM-DD-notes-without-date.md');
  });

  it('a post over 1 MB', async () => {
    const huge = `---\ntitle: Huge\n---\n\n${'A long paragraph of text. '.repeat(45_000)}\n`;
    expect(Buffer.byteLength(huge)).toBeGreaterThan(1024 * 1024);
    for (const source of [Buffer.from(huge), huge]) {
      const error = await failure(() => parsePost({ path: '_posts/2024-02-01-huge.md', source, site }));
      expect(error.code).toBe('POST_TOO_LARGE');
      expect(error.message).toMatch(/^_posts\/2024-02-01-huge\.md: the post is 1\.1 MB, over the 1 MB limit/);
    }
  });

  it('a post saved as UTF-16', async () => {
    const source = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('---\ntitle: x\n---\n\nhello\n', 'utf16le')]);
    const error = await failure(() => parsePost({ path: '_posts/2024-02-01-wide.md', source, site }));
    expect(error.code).toBe('POST_NOT_UTF8');
    expect(error.message).toContain('UTF-16');
  });

  it('front matter that never closes, or is a list instead of settings', async () => {
    const unclosed = await failure(() =>
      parsePost({ path: '_posts/2024-02-01-open.md', source: '---\ntitle: Open\n\nBody text\n', site }),
    );
    expect(unclosed.code).toBe('POST_BAD_FRONT_MATTER');
    expect(unclosed.message).toContain('never ends');

    const list = await failure(() =>
      parsePost({ path: '_posts/2024-02-01-list.md', source: '---\n- one\n- two\n---\n\nBody\n', site }),
    );
    expect(list.code).toBe('POST_BAD_FRONT_MATTER');
    expect(list.message).toContain('"key: value" lines');
  });

  it('a front-matter date that is not a date', async () => {
    const error = await failure(() =>
      parsePost({ path: '_posts/2024-02-01-when.md', source: '---\ndate: next tuesday\n---\n\nBody\n', site }),
    );
    expect(error.code).toBe('POST_BAD_FRONT_MATTER');
    expect(error.message).toContain('"date: next tuesday" is not a date');
  });

  it('a front-matter date past the end of its month', async () => {
    const error = await failure(() =>
      parsePost({ path: '_posts/2024-02-01-leap.md', source: '---\ndate: 2024-02-30\n---\n\nBody\n', site }),
    );
    expect(error.code).toBe('POST_BAD_FRONT_MATTER');
    expect(error.message).toContain('"date: 2024-02-30" is not a date');
  });

  it('a file name with an impossible date', async () => {
    const error = await failure(() =>
      parsePost({ path: '_posts/2024-02-30-leap.md', source: '---\ntitle: x\n---\n\nBody\n', site }),
    );
    expect(error.code).toBe('POST_BAD_NAME');
    expect(error.message).toContain('2024-02-30');
  });
});

describe('a broken _config.yml', () => {
  it('is refused with the file and the YAML line, while the post itself is fine', async () => {
    const post = fixture('bad-posts/broken-site/_posts/2024-01-07-fine-post.md');
    const root = findSiteRoot(post);
    expect(root).toBe(fixture('bad-posts/broken-site'));
    const error = await failure(() => loadSite(root, settings));
    expect(error.code).toBe('SITE_CONFIG_INVALID');
    expectOneLine(error, join(root!, '_config.yml'));
    expect(error.message).toContain('not valid YAML near line 3');
  });

  it('names a bad url, baseurl type or timezone', async () => {
    const cases: Array<[string, string]> = [
      ['url: not a url\n', '"url" is not an absolute URL'],
      ['url: ftp://blog.example.com\n', 'must start with http:// or https://'],
      ['timezone: Mars/Olympus_Mons\n', '"timezone" is not a known IANA time zone'],
      ['baseurl: [a, b]\n', '"baseurl" must be text, not a list'],
      ['- just\n- a list\n', '"key: value" lines'],
    ];
    for (const [text, problem] of cases) {
      const error = await failure(async () => siteFromConfigText(text, 'blog/_config.yml', settings));
      expect(error.code).toBe('SITE_CONFIG_INVALID');
      expect(error.message).toContain('blog/_config.yml: ');
      expect(error.message).toContain(problem);
    }
  });
});

describe('the fine posts next to broken ones', () => {
  it('still render', async () => {
    const post = await parseFixture('bad-posts/_posts/2024-01-06-still-fine.md');
    expect(post.url).toBe('https://bad.example.org/2024/01/06/still-fine.html');
    expect(post.bodyHtml).toContain('This one renders');
  });
});

describe('a site folder without _config.yml', () => {
  const folder = mkdtempSync(join(tmpdir(), 'pushletter-site-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('is still the folder above _posts, with the project settings for url and title', async () => {
    mkdirSync(join(folder, '_posts'));
    const file = join(folder, '_posts', '2024-03-01-plain.md');
    writeFileSync(file, '---\ntitle: Plain\n---\n\nSee [the other post]({% post_url 2024-02-01-other %}).\n');
    writeFileSync(join(folder, '_posts', '2024-02-01-other.md'), '---\ntitle: Other\ncategories: [notes]\n---\n\nHi\n');
    const root = findSiteRoot(file);
    expect(root).toBe(folder);
    const siteFromSettings = await loadSite(
      root,
      readSettings({ PUSHLETTER_SITE_URL: 'https://me.example.net/blog/', PUSHLETTER_SITE_TITLE: 'Mine' }),
    );
    expect(siteFromSettings.title).toBe('Mine');
    const post = await parsePost({ path: file, source: readFileSync(file), site: siteFromSettings });
    expect(post.url).toBe('https://me.example.net/blog/2024/03/01/plain.html');
    expect(post.bodyHtml).toContain(
      '<a href="https://me.example.net/blog/notes/2024/02/01/other.html">the other post</a>',
    );
  });

  it('is not found for a file outside _posts and _drafts', () => {
    expect(findSiteRoot(join(folder, 'README.md'))).toBeUndefined();
  });
});
