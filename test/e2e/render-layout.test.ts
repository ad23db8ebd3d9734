import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { valuesForLanguage } from '../../functions/mail/message';
import { fillEmail, renderEmail } from '../../functions/render/email';
import { parsePost } from '../../functions/render/post';
import { findSiteRoot, loadSite, siteFromConfigText } from '../../functions/render/site';
import type { Post, RenderedEmail } from '../../functions/render/types';
import { contrast, openEmailPage } from './email-page';

/**
 * The rendered email in a real browser (Debian's Chromium) at phone widths: nothing may make the
 * reader scroll sideways, the post's text (Chinese too) must be there, and dark mode must stay
 * readable.
 */
const settings = readSettings({ PUSHLETTER_PUBLIC_URL: 'https://news.example.cn' });
const WIDTHS = [375, 320];

/** The html with the footer's words in, as a reader without a language of their own gets it. */
const asSent = (email: RenderedEmail) => fillEmail(email, valuesForLanguage(email.footerWords, undefined)).html;

let page: Page;

async function renderFixture(path: string): Promise<string> {
  const site = await loadSite(findSiteRoot(path), settings);
  const post = await parsePost({ path, source: await readFile(path), site });
  return asSent(await renderEmail(post, site, settings));
}

/** A post made to break layouts: an unbroken URL, a wide table, a long code line, a huge image. */
async function renderStressPost(): Promise<string> {
  const site = await loadSite(
    findSiteRoot('test/fixtures/blog-zh/_posts/技术/2024-03-08-cluster-upgrade-notes.md'),
    settings,
  );
  const url = `https://example.cn/${'very-long-path-segment-'.repeat(12)}end`;
  const post: Post = {
    id: '2024-04-01-layout-stress',
    sourcePath: '_posts/2024-04-01-layout-stress.md',
    slug: 'layout-stress',
    title: `排版压力测试 ${'超长标题'.repeat(8)}`,
    date: new Date('2024-04-01T00:00:00Z'),
    categories: [],
    tags: [],
    lang: 'zh-CN',
    url: 'https://notes.example.cn/2024/04/01/layout-stress/',
    draft: false,
    bodyHtml: [
      `<p>裸链接：<a href="${url}">${url}</a></p>`,
      `<p>${'没有空格的中文长段落'.repeat(30)}</p>`,
      `<pre><code>${'kubectl get pods --all-namespaces -o jsonpath={.items[*].spec.containers[*].image} '.repeat(4)}</code></pre>`,
      `<table><thead><tr>${Array.from({ length: 9 }, (_, index) => `<th>列标题${index}</th>`).join('')}</tr></thead><tbody><tr>${Array.from({ length: 9 }, (_, index) => `<td>value-${index}-${'x'.repeat(30)}</td>`).join('')}</tr></tbody></table>`,
      '<p><img src="https://notes.example.cn/assets/huge.png" alt="一张很宽的图" width="2400" height="1200"></p>',
      `<p>行内代码 <code>${'a.'.repeat(80)}</code> 结束。</p>`,
    ].join('\n'),
    frontMatter: {},
    warnings: [],
  };
  return asSent(await renderEmail(post, site, settings));
}

let emails: Awaited<ReturnType<typeof openEmailPage>> | undefined;

beforeAll(async () => {
  emails = await openEmailPage();
  page = emails.page;
});

afterAll(async () => {
  await emails?.close();
});

function open(html: string, width: number, colorScheme: 'light' | 'dark' = 'light'): Promise<void> {
  return emails!.show(html, width, colorScheme);
}

/*
 * Code run in the page is passed as source text: the project is type-checked without the DOM
 * library, which would otherwise leak browser globals into Node code.
 */
async function horizontalOverflow(): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate('({ scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth })');
}

/**
 * Elements that stick out of the screen. The layout's `overflow:hidden` card would clip them
 * without making the page scroll, so the page width alone would not tell; content inside a box
 * that scrolls on its own (a wide table) is fine.
 */
async function elementsOutsideTheScreen(): Promise<string[]> {
  return page.evaluate(`(() => {
    const scrollsOnItsOwn = (element) => {
      for (let ancestor = element.parentElement; ancestor; ancestor = ancestor.parentElement) {
        if (/auto|scroll/.test(getComputedStyle(ancestor).overflowX)) return true;
      }
      return false;
    };
    return [...document.body.querySelectorAll('*')]
      .filter((element) => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && (box.right > window.innerWidth + 0.5 || box.left < -0.5) && !scrollsOnItsOwn(element);
      })
      .map((element) => '<' + element.tagName.toLowerCase() + '> ' + (element.textContent || '').slice(0, 40));
  })()`);
}

describe.each(WIDTHS)('the email at %i px wide', (width) => {
  it('shows the Chinese post without sideways scrolling', async () => {
    await open(await renderFixture('test/fixtures/blog-zh/_posts/技术/2024-03-08-cluster-upgrade-notes.md'), width);
    const { scrollWidth, innerWidth } = await horizontalOverflow();
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    expect(await elementsOutsideTheScreen()).toEqual([]);
    const text = await page.evaluate<string>('document.body.innerText');
    expect(text).toContain('集群升级手记：从 1.27 到 1.29');
    expect(text).toContain('为什么要升级');
    expect(text).toContain('控制面最多可以比节点上的 kubelet 新三个小版本');
    expect(text).toContain('退订');
    // The heading is laid out in a real font, not collapsed or hidden.
    const box = await page.getByText('为什么要升级').boundingBox();
    expect(box!.width).toBeGreaterThan(50);
    expect(box!.x + box!.width).toBeLessThanOrEqual(width);
  });

  it('shows the English post with its table and code without sideways scrolling', async () => {
    await open(await renderFixture('test/fixtures/blog-en/_posts/2024-05-20-shipping-helm-charts.md'), width);
    const { scrollWidth, innerWidth } = await horizontalOverflow();
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    expect(await elementsOutsideTheScreen()).toEqual([]);
    const text = await page.evaluate<string>('document.body.innerText');
    expect(text).toContain('Shipping Helm charts without surprises');
    expect(text).toContain('repository: {{ .Values.image.repository }}');
    expect(text).toContain('helm lint');
  });

  it('keeps an unbroken URL, a wide table, a long code line and a huge image inside the screen', async () => {
    await open(await renderStressPost(), width);
    const { scrollWidth, innerWidth } = await horizontalOverflow();
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    expect(await elementsOutsideTheScreen()).toEqual([]);
    // The wide table scrolls inside its own box rather than pushing the page.
    const tableBox = await page.evaluate<{ wrapperRight: number; overflow: string }>(`(() => {
      const table = [...document.querySelectorAll('table')].filter((candidate) => candidate.textContent.includes('列标题0')).pop();
      const wrapper = table.parentElement;
      return { wrapperRight: wrapper.getBoundingClientRect().right, overflow: getComputedStyle(wrapper).overflowX };
    })()`);
    expect(tableBox.overflow).toBe('auto');
    expect(tableBox.wrapperRight).toBeLessThanOrEqual(width);
    const image = await page.getByRole('img', { name: '一张很宽的图' }).boundingBox();
    expect(image!.x + image!.width).toBeLessThanOrEqual(width);
  });
});

/** A post with a table of ordinary words and one too wide for a phone, rendered from Markdown as a blog post is. */
async function renderTablePost(): Promise<string> {
  const site = siteFromConfigText(
    'url: https://blog.example.com\ntitle: Weather notes\nlang: en',
    '_config.yml',
    settings,
  );
  const source = [
    '---',
    'title: A week of readings',
    '---',
    '',
    'Readings from the roof station.',
    '',
    '| Date | Time | Temperature | Observation |',
    '|------|------|-------------|-------------|',
    '| Monday | 22:00 | 18.5°C | Overcast with occasional drizzle |',
    '| Tuesday | 06:30 | 12.0°C | Internationalization conference traffic |',
    '| Wednesday | 13:15 | 24.25°C | 晴朗 Clear skies |',
    '',
    'And the full export, wider than any phone:',
    '',
    `| ${['Station', 'Latitude', 'Longitude', 'Elevation', 'Temperature', 'Humidity', 'Pressure', 'Visibility'].join(' | ')} |`,
    `|${'---|'.repeat(8)}`,
    `| ${['Rooftop', '31.2304', '121.4737', '42m', '22.00°C', '68%', '`1013.25hPa`', '[Unrestricted](https://blog.example.com/visibility/)'].join(' | ')} |`,
    '',
  ].join('\n');
  const post = await parsePost({ path: '_posts/2024-06-03-readings.md', source, site });
  return asSent(await renderEmail(post, site, settings));
}

/**
 * Each word inside a table cell, and how many lines it is laid out on (a Range over the word
 * gives one client rect per line box it occupies). Words are Latin letters, digits and the
 * marks inside numbers and times; Chinese text may wrap between characters, as it does in prose.
 */
async function wordsInCells(): Promise<Array<{ word: string; lines: number }>> {
  return page.evaluate(`(() => {
    const found = [];
    for (const cell of document.querySelectorAll('td, th')) {
      if (!cell.closest('.pl-prose')) continue;
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/[A-Za-z0-9.:%°]+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const tops = new Set([...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
          found.push({ word: match[0], lines: tops.size });
        }
      }
    }
    return found;
  })()`);
}

describe.each(WIDTHS)('a table at %i px wide', (width) => {
  it('wraps cells between words, never inside one, and scrolls a wide table inside its own box', async () => {
    await open(await renderTablePost(), width);
    const words = await wordsInCells();
    // Both tables, every cell: 4 × 4 + 8 × 2 cells' worth of words.
    expect(words.map(({ word }) => word)).toEqual(
      expect.arrayContaining(['Temperature', '22:00', 'Internationalization', '1013.25hPa', 'Unrestricted']),
    );
    expect(words.filter(({ lines }) => lines !== 1)).toEqual([]);
    // The page itself never scrolls sideways; only the wide table's own box does.
    const { scrollWidth, innerWidth } = await horizontalOverflow();
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    expect(await elementsOutsideTheScreen()).toEqual([]);
    const boxes = await page.evaluate<
      Array<{ right: number; overflow: string; scrolls: boolean }>
    >(`[...document.querySelectorAll('.pl-prose table')].map((table) => {
      const box = table.parentElement;
      return { right: box.getBoundingClientRect().right, overflow: getComputedStyle(box).overflowX, scrolls: box.scrollWidth > box.clientWidth };
    })`);
    expect(boxes).toHaveLength(2);
    for (const box of boxes) {
      expect(box.overflow).toBe('auto');
      expect(box.right).toBeLessThanOrEqual(width);
    }
    expect(boxes[1]!.scrolls).toBe(true);
  });
});

describe('dark mode', () => {
  it('switches to light text on a dark card with readable contrast', async () => {
    const html = await renderFixture('test/fixtures/blog-zh/_posts/技术/2024-03-08-cluster-upgrade-notes.md');
    for (const scheme of ['light', 'dark'] as const) {
      await open(html, 375, scheme);
      // The paragraph's colour, and the background of the nearest ancestor that paints one.
      const colors = await page.evaluate<{ text: string; background: string }>(`(() => {
        const paragraph = [...document.querySelectorAll('p')].find((candidate) => candidate.textContent.includes('上游社区'));
        let element = paragraph;
        let background = 'rgba(0, 0, 0, 0)';
        while (element && /rgba\\(0, 0, 0, 0\\)|transparent/.test(background)) {
          background = getComputedStyle(element).backgroundColor;
          element = element.parentElement;
        }
        return { text: getComputedStyle(paragraph).color, background };
      })()`);
      expect(
        contrast(colors.text, colors.background),
        `${scheme}: ${colors.text} on ${colors.background}`,
      ).toBeGreaterThanOrEqual(7);
      const backgroundIsDark = contrast(colors.background, 'rgb(0, 0, 0)') < 3;
      expect(backgroundIsDark).toBe(scheme === 'dark');
    }
  });
});
