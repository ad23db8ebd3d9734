import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { valuesForLanguage } from '../../functions/mail/message';
import { blocksWithin, HTML_SIZE_BUDGET, topLevelBlocks } from '../../functions/render/clip';
import { fillEmail, renderEmail } from '../../functions/render/email';
import {
  type Post,
  PREFERENCES_URL_PLACEHOLDER,
  type RenderedEmail,
  UNSUBSCRIBE_URL_PLACEHOLDER,
} from '../../functions/render/types';
import { enSite, zhSite } from './email-sites';

const settings = readSettings({ PUSHLETTER_POSTAL_ADDRESS: '88 Century Avenue, Shanghai' });

function post(overrides: Partial<Post>): Post {
  return {
    id: '2024-03-08-cluster-upgrade-notes',
    sourcePath: '_posts/2024-03-08-cluster-upgrade-notes.md',
    slug: 'cluster-upgrade-notes',
    title: '集群升级手记：从 1.27 到 1.29',
    description: '一次生产集群滚动升级的过程、踩过的坑和检查清单',
    date: new Date('2024-03-08T13:30:00Z'),
    categories: ['技术'],
    tags: [],
    lang: 'zh-CN',
    url: 'https://notes.example.cn/%E6%8A%80%E6%9C%AF/2024/03/08/cluster-upgrade-notes/',
    draft: false,
    bodyHtml: '<h2>为什么要升级</h2><p>上游社区对 1.27 的维护在今年春天结束。</p>',
    frontMatter: {},
    warnings: [],
    ...overrides,
  };
}

/** The email as a reader of `lang` gets it: the footer's words filled in (no language: the post's). */
function asReadBy(email: RenderedEmail, lang?: string): { html: string; text: string } {
  return fillEmail(email, valuesForLanguage(email.footerWords, lang));
}

const documentOf = (html: string) => parseDocument(html);
const find = (html: string, test: (element: ReturnType<typeof DomUtils.findAll>[number]) => boolean) =>
  DomUtils.findAll(test, documentOf(html).children);

describe('post email', () => {
  it("speaks the post's language: <html lang>, Chinese footer, links to the post and the unsubscribe placeholder", async () => {
    const email = await renderEmail(post({}), zhSite, settings);
    const { html, text } = asReadBy(email);
    expect(email.html).toMatch(/<html lang="zh-CN"/);
    expect(html).toContain('你收到这封邮件，是因为你订阅了「云栈笔记」。');
    expect(email.html).toContain('88 Century Avenue, Shanghai');
    const links = find(html, (element) => element.name === 'a');
    expect(links.find((link) => DomUtils.textContent(link) === '在网页上查看')?.attribs.href).toBe(post({}).url);
    expect(links.find((link) => DomUtils.textContent(link) === '退订')?.attribs.href).toBe(UNSUBSCRIBE_URL_PLACEHOLDER);
    expect(links.find((link) => DomUtils.textContent(link) === '管理订阅')?.attribs.href).toBe(
      PREFERENCES_URL_PLACEHOLDER,
    );
    expect(text).toContain(`退订: ${UNSUBSCRIBE_URL_PLACEHOLDER}`);
    expect(text).toContain(`管理订阅: ${PREFERENCES_URL_PLACEHOLDER}`);
    expect(email.text).toContain(`在网页上查看: ${post({}).url}`);
    expect(email.text).toContain('## 为什么要升级');
    expect(email.subject).toBe('集群升级手记：从 1.27 到 1.29');
    expect(email.lang).toBe('zh-CN');
    expect(email.webUrl).toBe(post({}).url);
    expect(email.truncated).toBe(false);
  });

  it('uses English strings for an English post and a CJK-capable font stack for every post', async () => {
    const email = await renderEmail(
      post({
        lang: 'en',
        title: 'Shipping Helm charts',
        url: 'https://blog.example.com/blog/2024/05/20/shipping-helm-charts.html',
        bodyHtml: '<p>Hello</p>',
      }),
      enSite,
      settings,
    );
    const { html, text } = asReadBy(email);
    expect(email.html).toMatch(/<html lang="en"/);
    expect(html).toContain('You receive this email because you subscribed to Ops Notes.');
    expect(html).toContain('>Unsubscribe</a>');
    expect(html).toContain('>Manage your subscription</a>');
    expect(email.html).toContain('href="https://blog.example.com/blog/"');
    expect(email.html).toMatch(/font-family:[^;"]*PingFang SC[^;"]*Noto Sans CJK SC/);
    expect(text).toContain(`Unsubscribe: ${UNSUBSCRIBE_URL_PLACEHOLDER}`);
    expect(text).toContain(`Manage your subscription: ${PREFERENCES_URL_PLACEHOLDER}`);
  });

  it("words the footer in the reader's language, marked as such, while the post keeps its own", async () => {
    const email = await renderEmail(post({}), zhSite, settings);
    const { html, text } = asReadBy(email, 'en');
    expect(html).toMatch(/<html lang="zh-CN"/);
    expect(html).toContain('上游社区对 1.27 的维护在今年春天结束。');
    const footer = find(html, (element) => element.name === 'div' && element.attribs.lang === 'en');
    expect(footer).toHaveLength(1);
    const footerText = DomUtils.textContent(footer[0]!);
    expect(footerText).toContain('You receive this email because you subscribed to 云栈笔记.');
    expect(footerText).toMatch(/Unsubscribe\s*·\s*Manage your subscription\s*·\s*View on the web/);
    expect(footerText).not.toMatch(/退订|管理订阅/);
    expect(text).toContain(`Manage your subscription: ${PREFERENCES_URL_PLACEHOLDER}`);
    // A reader of a Chinese variant, or of a language the newsletter does not speak.
    expect(asReadBy(email, 'zh-TW').text).toContain(`管理订阅: ${PREFERENCES_URL_PLACEHOLDER}`);
    expect(asReadBy(email, 'fr').text).toContain(`管理订阅: ${PREFERENCES_URL_PLACEHOLDER}`);
  });

  it('declares light and dark colour schemes and has dark-mode styles', async () => {
    const { html } = await renderEmail(post({}), zhSite, settings);
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('<meta name="supported-color-schemes" content="light dark">');
    expect(html).toMatch(/@media \(prefers-color-scheme: dark\)\s*\{[^}]*background-color: #0d1117 !important/);
  });

  it('hides the preheader by size and display, never by colour', async () => {
    const { html } = await renderEmail(post({}), zhSite, settings);
    const [preheader] = find(html, (element) => (element.attribs.class ?? '').includes('pl-preheader'));
    expect(DomUtils.textContent(preheader!)).toBe('一次生产集群滚动升级的过程、踩过的坑和检查清单');
    expect(preheader!.attribs.style).toContain('display:none');
    expect(preheader!.attribs.style).not.toMatch(/color|font-size/);
  });

  it('falls back to the start of the post for the preheader', async () => {
    const { html } = await renderEmail(post({ description: undefined }), zhSite, settings);
    const [preheader] = find(html, (element) => (element.attribs.class ?? '').includes('pl-preheader'));
    expect(DomUtils.textContent(preheader!)).toBe('上游社区对 1.27 的维护在今年春天结束。');
  });

  it("keeps other tools' template braces in code verbatim and keeps wide content inside its box", async () => {
    const bodyHtml =
      '<pre><code class="language-yaml">tag: {{ .Values.image.tag }}\n- {{item}}\n</code></pre>' +
      '<table><thead><tr><th>Check</th><th align="right">Tool</th></tr></thead><tbody><tr><td>Lint</td><td align="right">helm lint</td></tr></tbody></table>' +
      '<p><img src="https://notes.example.cn/assets/a.png" alt="图" width="1600" height="900"></p>';
    const { html, text } = await renderEmail(post({ bodyHtml }), zhSite, settings);
    expect(html).toContain('tag: {{ .Values.image.tag }}\n- {{item}}');
    expect(text).toContain('tag: {{ .Values.image.tag }}\n- {{item}}');
    const table = find(
      html,
      (element) => element.name === 'table' && DomUtils.textContent(element).includes('helm lint'),
    ).pop();
    const wrapper = table!.parent as { name: string; attribs: Record<string, string> };
    expect(wrapper.name).toBe('div');
    expect(wrapper.attribs.style).toContain('overflow-x:auto');
    // GFM column alignment survives as inline CSS.
    const cells = find(html, (element) => element.name === 'td' && element.attribs.class === 'pl-cell');
    expect(cells.map((cell) => /text-align:(\w+)/.exec(cell.attribs.style ?? '')?.[1])).toEqual(['left', 'right']);
    const [image] = find(html, (element) => element.name === 'img' && element.attribs.alt === '图');
    expect(image!.attribs.style).toContain('max-width:100%');
    expect(image!.attribs.height).toBeUndefined();
    const [pre] = find(html, (element) => element.name === 'pre');
    expect(pre!.attribs.style).toContain('white-space:pre-wrap');
  });

  it('shows the front-matter image with the post title as its alt', async () => {
    const { html } = await renderEmail(
      post({ image: 'https://notes.example.cn/assets/images/upgrade-flow.png' }),
      zhSite,
      settings,
    );
    const [image] = find(
      html,
      (element) =>
        element.name === 'img' && element.attribs.src === 'https://notes.example.cn/assets/images/upgrade-flow.png',
    );
    expect(image!.attribs.alt).toBe('集群升级手记：从 1.27 到 1.29');
  });

  it('removes line breaks and control characters from the subject', async () => {
    const email = await renderEmail(
      post({ title: 'Release\r\nBcc: someone@example.com\u0000 notes' }),
      zhSite,
      settings,
    );
    expect(email.subject).toBe('Release Bcc: someone@example.com notes');
  });

  it("carries the post's own warnings", async () => {
    const warning = { code: 'LIQUID_INCLUDE_MISSING', message: 'include signature.html is not available' };
    const email = await renderEmail(post({ warnings: [warning] }), zhSite, settings);
    expect(email.warnings).toContainEqual(warning);
  });
});

describe('a post too long for Gmail', () => {
  const paragraphs = Array.from(
    { length: 400 },
    (_, index) => `<p>第 ${index} 段：${'集群升级的记录和检查清单。'.repeat(12)}段落结束 ${index}。</p>`,
  );
  const long = post({
    bodyHtml: paragraphs
      .map((paragraph, index) => (index % 20 === 0 ? `<h2>第 ${index / 20} 节</h2>` : '') + paragraph)
      .join('\n'),
  });

  it('is cut at a block boundary under the budget, with a link to read on and the footer kept', async () => {
    const email = await renderEmail(long, zhSite, settings);
    expect(email.truncated).toBe(true);
    const size = Buffer.byteLength(email.html);
    expect(size).toBeLessThanOrEqual(HTML_SIZE_BUDGET);
    expect(size).toBeGreaterThan(HTML_SIZE_BUDGET * 0.8);
    const kept = find(email.html, (element) => element.name === 'p' && DomUtils.textContent(element).startsWith('第 '));
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(400);
    // Every kept paragraph is whole: it ends with its own closing words.
    for (const [index, paragraph] of kept.entries())
      expect(DomUtils.textContent(paragraph)).toMatch(new RegExp(`段落结束 ${index}。$`));
    const continueLink = find(
      email.html,
      (element) => element.name === 'a' && DomUtils.textContent(element).includes('在网页上继续阅读'),
    );
    expect(continueLink[0]?.attribs.href).toBe(long.url);
    expect(email.html.indexOf('在网页上继续阅读')).toBeGreaterThan(email.html.lastIndexOf('段落结束'));
    expect(email.html).toContain(UNSUBSCRIBE_URL_PLACEHOLDER);
    expect(email.text).toContain(`在网页上继续阅读: ${long.url}`);
    expect(email.text).toContain(`段落结束 ${kept.length - 1}。`);
    expect(email.text).not.toContain(`段落结束 ${kept.length}。`);
    expect(email.warnings.map((warning) => warning.code)).toContain('EMAIL_TRUNCATED');
  });
});

describe('cutting between top-level blocks', () => {
  it('splits at top-level blocks only, keeping nested markup and the whitespace between blocks', () => {
    const html =
      '<h2>一</h2>\n<p>段落 <strong>加粗</strong></p>\n<ul><li><p>项</p></li></ul>\n<pre><code>a\n\nb</code></pre>';
    const blocks = topLevelBlocks(html);
    expect(blocks.map((block) => block.tag)).toEqual(['h2', 'p', 'ul', 'pre']);
    expect(blocks.map((block) => block.html).join('')).toBe(html);
  });

  it('never ends on a heading whose section was cut', () => {
    const blocks = topLevelBlocks(`<p>${'a'.repeat(100)}</p><h2>Next section</h2><p>${'b'.repeat(100)}</p>`);
    // Room for the first paragraph and the heading, not the paragraph under it.
    expect(blocksWithin(blocks, 150)).toBe(1);
    expect(blocksWithin(blocks, 1000)).toBe(3);
    expect(blocksWithin(blocks, 50)).toBe(0);
  });
});
