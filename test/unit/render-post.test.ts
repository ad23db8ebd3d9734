import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { parsePost } from '../../functions/render/post';
import { findSiteRoot, loadSite, siteFromConfigText } from '../../functions/render/site';

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const settings = readSettings({});

async function render(path: string, now?: Date) {
  const file = fixture(path);
  const site = await loadSite(findSiteRoot(file), settings);
  return parsePost({ path: file, source: readFileSync(file), site, now });
}

/** What a reader sees as prose: the HTML without code blocks and code spans. */
function prose(html: string): string {
  return html.replace(/<pre[\s\S]*?<\/pre>/g, '').replace(/<code[\s\S]*?<\/code>/g, '');
}

describe('a Chinese post saved with a BOM and CRLF line endings', () => {
  const path = 'blog-zh/_posts/技术/2024-03-08-cluster-upgrade-notes.md';

  it('has the URL Jekyll gives it: category, date in the site timezone, slug', async () => {
    const post = await render(path);
    expect(post.url).toBe('https://notes.example.cn/%E6%8A%80%E6%9C%AF/2024/03/08/cluster-upgrade-notes/');
    expect(post.id).toBe('2024-03-08-cluster-upgrade-notes');
    // "2024-03-08 21:30:00" without an offset is Shanghai time.
    expect(post.date.toISOString()).toBe('2024-03-08T13:30:00.000Z');
    expect(post.categories).toEqual(['技术']);
    expect(post.tags).toEqual(['Kubernetes', '运维']);
  });

  it('reads title, description and language from the front matter and site', async () => {
    const post = await render(path);
    expect(post.title).toBe('集群升级手记：从 1.27 到 1.29');
    expect(post.description).toBe('一次生产集群滚动升级的过程、踩过的坑和检查清单');
    expect(post.lang).toBe('zh-CN');
    expect(post.image).toBe('https://notes.example.cn/assets/images/upgrade-flow.png');
    expect(post.skipReason).toBeUndefined();
    expect(post.warnings).toEqual([]);
  });

  it('keeps two-space hard breaks, autolinks, strikethrough and the blockquote', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).not.toContain('\r');
    expect(bodyHtml).toContain('拿不到安全补丁。<br>升级之前');
    expect(bodyHtml).toContain(
      '<a href="https://kubernetes.io/releases/version-skew-policy/">https://kubernetes.io/releases/version-skew-policy/</a>',
    );
    expect(bodyHtml).toContain('<del>手动重启 kube-proxy</del>');
    // The soft line break inside the quote would show as a stray space between Chinese characters.
    expect(bodyHtml).toMatch(
      /<blockquote>\s*<p>控制面最多可以比节点上的 kubelet 新三个小版本，但不能反过来。<\/p>\s*<\/blockquote>/,
    );
  });

  it('turns the image written relative to the post file into an absolute URL with its alt', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain(
      '<img src="https://notes.example.cn/assets/images/upgrade-flow.png" alt="升级流程示意图" style="max-width:100%;height:auto;">',
    );
  });

  it('makes a root-relative link with Chinese path absolute and percent-encoded', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain(
      '<a href="https://notes.example.cn/%E9%9A%8F%E7%AC%94/2024/01/15/weekly-review/">上一篇随笔</a>',
    );
  });

  it('fills site variables in prose and leaves the go-template in the code block as written', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain('也可以访问站点 云栈笔记 的首页');
    expect(bodyHtml).toContain('作者 林夕 记于上海');
    expect(bodyHtml).toContain(`kubectl get pods -o go-template='{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}'`);
    expect(prose(bodyHtml)).not.toMatch(/\{\{|\{%/);
  });
});

describe('an English post full of Liquid, code from other template languages and raw HTML', () => {
  const path = 'blog-en/_posts/2024-05-20-shipping-helm-charts.md';

  it('has its URL under the site baseurl with the pretty permalink', async () => {
    const post = await render(path);
    expect(post.url).toBe('https://ada.example.github.io/notes/devops/kubernetes/2024/05/20/shipping-helm-charts/');
    expect(post.date.toISOString()).toBe('2024-05-20T13:15:00.000Z');
    expect(post.categories).toEqual(['devops', 'kubernetes']);
    expect(post.lang).toBe('en');
    // jekyll-seo-tag reads a relative front-matter image from the site root.
    expect(post.image).toBe('https://ada.example.github.io/notes/assets/release-pipeline.png');
  });

  it('links {% post_url %}, {% link %} and a link to the post file to the other post', async () => {
    const { bodyHtml } = await render(path);
    const hello = 'https://ada.example.github.io/notes/meta/2024/04/02/hello-world/';
    expect(bodyHtml).toContain(`the <a href="${hello}">first one</a>`);
    expect(bodyHtml).toContain(`<a href="${hello}">relative link to the hello post</a>`);
    expect(bodyHtml).toContain(`<a href="${hello}">same page</a>`);
  });

  it('renders {% highlight %} blocks as code with their language and keeps Helm templates verbatim', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain(
      '<pre><code class="language-yaml">image:\n  repository: {{ .Values.image.repository }}\n  tag: {{ .Values.image.tag | default .Chart.AppVersion }}\n</code></pre>',
    );
    expect(bodyHtml).toContain(
      '<pre><code class="language-ruby">def greet(name)\n  puts "hello #{name}"\nend\n</code></pre>',
    );
    expect(bodyHtml).not.toContain('linenos');
  });

  it('keeps Go, Argo and inline template syntax in code exactly as written', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain(
      '{{- range $name, $port := .Values.ports }}\n- name: {{ $name }}\n  port: {{ $port }}\n{{- end }}',
    );
    expect(bodyHtml).toContain('parameters: [{name: message, value: "{{item}}"}]');
    expect(bodyHtml).toContain('<code>{{ .Release.Name }}</code>');
    // Inside {% raw %} the author shows Liquid itself: it must not be filled in.
    expect(bodyHtml).toContain('&lt;h1&gt;{{ page.title }}&lt;/h1&gt;');
  });

  it('fills site and page variables and runs an include that exists', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain('This is the second post on Field Notes;');
    expect(bodyHtml).toContain('You are reading "Shipping Helm charts without surprises"');
    expect(bodyHtml).toContain('Thanks for reading Field Notes. Reply to this email to reach Ada Example.');
  });

  it('leaves no Liquid or kramdown markup in the prose and warns about what it left out', async () => {
    const post = await render(path);
    const text = prose(post.bodyHtml);
    expect(text).not.toMatch(/\{\{|\{%|\{:|%\}/);
    expect(text).not.toContain('TOC');
    const codes = post.warnings.map((warning) => warning.code);
    expect(codes).toContain('LIQUID_UNKNOWN_TAG');
    expect(codes).toContain('LIQUID_INCLUDE_MISSING');
    expect(post.warnings.find((warning) => warning.code === 'LIQUID_UNKNOWN_TAG')?.message).toContain('{% twitter');
    // The tweet the plugin would embed is still one click away.
    expect(post.bodyHtml).toContain(
      '<a href="https://twitter.com/adaexample/status/1">https://twitter.com/adaexample/status/1</a>',
    );
    expect(post.warnings.find((warning) => warning.code === 'LIQUID_INCLUDE_MISSING')?.message).toContain(
      'newsletter-cta.html',
    );
  });

  it('renders the GFM table with its column alignment', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain('<th align="center">Tool</th>');
    expect(bodyHtml).toContain('<td align="center"><code>helm lint</code></td>');
    expect(bodyHtml).toContain('<td><del>Manual review</del></td>');
  });

  it('makes the root-relative image absolute under the baseurl, with an empty alt as it has no description', async () => {
    const { bodyHtml } = await render(path);
    expect(bodyHtml).toContain(
      '<img src="https://ada.example.github.io/notes/assets/release-pipeline.png" alt="" style="max-width:100%;height:auto;">',
    );
  });

  it('replaces the YouTube iframe with a link and drops scripts, styles, forms, handlers and javascript: links', async () => {
    const post = await render(path);
    expect(post.bodyHtml).toContain(
      '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">▶ Watch the video on YouTube: Demo</a>',
    );
    expect(post.bodyHtml).toContain('<p>Clicking this paragraph does nothing in email.</p>');
    expect(post.bodyHtml).toContain('a sneaky link');
    for (const forbidden of [
      '<iframe',
      '<script',
      'alert(',
      '<style',
      'display: none',
      '<form',
      '<input',
      '<button',
      'onclick',
      'javascript:',
    ]) {
      expect(post.bodyHtml).not.toContain(forbidden);
    }
  });
});

describe('the other posts of the fixture sites', () => {
  it('titles a post without a title from its slug, as Jekyll does', async () => {
    const post = await render('blog-en/_posts/2024-04-02-hello-world.md');
    expect(post.title).toBe('Hello World');
    // Midnight of the file name's date in the site's zone (America/New_York).
    expect(post.date.toISOString()).toBe('2024-04-02T04:00:00.000Z');
  });

  it('marks newsletter: false and published: false posts as skipped but still parses them', async () => {
    const membersOnly = await render('blog-en/_posts/2024-06-01-members-only-update.md');
    expect(membersOnly.skipReason).toContain('newsletter: false');
    expect(membersOnly.bodyHtml).toContain('This post stays on the blog');

    const unfinished = await render('blog-zh/_posts/随笔/2024-02-20-unfinished.md');
    expect(unfinished.skipReason).toContain('published: false');
  });

  it('gives a draft a draft- id that does not depend on the day it is previewed', async () => {
    const monday = await render('blog-en/_drafts/upcoming-release-notes.md', new Date('2024-07-01T12:00:00Z'));
    const friday = await render('blog-en/_drafts/upcoming-release-notes.md', new Date('2024-07-05T12:00:00Z'));
    expect(monday.id).toBe('draft-upcoming-release-notes');
    expect(friday.id).toBe(monday.id);
    expect(monday.draft).toBe(true);
    expect(monday.url).toBe('https://ada.example.github.io/notes/2024/07/01/upcoming-release-notes/');
  });
});

describe('a post rendered from the webhook, with _config.yml text and no site folder', () => {
  it('renders, guesses the post_url target from its name and says so', async () => {
    const config = readFileSync(fixture('blog-en/_config.yml'), 'utf8');
    const site = siteFromConfigText(config, 'octocat/blog:_config.yml', settings);
    const source = readFileSync(fixture('blog-en/_posts/2024-05-20-shipping-helm-charts.md'));
    const post = await parsePost({ path: '_posts/2024-05-20-shipping-helm-charts.md', source, site });
    expect(post.url).toBe('https://ada.example.github.io/notes/devops/kubernetes/2024/05/20/shipping-helm-charts/');
    // Without the other post's file its category is unknown; the link keeps what the name tells.
    expect(post.bodyHtml).toContain(
      '<a href="https://ada.example.github.io/notes/2024/04/02/hello-world/">first one</a>',
    );
    const codes = post.warnings.map((warning) => warning.code);
    expect(codes).toContain('POST_URL_GUESSED');
    expect(
      post.warnings
        .filter((warning) => warning.code === 'LIQUID_INCLUDE_MISSING')
        .map((warning) => warning.message)
        .join('\n'),
    ).toContain('signature.html');
    expect(prose(post.bodyHtml)).not.toMatch(/\{\{|\{%/);
  });
});
