import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { DomUtils, parseDocument } from 'htmlparser2';
import { type AddressObject, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../functions/cli/render-command';
import { readSettings } from '../../functions/commons/config';

const settings = readSettings({
  PUSHLETTER_PUBLIC_URL: 'https://news.example.cn',
  PUSHLETTER_FROM_ADDRESS: 'newsletter@notes.example.cn',
  PUSHLETTER_FROM_NAME: '云栈笔记',
  PUSHLETTER_POSTAL_ADDRESS: '88 Century Avenue, Shanghai',
});
const fixtures = 'test/fixtures';
const folders: string[] = [];

function outFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'pushletter-render-'));
  folders.push(folder);
  return folder;
}

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

async function render(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: '', err: '' };
  out.on('data', (chunk) => (chunks.out += chunk));
  err.on('data', (chunk) => (chunks.err += chunk));
  const code = await run(args, { out, err, settings });
  return { code, ...chunks };
}

describe('pushletter render on the example blogs', () => {
  const out = outFolder();
  let result: Awaited<ReturnType<typeof render>>;
  beforeAll(async () => {
    // In CI the progress bar prints lines even though stderr is no terminal.
    const savedCi = process.env.CI;
    process.env.CI = 'true';
    result = await render([`${fixtures}/blog-zh`, `${fixtures}/blog-en`, '--out', out]).finally(() => {
      if (savedCi === undefined) delete process.env.CI;
      else process.env.CI = savedCi;
    });
  });

  it('renders every post of both folders, skips the unpublished ones with the reason, and exits 0', () => {
    expect(result.code).toBe(0);
    for (const slug of [
      'cluster-upgrade-notes',
      'weekly-review',
      'hello-world',
      'shipping-helm-charts',
      'upcoming-release-notes',
    ]) {
      for (const extension of ['html', 'txt', 'eml'])
        expect(existsSync(join(out, `${slug}.${extension}`)), `${slug}.${extension}`).toBe(true);
    }
    expect(existsSync(join(out, 'unfinished.html'))).toBe(false);
    expect(result.out).toContain('5 rendered, 2 skipped, 0 failed');
    expect(result.out).toMatch(/skipped:\n.*2024-02-20-unfinished\.md: published: false/);
    expect(result.out).toMatch(/2024-06-01-members-only-update\.md: newsletter: false/);
    expect(result.out).toMatch(/largest email: shipping-helm-charts \(html \d+\.\d KB\)/);
  });

  it("prints each post's subject, HTML size and warnings, and shows progress for folders", () => {
    expect(result.out).toContain('subject: 集群升级手记：从 1.27 到 1.29');
    expect(result.out).toMatch(/html \d+\.\d KB → .*cluster-upgrade-notes\.\{html,txt,eml\}/);
    expect(result.out).toMatch(/warning: .*newsletter-cta\.html.* \[LIQUID_INCLUDE_MISSING\]/);
    expect(result.err).toMatch(/render: 7\/7 \(100%\)/);
  });

  it('writes an .eml a real parser reads, with every header a real send has', async () => {
    const mail = await simpleParser(readFileSync(join(out, 'cluster-upgrade-notes.eml')));
    expect(mail.from?.value[0]).toEqual({ address: 'newsletter@notes.example.cn', name: '云栈笔记' });
    expect((mail.to as AddressObject).value[0]?.address).toBe('reader@example.com');
    expect(mail.subject).toBe('集群升级手记：从 1.27 到 1.29');
    expect(mail.date).toBeInstanceOf(Date);
    expect(mail.messageId).toMatch(/^<[^@\s]+@notes\.example\.cn>$/);
    expect((mail.headers.get('content-type') as { value: string }).value).toBe('multipart/alternative');
    expect(mail.headers.get('content-language')).toBe('zh-CN');
    const list = mail.headers.get('list') as { unsubscribe: { url: string } };
    expect(list.unsubscribe.url).toBe('https://news.example.cn/unsubscribe?token=preview');
    expect(mail.headerLines.find((header) => header.key === 'list-unsubscribe-post')?.line).toBe(
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    );
    // The parts are the .html and .txt files, which carry the same preview link, never a placeholder.
    const html = readFileSync(join(out, 'cluster-upgrade-notes.html'), 'utf8');
    const text = readFileSync(join(out, 'cluster-upgrade-notes.txt'), 'utf8');
    expect(mail.html).toBe(html);
    expect(mail.text?.trimEnd()).toBe(text.trimEnd());
    for (const part of [html, text]) {
      expect(part).not.toContain('%%');
      expect(part).toContain('https://news.example.cn/unsubscribe?token=preview');
    }
  });

  it('turns the Chinese CRLF post into an email that reads like the blog', () => {
    const html = readFileSync(join(out, 'cluster-upgrade-notes.html'), 'utf8');
    const text = readFileSync(join(out, 'cluster-upgrade-notes.txt'), 'utf8');
    const document = parseDocument(html);
    expect(html).toMatch(/<html lang="zh-CN"/);
    const image = DomUtils.findOne(
      (element) => element.name === 'img' && element.attribs.alt === '升级流程示意图',
      document.children,
    );
    expect(image?.attribs.src).toBe('https://notes.example.cn/assets/images/upgrade-flow.png');
    const quote = DomUtils.findOne((element) => element.name === 'blockquote', document.children);
    expect(DomUtils.textContent(quote!)).toContain('控制面最多可以比节点上的 kubelet 新三个小版本');
    const webLink = DomUtils.findOne(
      (element) => element.name === 'a' && DomUtils.textContent(element) === '在网页上查看',
      document.children,
    );
    expect(decodeURI(webLink!.attribs.href!)).toBe('https://notes.example.cn/技术/2024/03/08/cluster-upgrade-notes/');
    // Two-space line break kept, autolink printed once, quote marked, no Liquid left.
    expect(text).toContain('继续停留在旧版本意味着拿不到安全补丁。\n升级之前，我们先在预发环境演练了两遍。');
    expect(text.match(/kubernetes\.io\/releases\/version-skew-policy/g)).toHaveLength(1);
    expect(text).toContain('> 控制面最多可以比节点上的 kubelet 新三个小版本，但不能反过来。');
    expect(text).not.toMatch(/\{\{ site|\{%/);
    for (const line of text.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(998);
  });

  it("keeps the English post's code, table and post_url link", () => {
    const html = readFileSync(join(out, 'shipping-helm-charts.html'), 'utf8');
    const document = parseDocument(html);
    expect(html).toMatch(/<html lang="en"/);
    expect(DomUtils.textContent(document)).toContain('repository: {{ .Values.image.repository }}');
    const table = DomUtils.findAll(
      (element) => element.name === 'table' && DomUtils.textContent(element).includes('helm lint'),
      document.children,
    ).pop();
    expect((table!.parent as { attribs: Record<string, string> }).attribs.style).toContain('overflow-x:auto');
    const firstPost = DomUtils.findOne(
      (element) => element.name === 'a' && DomUtils.textContent(element) === 'first one',
      document.children,
    );
    expect(firstPost?.attribs.href).toBe('https://ada.example.github.io/notes/meta/2024/04/02/hello-world/');
    expect(html).not.toMatch(/<script|<iframe|<form|onclick/i);
    expect(html).toContain('You receive this email because you subscribed to Field Notes.');
  });
});

describe('pushletter render --strict', () => {
  it('fails on warnings', async () => {
    const result = await render([
      `${fixtures}/blog-en/_posts/2024-05-20-shipping-helm-charts.md`,
      '--out',
      outFolder(),
      '--strict',
    ]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('1 rendered, 0 skipped, 0 failed');
  });

  it('passes a post without warnings', async () => {
    const result = await render([
      `${fixtures}/blog-zh/_posts/随笔/2024-01-15-weekly-review.md`,
      '--out',
      outFolder(),
      '--strict',
    ]);
    expect(result.code).toBe(0);
  });
});

describe('pushletter render on bad input', () => {
  const out = outFolder();
  let result: Awaited<ReturnType<typeof render>>;
  beforeAll(async () => {
    result = await render([`${fixtures}/bad-posts`, 'test/fixtures/no-such-post.md', '--out', out]);
  });

  it('names each bad file and its problem on one line, renders the fine posts, and exits 1', () => {
    expect(result.code).toBe(1);
    const failures = result.out.split('\n').filter((line) => line.startsWith('✗ '));
    const expected: Array<[string, RegExp]> = [
      ['2024-01-01-no-front-matter.md', /no front matter/],
      ['2024-01-02-malformed-yaml.md', /not valid YAML near line 3/],
      ['2024-01-03-latin1-encoding.md', /not valid UTF-8/],
      ['2024-01-04-binary-image.md', /binary file/],
      ['2024-01-05-empty-body.md', /no text after it/],
      ['notes-without-date.md', /not YYYY-MM-DD-slug\.md/],
      ['2024-01-07-fine-post.md', /broken-site\/_config\.yml: not valid YAML/],
      ['no-such-post.md', /no such file or folder/],
    ];
    expect(failures).toHaveLength(expected.length);
    for (const [file, problem] of expected) {
      const line = failures.find((candidate) => candidate.includes(file));
      expect(line, file).toMatch(problem);
    }
    expect(existsSync(join(out, 'still-fine.eml'))).toBe(true);
    expect(result.out).toContain('1 rendered, 0 skipped, 8 failed');
  });
});

describe('pushletter render on a post too long for Gmail', () => {
  it('cuts it, warns, and names it in the summary', async () => {
    const site = outFolder();
    mkdirSync(join(site, '_posts'));
    writeFileSync(join(site, '_config.yml'), 'title: 长文\nurl: https://long.example.cn\n');
    const paragraphs = Array.from(
      { length: 400 },
      (_, index) => `第 ${index} 段：${'集群升级的记录和检查清单。'.repeat(10)}`,
    );
    writeFileSync(
      join(site, '_posts', '2024-05-01-long-read.md'),
      `---\ntitle: 长文\n---\n\n${paragraphs.join('\n\n')}\n`,
    );
    const out = outFolder();
    const result = await render([site, '--out', out]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/html (9\d|100)\.\d KB \(cut to fit Gmail\)/);
    expect(result.out).toContain('[EMAIL_TRUNCATED]');
    expect(result.out).toMatch(
      /cut to stay under Gmail's 102 KB clipping, with a "continue reading" link: long-read\n/,
    );
    expect(Buffer.byteLength(readFileSync(join(out, 'long-read.html')))).toBeLessThanOrEqual(100 * 1024);
    expect((await render([site, '--out', out, '--strict'])).code).toBe(1);
  });
});

describe('the pushletter command', () => {
  it('renders through bin/pushletter.js and exits 1 when one of the posts is bad', async () => {
    const out = outFolder();
    const child = promisify(execFile)(
      process.execPath,
      [
        'bin/pushletter.js',
        'render',
        `${fixtures}/blog-zh/_posts/随笔/2024-01-15-weekly-review.md`,
        `${fixtures}/bad-posts/_posts/2024-01-05-empty-body.md`,
        '--out',
        out,
      ],
      { env: { ...process.env, PUSHLETTER_PUBLIC_URL: 'https://news.example.cn' } },
    );
    const failure = await child.then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toContain('subject: 第三周回顾');
    expect(failure?.stdout).toMatch(/✗ .*2024-01-05-empty-body\.md: the post has front matter but no text/);
    expect(existsSync(join(out, 'weekly-review.eml'))).toBe(true);
  });
});
