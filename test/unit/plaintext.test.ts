import { describe, expect, it } from 'vitest';
import { displayWidth, htmlToText, TEXT_WIDTH } from '../../functions/render/plaintext';

const wordBoundaries = (text: string) => {
  const boundaries = new Set<number>();
  let index = 0;
  for (const { segment } of new Intl.Segmenter('zh', { granularity: 'word' }).segment(text)) {
    boundaries.add(index);
    index += segment.length;
  }
  boundaries.add(index);
  return boundaries;
};

describe('plain-text part from the post HTML', () => {
  it('keeps headings, paragraphs, quotes, lists and tables readable', () => {
    const text = htmlToText(
      '<h2>What we check</h2><p>First paragraph.</p><blockquote><p>Quoted line</p></blockquote>' +
        '<ol start="3"><li>Third</li><li>Fourth<ul><li>nested</li></ul></li></ol>' +
        '<table><thead><tr><th>Check</th><th>Tool</th></tr></thead><tbody><tr><td>Lint</td><td>helm lint</td></tr></tbody></table><hr><p>End</p>',
    );
    expect(text).toBe(
      [
        '## What we check',
        '',
        'First paragraph.',
        '',
        '> Quoted line',
        '',
        '3. Third',
        '4. Fourth',
        '   - nested',
        '',
        'Check | Tool',
        'Lint | helm lint',
        '',
        '------------------------',
        '',
        'End',
      ].join('\n'),
    );
  });

  it('writes links as text (url) and an autolink only once', () => {
    const text = htmlToText(
      '<p>See <a href="https://example.com/docs">the docs</a>, <a href="https://kubernetes.io/releases/">https://kubernetes.io/releases/</a> and <a href="mailto:editor@example.com">editor@example.com</a>.</p>',
    );
    expect(text).toBe(
      'See the docs (https://example.com/docs), https://kubernetes.io/releases/ and\neditor@example.com.',
    );
    expect(text.match(/kubernetes\.io/g)).toHaveLength(1);
  });

  it('keeps a URL apart from the Chinese punctuation after it, so mail clients link the right thing', () => {
    const text = htmlToText(
      '<p>见<a href="https://notes.example.cn/weekly/">上一篇随笔</a>，或 <a href="https://example.cn/a">https://example.cn/a</a>。</p>',
    );
    expect(text).toBe('见上一篇随笔 (https://notes.example.cn/weekly/) ，或 https://example.cn/a 。');
  });

  it('keeps code blocks verbatim, indentation and template braces included', () => {
    const code = 'image:\n  repository: {{ .Values.image.repository }}\n    - name: {{ item }}';
    const text = htmlToText(`<p>Before</p><pre><code>${code.replace(/</g, '&lt;')}\n</code></pre><p>After</p>`);
    expect(text).toBe(`Before\n\n${code}\n\nAfter`);
  });

  it('breaks hard breaks and turns a source line break between Chinese characters into nothing', () => {
    expect(
      htmlToText('<p>第一行<br>第二行</p><blockquote><p>控制面最多可以新三个小版本，\n但不能反过来。</p></blockquote>'),
    ).toBe('第一行\n第二行\n\n> 控制面最多可以新三个小版本，但不能反过来。');
  });

  it('wraps Chinese prose at word boundaries within the width, never before closing punctuation', () => {
    const paragraph =
      '上游社区对旧版本的维护在今年春天结束，继续停留在旧版本意味着拿不到安全补丁。升级之前，我们先在预发环境演练了两遍，确认滚动升级不会中断业务，然后才开始在生产集群上逐个升级控制面节点和工作节点。'.repeat(
        3,
      );
    const lines = htmlToText(`<p>${paragraph}</p>`).split('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('')).toBe(paragraph);
    const boundaries = wordBoundaries(paragraph);
    let offset = 0;
    for (const line of lines) {
      expect(displayWidth(line)).toBeLessThanOrEqual(TEXT_WIDTH);
      expect(line).not.toMatch(/^[，。、]/);
      offset += line.length;
      expect(boundaries.has(offset)).toBe(true);
    }
  });

  it('wraps English at spaces and never splits a URL', () => {
    const url = `https://example.com/${'segment/'.repeat(15)}`;
    const text = htmlToText(`<p>${'word '.repeat(30)}${url} tail</p>`);
    const lines = text.split('\n');
    expect(lines).toContain(url);
    for (const line of lines.filter((value) => value !== url)) expect(line.length).toBeLessThanOrEqual(TEXT_WIDTH);
  });

  it('never writes a line over 998 octets, even for a minified one-line code block', () => {
    const text = htmlToText(`<pre><code>${'中'.repeat(2000)}</code></pre><p>${'x'.repeat(3000)}</p>`);
    for (const line of text.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(998);
    expect(text.replace(/\n/g, '')).toBe('中'.repeat(2000) + 'x'.repeat(3000));
  });

  it('shows image alt text and drops scripts and styles', () => {
    expect(htmlToText('<p><img src="a.png" alt="升级流程示意图"></p><script>alert(1)</script><style>p{}</style>')).toBe(
      '[升级流程示意图]',
    );
  });
});
