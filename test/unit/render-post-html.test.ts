import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { parsePost } from '../../functions/render/post';
import { loadSite, siteFromConfigText } from '../../functions/render/site';

const settings = readSettings({});

async function render(body: string, options: { config?: string; frontMatter?: string; path?: string } = {}) {
  const site = siteFromConfigText(
    options.config ?? 'url: https://blog.example.com\nbaseurl: /b\npermalink: pretty\ntitle: Example',
    '_config.yml',
    settings,
  );
  return parsePost({
    path: options.path ?? '_posts/2024-03-08-a-post.md',
    source: `---\n${options.frontMatter ?? 'title: A post'}\n---\n\n${body}\n`,
    site,
  });
}

const prose = (html: string) => html.replace(/<pre[\s\S]*?<\/pre>/g, '').replace(/<code[\s\S]*?<\/code>/g, '');

describe('links and images in the email point at the blog', () => {
  it('resolves relative links against the post page, root-relative ones under the baseurl', async () => {
    const { bodyHtml } = await render(
      '[up](../other/) [root](/about/) [based](/b/about/) [anchor](#setup) [mail](mailto:a@example.com) [cdn](//cdn.example.net/x.js)',
    );
    expect(bodyHtml).toContain('<a href="https://blog.example.com/b/2024/03/08/other/">up</a>');
    expect(bodyHtml).toContain('<a href="https://blog.example.com/b/about/">root</a>');
    expect(bodyHtml).toContain('<a href="https://blog.example.com/b/about/">based</a>');
    expect(bodyHtml).toContain('<a href="https://blog.example.com/b/2024/03/08/a-post/#setup">anchor</a>');
    expect(bodyHtml).toContain('<a href="mailto:a@example.com">mail</a>');
    expect(bodyHtml).toContain('<a href="https://cdn.example.net/x.js">cdn</a>');
  });

  it('does not double the baseurl when the author also wrote {{ site.baseurl }}', async () => {
    const { bodyHtml } = await render(
      '[x]({{ site.baseurl }}{% link about.md %}) [y]({{ "/feed.xml" | relative_url }}) [z]({{ "/feed.xml" | absolute_url }})',
    );
    expect(bodyHtml).toContain('<a href="https://blog.example.com/b/about/">x</a>');
    expect(bodyHtml).toContain('<a href="https://blog.example.com/b/feed.xml">y</a>');
    expect(bodyHtml).toContain('<a href="https://blog.example.com/b/feed.xml">z</a>');
  });

  it('gives images without a description an empty alt, never the post title, and removes images that cannot load in email', async () => {
    const post = await render(
      '![](img/network-topology.png) ![](/img/IMG_2041.jpg) <img src="/c.png" alt="  "> ![Described](d.png) <img src="data:image/png;base64,AAAA"> <img src="javascript:alert(1)">',
    );
    expect(post.bodyHtml).toContain(
      '<img src="https://blog.example.com/b/2024/03/08/a-post/img/network-topology.png" alt="" style="max-width:100%;height:auto;">',
    );
    expect(post.bodyHtml).toContain(
      '<img src="https://blog.example.com/b/img/IMG_2041.jpg" alt="" style="max-width:100%;height:auto;">',
    );
    expect(post.bodyHtml).toContain(
      '<img src="https://blog.example.com/b/c.png" alt="" style="max-width:100%;height:auto;">',
    );
    expect(post.bodyHtml).toContain(
      '<img src="https://blog.example.com/b/2024/03/08/a-post/d.png" alt="Described" style="max-width:100%;height:auto;">',
    );
    expect(post.bodyHtml).not.toContain('A post');
    expect(post.bodyHtml).not.toContain('data:');
    expect(post.bodyHtml).not.toContain('javascript:');
    expect(post.warnings.map((warning) => warning.code)).toContain('HTML_IMAGE_REMOVED');
  });

  it('keeps an image width but never lets it overflow', async () => {
    const { bodyHtml } = await render(
      '<img src="/wide.png" width="1600" height="900" style="position:fixed" alt="Wide">',
    );
    expect(bodyHtml).toContain(
      '<img src="https://blog.example.com/b/wide.png" alt="Wide" width="1600" style="max-width:100%;height:auto;">',
    );
  });
});

describe('raw HTML from the post is cleaned with an allow-list', () => {
  it('removes event handlers, classes, ids and styles but keeps the text', async () => {
    const { bodyHtml } = await render(
      '<div class="note" id="n" style="color:red" onmouseover="x()">Note <b onclick="y()">bold</b></div>',
    );
    expect(bodyHtml).toBe('<div>Note <b>bold</b></div>');
  });

  it('turns Vimeo and bilibili players into links to the video, in the post language', async () => {
    const english = await render('<iframe src="https://player.vimeo.com/video/76979871"></iframe>');
    expect(english.bodyHtml).toBe('<p><a href="https://vimeo.com/76979871">▶ Watch the video on Vimeo</a></p>');
    const chinese = await render(
      '<iframe src="//player.bilibili.com/player.html?bvid=BV1xx411c7mD&page=1" scrolling="no"></iframe>\n\n这是一段中文。',
      { frontMatter: 'title: 视频' },
    );
    expect(chinese.bodyHtml).toContain(
      '<a href="https://www.bilibili.com/video/BV1xx411c7mD">▶ 在 bilibili 上观看视频</a>',
    );
    const other = await render('<iframe src="https://codepen.io/x/embed/abc"></iframe>');
    expect(other.bodyHtml).toContain(
      '<a href="https://codepen.io/x/embed/abc">Open the embedded content (codepen.io)</a>',
    );
  });

  it('drops svg, object and template content entirely', async () => {
    const { bodyHtml } = await render(
      'Before <svg><script>x()</script><text>svg text</text></svg> <object data="x.swf">fallback</object> <template>hidden</template>after',
    );
    expect(bodyHtml).not.toMatch(/svg|script|x\(\)|fallback|hidden|object/);
    expect(bodyHtml).toContain('Before');
    expect(bodyHtml).toContain('after');
  });

  it('escapes text so that decoded entities cannot become tags', async () => {
    const { bodyHtml } = await render('&lt;script&gt;alert(1)&lt;/script&gt; and `<b>` in code');
    expect(bodyHtml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(bodyHtml).toContain('<code>&lt;b&gt;</code>');
    expect(bodyHtml).not.toContain('<script');
  });
});

describe('Liquid never crashes a post and never shows in prose', () => {
  it('leaves out a broken Liquid tag with a warning', async () => {
    const post = await render('Intro {% if page.title %} unclosed\n\nStill {{ page.title }} here.');
    expect(post.warnings.map((warning) => warning.code)).toContain('LIQUID_ERROR');
    expect(post.bodyHtml).toContain('Intro');
    expect(post.bodyHtml).toContain('Still');
    expect(post.bodyHtml).not.toMatch(/\{%|\{\{|%\}|\}\}/);
  });

  it('keeps the text between an unknown block tag and its end tag', async () => {
    const post = await render('{% callout warning %}\nCheck the **backup** first.\n{% endcallout %}\n\n{% gist 123 %}');
    expect(post.bodyHtml).toContain('Check the <strong>backup</strong> first.');
    expect(
      post.warnings
        .filter((warning) => warning.code === 'LIQUID_UNKNOWN_TAG')
        .map((warning) => warning.message)
        .join(' '),
    ).toMatch(/callout[\s\S]*gist|gist[\s\S]*callout/);
    expect(prose(post.bodyHtml)).not.toMatch(/\{%|%\}/);
  });

  it('runs assign, conditions, loops and Jekyll filters like Jekyll', async () => {
    const { bodyHtml } = await render(
      '{% assign n = 3 %}{% for i in (1..n) %}{{ i }}{% endfor %} {{ page.date | date: "%Y" }} {{ "Hello World" | slugify }} {% if page.tags contains "x" %}tagged{% endif %}',
      {
        frontMatter: 'title: x\ntags: [x]',
      },
    );
    expect(bodyHtml).toContain('123 2024 hello-world tagged');
  });

  it('prints dates in the site timezone, whatever the machine runs in', async () => {
    const config = 'url: https://blog.example.com\ntimezone: Asia/Shanghai';
    const { bodyHtml } = await render(
      'Posted {{ page.date | date: "%Y-%m-%d %H:%M" }} ({{ page.date | date_to_string }}).',
      { config, frontMatter: 'title: x\ndate: 2024-03-08 18:30:00 +0000' },
    );
    expect(bodyHtml).toContain('Posted 2024-03-09 02:30 (09 Mar 2024).');
  });

  it('fills {{ site.url }} in a code block but leaves unknown variables there as written', async () => {
    const { bodyHtml } = await render('```sh\ncurl {{ site.url }}/feed.xml\necho {{ env.HOME }}\n```');
    expect(bodyHtml).toContain('curl https://blog.example.com/feed.xml\necho {{ env.HOME }}');
  });

  it('keeps a fenced block inside a list item verbatim', async () => {
    const { bodyHtml } = await render('1. Template:\n\n   ```yaml\n   name: {{ .Release.Name }}\n   ```\n2. Done');
    expect(bodyHtml).toContain('name: {{ .Release.Name }}');
  });

  it('keeps Go code indented with tabs, also inside a list item, verbatim', async () => {
    const { bodyHtml } = await render(
      '```go\nfunc main() {\n\tfmt.Println("{{ .Name }}")\n}\n```\n\n- item\n\n\t```\n\t{{ nested.value }}\n\t```\n\n> ```\n> {{ quoted }}\n> ```',
    );
    expect(bodyHtml).toContain('\tfmt.Println("{{ .Name }}")');
    expect(bodyHtml).toContain('<code>{{ nested.value }}\n</code>');
    expect(bodyHtml).toContain('<code>{{ quoted }}\n</code>');
  });

  it('links plugin tags such as gist and youtube to what they would show', async () => {
    const post = await render(
      '{% gist octocat/6cad326836d38bd3a7ae %}\n\n{% youtube dQw4w9WgXcQ %}\n\n{% tweet https://x.com/a/status/1 %}',
    );
    expect(post.bodyHtml).toContain(
      '<a href="https://gist.github.com/octocat/6cad326836d38bd3a7ae">View the code on GitHub Gist</a>',
    );
    expect(post.bodyHtml).toContain(
      '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">▶ Watch the video on YouTube</a>',
    );
    expect(post.bodyHtml).toContain('<a href="https://x.com/a/status/1">https://x.com/a/status/1</a>');
    expect(post.warnings).toHaveLength(3);
    expect(
      post.warnings.every(
        (warning) => warning.code === 'LIQUID_UNKNOWN_TAG' && warning.message.includes('the email links to'),
      ),
    ).toBe(true);
  });

  it('warns about an unknown tag every time a post uses it, not only the first time', async () => {
    for (let run = 0; run < 2; run += 1) {
      const post = await render('Before {% callout %} after');
      expect(post.warnings.map((warning) => warning.code)).toEqual(['LIQUID_UNKNOWN_TAG']);
      expect(post.bodyHtml).toBe('<p>Before  after</p>');
    }
  });

  it('keeps {% raw %} prose as the author wrote it', async () => {
    const { bodyHtml } = await render('Write {% raw %}`{{ page.title }}`{% endraw %} in a layout.');
    expect(bodyHtml).toContain('<code>{{ page.title }}</code>');
  });
});

describe('kramdown-only syntax does not show as junk', () => {
  it('removes attribute lists, header ids, the TOC marker and comments', async () => {
    const { bodyHtml } = await render(
      '* TOC\n{:toc}\n\n## Setup {#setup}\n\nText with a [link](/x){:target="_blank"}.\n{: .lead}\n\n{::comment}\nhidden note\n{:/comment}\n\n```\n{: .kept-in-code}\n```',
    );
    expect(bodyHtml).toContain('<h2>Setup</h2>');
    expect(bodyHtml).toContain('<p>Text with a <a href="https://blog.example.com/b/x">link</a>.</p>');
    expect(prose(bodyHtml)).not.toMatch(/\{:|\{#|TOC|hidden note/);
    expect(bodyHtml).toContain('{: .kept-in-code}');
  });

  it('numbers footnotes and lists them at the end, and drops abbreviation definitions', async () => {
    const { bodyHtml } = await render(
      'Kubernetes[^k8s] uses etcd[^etcd] and HTML.\n\n[^etcd]: A key-value store.\n[^k8s]: Also called **K8s**,\n    after its eight letters.\n\n*[HTML]: HyperText Markup Language',
    );
    expect(bodyHtml).toContain('Kubernetes<sup>1</sup> uses etcd<sup>2</sup> and HTML.');
    expect(bodyHtml).toMatch(
      /<ol>\s*<li>Also called <strong>K8s<\/strong>, after its eight letters.<\/li>\s*<li>A key-value store.<\/li>\s*<\/ol>/,
    );
    expect(bodyHtml).not.toMatch(/\[\^|\*\[HTML\]/);
  });

  it('keeps footnote syntax inside code verbatim in a post without any "{"', async () => {
    const { bodyHtml } = await render('Some prose.\n\n```\nx[^1]\n\n[^1]: a note\n```');
    expect(bodyHtml).toContain('x[^1]\n\n[^1]: a note');
    expect(bodyHtml).not.toContain('<sup>');
  });

  it('honours kramdown hard_wrap: true from _config.yml', async () => {
    const config = 'url: https://blog.example.com\nkramdown:\n  hard_wrap: true';
    expect((await render('one\ntwo', { config })).bodyHtml).toContain('one<br>two');
    expect((await render('one\ntwo')).bodyHtml).toContain('one\ntwo');
  });
});

describe('the language of the email', () => {
  const noLang = 'url: https://blog.example.com';

  it('is detected from the text when neither post nor site says', async () => {
    expect((await render('这是一篇关于 Kubernetes 升级的文章，记录了我们遇到的问题。', { config: noLang })).lang).toBe(
      'zh-CN',
    );
    expect((await render('An English post that mentions 北京 once.', { config: noLang })).lang).toBe('en');
  });

  it('comes from the post, else the site', async () => {
    expect((await render('English text.', { config: `${noLang}\nlang: zh_CN` })).lang).toBe('zh-CN');
    expect(
      (await render('English text.', { config: `${noLang}\nlang: zh-CN`, frontMatter: 'title: x\nlang: en-us' })).lang,
    ).toBe('en-US');
  });
});

describe('includes from the site folder', () => {
  const folder = mkdtempSync(join(tmpdir(), 'pushletter-include-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('runs {% include %} with parameters and {% include_relative %}, and refuses paths outside the site', async () => {
    mkdirSync(join(folder, '_includes'));
    mkdirSync(join(folder, '_posts'));
    writeFileSync(join(folder, '_config.yml'), 'url: https://inc.example.com\ntitle: Inc\n');
    writeFileSync(
      join(folder, '_includes', 'note.html'),
      '<p>Note for {{ include.who }} on {{ site.title }}: {{ include.text }}</p>',
    );
    writeFileSync(join(folder, '_posts', 'snippet.md'), 'A *relative* snippet.');
    const file = join(folder, '_posts', '2024-03-08-inc.md');
    const source =
      '---\ntitle: Inc\n---\n\n{% assign person = "readers" %}{% include note.html who=person text="hello" %}\n\n{% include_relative snippet.md %}\n\n{% include ../../etc/passwd %}\n';
    const site = await loadSite(folder, settings);
    const post = await parsePost({ path: file, source, site });
    expect(post.bodyHtml).toContain('<p>Note for readers on Inc: hello</p>');
    expect(post.bodyHtml).toContain('A <em>relative</em> snippet.');
    expect(post.warnings.map((warning) => warning.message).join('\n')).toContain('{% include ../../etc/passwd %}');
    expect(post.bodyHtml).not.toContain('root:');
  });
});
