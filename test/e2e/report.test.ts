import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../functions/stats/report';
import type { StatsSnapshot } from '../../functions/stats/snapshot';
import { emptySnapshot, sampleSnapshot } from '../stats-snapshots';
import { launchChromium } from './chromium';

/**
 * `pushletter report` in a real browser, as an editor opens the file: on a phone (375 px) and a
 * desktop (1280 px), light and dark. Nothing may make the page scroll sideways, nothing may be
 * requested from anywhere, and every word, the charts' included, must stand out from what is
 * behind it. Screenshots are kept under test-artifacts/report/ (ignored by git).
 */
const ARTIFACTS = 'test-artifacts/report';
const VIEWS = [
  { width: 375, colorScheme: 'light' },
  { width: 375, colorScheme: 'dark' },
  { width: 1280, colorScheme: 'light' },
  { width: 1280, colorScheme: 'dark' },
] as const;

let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;
/** Every request the page tried to make, and every complaint it logged. */
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  // Nothing leaves the page: a request is recorded above and refused here.
  await page.route('**/*', (route) => route.abort());
});

afterAll(async () => {
  await chromium?.close();
});

interface TextContrast {
  text: string;
  ratio: number;
  large: boolean;
  /** Words of a chart (SVG). */
  chart: boolean;
}

/**
 * The contrast of every piece of visible text with the colour behind it (WCAG's formula): HTML
 * text against its nearest opaque background, chart text (SVG fill) against the card the chart
 * sits on.
 */
async function contrasts(page: Page): Promise<TextContrast[]> {
  // A string: the project type-checks without the DOM's types.
  return page.evaluate<TextContrast[]>(`(() => {
    const rgb = (value) => {
      if (value.startsWith('#')) return [1, 3, 5].map((at) => Number.parseInt(value.slice(at, at + 2), 16)).concat(1);
      const parts = (value.match(/[\\d.]+/g) ?? []).map(Number);
      return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
    };
    const luminance = ([r, g, b]) => {
      const channel = (value) => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element) => {
      for (let current = element; current; current = current.parentElement) {
        const color = rgb(getComputedStyle(current).backgroundColor);
        if (color[3] > 0.9) return color;
      }
      return rgb(getComputedStyle(document.documentElement).backgroundColor);
    };
    const visible = (element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0;
    };
    const results = [];
    const measure = (element, text, foreground, chart) => {
      const fg = luminance(rgb(foreground));
      const bg = luminance(background(element));
      const style = getComputedStyle(element);
      const size = Number.parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      results.push({
        text: text.trim().slice(0, 60),
        ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05),
        large: size >= 24 || (bold && size >= 18.6),
        chart,
      });
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || !node.textContent.trim() || !visible(parent)) continue;
      if (parent.closest('svg')) {
        if (parent.tagName.toLowerCase() === 'text') measure(parent, node.textContent, getComputedStyle(parent).fill, true);
      } else {
        measure(parent, node.textContent, getComputedStyle(parent).color, false);
      }
    }
    return results;
  })()`);
}

/** The rendered size of the charts' 12 px words, after the SVG is scaled to its column. */
async function smallestChartText(page: Page): Promise<number> {
  return page.evaluate<number>(`(() => {
    let smallest = Number.POSITIVE_INFINITY;
    for (const svg of document.querySelectorAll('.chart svg')) {
      const box = svg.getBoundingClientRect();
      if (box.width === 0) continue;
      const scale = box.width / svg.viewBox.baseVal.width;
      for (const text of svg.querySelectorAll('text'))
        smallest = Math.min(smallest, Number.parseFloat(getComputedStyle(text).fontSize) * scale);
    }
    return smallest;
  })()`);
}

async function check(name: string, snapshot: StatsSnapshot): Promise<void> {
  const html = renderReport(snapshot);
  for (const { width, colorScheme } of VIEWS) {
    const view = `${name} at ${width} px, ${colorScheme}`;
    requests.length = 0;
    consoleErrors.length = 0;
    await page.setViewportSize({ width, height: 900 });
    await page.emulateMedia({ colorScheme });
    await page.setContent(html, { waitUntil: 'load' });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}-${colorScheme}.png`), fullPage: true });

    expect(requests, view).toEqual([]);
    expect(consoleErrors, view).toEqual([]);
    // Nothing wider than the screen: the page never scrolls sideways.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth'), view).toBeLessThanOrEqual(width);
    // The charts drawn for this colour scheme show, the others do not.
    const shown = await page.evaluate<string[]>(
      "[...document.querySelectorAll('.chart > div')].filter((variant) => variant.getBoundingClientRect().height > 0).map((variant) => variant.className)",
    );
    expect(shown.length, view).toBe(await page.locator('.chart').count());
    expect(new Set(shown), view).toEqual(new Set(shown.length > 0 ? [colorScheme] : []));
    if (shown.length > 0) expect(await smallestChartText(page), view).toBeGreaterThanOrEqual(10);
    // WCAG AA: 4.5:1 for text, 3:1 for large text.
    const measured = await contrasts(page);
    if (shown.length > 0)
      expect(
        measured.some((item) => item.chart),
        view,
      ).toBe(true);
    const poor = measured.filter((item) => item.ratio < (item.large ? 3 : 4.5));
    expect(poor, view).toEqual([]);
  }
}

describe('the report in Chromium', () => {
  it('reads on a phone and a desktop, light and dark: an English list with aggregate tracking and opens', async () => {
    await check('sample-en', sampleSnapshot({ tracking: 'aggregate', opens: true }));
  });

  it('reads the same in Chinese, tracking off', async () => {
    await check('sample-zh', sampleSnapshot({ language: 'zh-CN' }));
  });

  it('reads for a new list with nothing to draw yet', async () => {
    await check('empty', emptySnapshot());
  });

  it('runs nothing and loads nothing a hostile title or link carries', async () => {
    const snapshot = sampleSnapshot({ tracking: 'aggregate', posts: 2 });
    snapshot.posts[0]!.title = '<img src="https://evil.example/t.png" onerror="document.title=\'pwned\'">';
    snapshot.posts[1]!.clicks!.links[0]!.url = '"><script>document.title="pwned"</script>';
    await check('hostile', snapshot);
    expect(await page.title()).not.toBe('pwned');
    expect(await page.locator('img, script').count()).toBe(0);
  });
});
