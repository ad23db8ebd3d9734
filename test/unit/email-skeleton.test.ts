import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { renderEmail, renderEmailDirectly, renderEmailWithSource } from '../../functions/render/email';
import { parsePost } from '../../functions/render/post';
import { findSiteRoot, loadSite } from '../../functions/render/site';
import type { Post, SiteConfig } from '../../functions/render/types';
import { enSite, zhSite } from './email-sites';

/** Counts mjml compiles, passing every call through to the real mjml. */
const mjmlCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock('mjml', async (importOriginal) => {
  const original = (await importOriginal()) as { default: (...args: unknown[]) => unknown };
  const counted = (...args: unknown[]) => {
    mjmlCalls.count++;
    return original.default(...args);
  };
  return { ...original, default: counted };
});

const settings = readSettings({ PUSHLETTER_POSTAL_ADDRESS: '88 Century Avenue, Shanghai' });
const projectPath = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

function markdownFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const FIXTURE_POSTS = ['test/fixtures/blog-zh', 'test/fixtures/blog-en', 'examples/blog'].flatMap((blog) =>
  ['_posts', '_drafts'].flatMap((folder) => {
    try {
      return markdownFiles(projectPath(`${blog}/${folder}`));
    } catch {
      return [];
    }
  }),
);

async function fixturePost(path: string): Promise<{ post: Post; site: SiteConfig }> {
  const site = await loadSite(findSiteRoot(path), settings);
  const post = await parsePost({ path, source: readFileSync(path), site, now: new Date('2024-07-01T00:00:00Z') });
  return { post, site };
}

/** The cached-skeleton email and the full mjml compile of the same post must be the same bytes. */
async function expectSameAsFullCompile(post: Post, site: SiteConfig) {
  const direct = await renderEmailDirectly(post, site, settings);
  const cached = await renderEmail(post, site, settings);
  const withSource = await renderEmailWithSource(post, site, settings);
  expect(cached.html).toBe(direct.email.html);
  expect(cached).toEqual(direct.email);
  expect(withSource.email).toEqual(direct.email);
  expect(withSource.mjml).toBe(direct.mjml);
  return cached;
}

function post(overrides: Partial<Post>): Post {
  return {
    id: '2024-05-20-shipping-helm-charts',
    sourcePath: '_posts/2024-05-20-shipping-helm-charts.md',
    slug: 'shipping-helm-charts',
    title: 'Shipping Helm charts',
    description: 'How the release pipeline ships charts',
    date: new Date('2024-05-20T08:00:00Z'),
    categories: [],
    tags: [],
    lang: 'en',
    url: 'https://blog.example.com/blog/2024/05/20/shipping-helm-charts.html',
    draft: false,
    bodyHtml: '<h2>Why</h2><p>Charts are released from one pipeline.</p>\n',
    frontMatter: {},
    warnings: [],
    ...overrides,
  };
}

/** A post long enough to be cut before Gmail's clipping size. */
function longBody(chinese: boolean): string {
  return Array.from({ length: 700 }, (_, index) =>
    chinese
      ? `<h3>第 ${index} 节</h3><p>集群滚动升级的过程记录：先排空节点，再升级控制面，最后检查每个工作负载。<a href="https://notes.example.cn/a?b=${index}&amp;c=d">链接</a></p>`
      : `<h3>Part ${index}</h3><p>Notes on draining nodes, upgrading the control plane and checking every workload. <a href="https://blog.example.com/a?b=${index}&amp;c=d">link</a></p>`,
  ).join('\n');
}

describe('post email from a cached skeleton', () => {
  it('has fixture posts to compare', () => {
    expect(FIXTURE_POSTS.length).toBeGreaterThanOrEqual(7);
  });

  it.each(FIXTURE_POSTS.map((path) => [relative(projectPath(''), path), path]))(
    'is byte-identical to a full mjml compile for %s',
    async (_name, path) => {
      const { post, site } = await fixturePost(path);
      await expectSameAsFullCompile(post, site);
    },
  );

  it('is byte-identical for posts with a front-matter image, in Chinese and English', async () => {
    const zh = await expectSameAsFullCompile(
      post({
        lang: 'zh-CN',
        title: '集群升级手记',
        image: 'https://notes.example.cn/assets/images/upgrade-flow.png',
        url: 'https://notes.example.cn/2024/03/08/cluster-upgrade-notes/',
      }),
      zhSite,
    );
    expect(zh.html).toContain('src="https://notes.example.cn/assets/images/upgrade-flow.png"');
    expect(zh.html).toMatch(/<html lang="zh-CN"/);
    const en = await expectSameAsFullCompile(
      post({ image: 'https://blog.example.com/blog/assets/release-pipeline.png?size=large&v=2' }),
      enSite,
    );
    expect(en.html).toContain('src="https://blog.example.com/blog/assets/release-pipeline.png?size=large&amp;v=2"');
  });

  it('is byte-identical for long posts cut before Gmail clips them, in Chinese and English, with and without an image', async () => {
    const zhCut = await expectSameAsFullCompile(post({ lang: 'zh-CN', bodyHtml: longBody(true) }), zhSite);
    expect(zhCut.truncated).toBe(true);
    expect(zhCut.html).toContain('在网页上继续阅读');
    const enCut = await expectSameAsFullCompile(
      post({ bodyHtml: longBody(false), image: 'https://blog.example.com/blog/cover.png' }),
      enSite,
    );
    expect(enCut.truncated).toBe(true);
    expect(enCut.html).toContain('Continue reading on the web');
  });

  it("escapes &, <, quotes and marker-like text in the post's values exactly as before", async () => {
    const tricky = 'Tom & Jerry <b>"quoted"</b> \'single\' PUSHLETTERSLOT_body_ PUSHLETTERSLOT_title_';
    const escaped =
      'Tom &amp; Jerry &lt;b&gt;&quot;quoted&quot;&lt;/b&gt; &#39;single&#39; PUSHLETTERSLOT_body_ PUSHLETTERSLOT_title_';
    const trickySite: SiteConfig = { ...enSite, title: 'Ops & <Notes> PUSHLETTERSLOT_webUrl_' };
    const email = await expectSameAsFullCompile(
      post({
        title: tricky,
        description: `Preheader ${tricky}`,
        url: 'https://blog.example.com/blog/post.html?a=1&b="2"',
        image: 'https://blog.example.com/blog/cover.png?a=1&b=2',
        bodyHtml: '<p>Body text with PUSHLETTERSLOT_preheader_ and &amp; &lt;tags&gt; &quot;kept&quot;</p>',
      }),
      trickySite,
    );
    expect(email.html).toContain(`<title>${escaped}</title>`);
    expect(email.html).toContain(`>${escaped}</h1>`);
    expect(email.html).toContain(`alt="${escaped}"`);
    expect(email.html).toContain(`Preheader ${escaped}</div>`);
    expect(email.html).toContain('href="https://blog.example.com/blog/post.html?a=1&amp;b=&quot;2&quot;"');
    expect(email.html).toContain('Ops &amp; &lt;Notes&gt; PUSHLETTERSLOT_webUrl_</a>');
    expect(email.html).toContain(
      '<p style="margin:0 0 16px;">Body text with PUSHLETTERSLOT_preheader_ and &amp; &lt;tags&gt; "kept"</p>',
    );
    expect(email.html).toContain(`aria-label="${escaped}"`);
    // The values are put back as text, never read again as markers: the title's two lookalikes in
    // <title>, aria-label, <h1> and alt, the preheader's two, the site title's in the header and
    // footer, the body's one.
    expect(email.html.match(/PUSHLETTERSLOT_/g)).toHaveLength(2 * 4 + 2 + 2 + 1);
  });

  it("gives the full compile's output for values mjml does not pass through verbatim", async () => {
    // mjml trims a title that is the whole content of <mj-title>, reads "true" as a boolean
    // attribute, and rewrites conditional comments and its own tags inside a body.
    await expectSameAsFullCompile(post({ title: '  Spaced title  ' }), enSite);
    await expectSameAsFullCompile(post({ title: 'true', image: 'https://blog.example.com/blog/cover.png' }), enSite);
    await expectSameAsFullCompile(
      post({ bodyHtml: '<p>before</p><!--[if mso]>\n\n  <p>outlook</p>\n\n<![endif]--><p>after</p>' }),
      enSite,
    );
    await expectSameAsFullCompile(post({ bodyHtml: '<p>text</p><mj-raw>raw</mj-raw>' }), enSite);
    await expectSameAsFullCompile(post({ bodyHtml: '\n\n  <p>Body with spaces around it</p>  \n\n' }), enSite);
  });

  it('compiles each shape once: a second post of the same language and blocks needs no mjml compile', async () => {
    const first = post({ lang: 'de', title: 'Erster Beitrag' });
    const second = post({
      lang: 'de',
      title: 'Zweiter Beitrag',
      bodyHtml: '<p>Anderer Text</p>',
      url: 'https://blog.example.com/blog/zweiter.html',
    });
    await renderEmail(first, enSite, settings);
    const before = mjmlCalls.count;
    const email = await renderEmail(second, enSite, settings);
    expect(mjmlCalls.count).toBe(before);
    expect(email.html).toContain('Zweiter Beitrag</h1>');
    expect(email.html).toContain('href="https://blog.example.com/blog/zweiter.html"');
    const direct = await renderEmailDirectly(second, enSite, settings);
    expect(mjmlCalls.count).toBe(before + 1);
    expect(email.html).toBe(direct.email.html);
  });
});
