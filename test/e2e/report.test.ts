import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_BLOG } from '../../functions/cli/dev-command';
import { countedSnapshot, runReport } from '../../functions/cli/report-command';
import { readSettings } from '../../functions/commons/config';
import { openLocalBlog } from '../../functions/local/blog';
import { runDemo } from '../../functions/local/demo';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { renderReport } from '../../functions/stats/report';
import type { StatsSnapshot } from '../../functions/stats/snapshot';
import { cliAgainst, confirmLink, inbox, postForm, pressConfirm } from '../integration/http-helpers';
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

async function check(name: string, html: string): Promise<void> {
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
    await check('sample-en', await renderReport(sampleSnapshot({ tracking: 'aggregate', opens: true })));
  });

  it('reads the same in Chinese, tracking off', async () => {
    await check('sample-zh', await renderReport(sampleSnapshot({ language: 'zh-CN' })));
  });

  it('reads for a new list with nothing to draw yet', async () => {
    await check('empty', await renderReport(emptySnapshot()));
  });

  it('runs nothing and loads nothing a hostile title or link carries', async () => {
    const snapshot = sampleSnapshot({ tracking: 'aggregate', posts: 2 });
    snapshot.posts[0]!.title = '<img src="https://evil.example/t.png" onerror="document.title=\'pwned\'">';
    snapshot.posts[1]!.clicks!.links[0]!.url = '"><script>document.title="pwned"</script>';
    await check('hostile', await renderReport(snapshot));
    expect(await page.title()).not.toBe('pwned');
    expect(await page.locator('img, script').count()).toBe(0);
  });
});

describe('the report of the local stack, through `pushletter report`', () => {
  let stack: LocalStack | undefined;
  let dataDir: string;
  let cli: ReturnType<typeof cliAgainst> | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pushletter-report-'));
    const settings = readSettings({});
    stack = await startLocalStack({
      dataDir,
      ports: { http: 0, ses: 0, dynamodb: 0 },
      settings,
      blog: await openLocalBlog(EXAMPLE_BLOG, settings),
    });
    // Three subscribers and the example post sent to them through the local pipeline.
    await runDemo(stack, () => {});
    // A reader signs up through the form and confirms; another leaves through the post's email.
    const app = stack.urls.app.replace('localhost', '127.0.0.1');
    const reader = 'new.reader@example.com';
    expect((await postForm(`${app}/subscribe`, { email: reader, website: '', lang: 'en' })).status).toBe(200);
    expect((await pressConfirm(await confirmLink(stack, reader))).status).toBe(200);
    const [copy] = await inbox(stack, 'grace@example.com');
    const unsubscribe = /https?:\/\/\S+\/unsubscribe\?token=[^\s"<>]+/.exec(copy?.body.text ?? '')?.[0];
    expect(unsubscribe, 'the copy carries its unsubscribe link').toBeDefined();
    const left = await postForm(unsubscribe!.replace('localhost', '127.0.0.1'), { 'List-Unsubscribe': 'One-Click' });
    expect(left.status).toBeLessThan(300);
    cli = cliAgainst(stack, dataDir);
  }, 120_000);

  afterAll(async () => {
    cli?.restore();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('draws what was counted: the post, its copies, the signup and the unsubscribe, and reads in Chromium', async () => {
    // What the editor runs (the same snapshot `stats` prints), writing the file they open.
    const file = resolve(ARTIFACTS, 'local-stack.html');
    const { out, printed } = cli!.streams();
    // SES's Delivery events follow the sends; the report is made once all three are counted.
    let snapshot: StatsSnapshot | undefined;
    for (let attempt = 0; attempt < 100 && (snapshot?.posts[0]?.delivered ?? 0) < 3; attempt++) {
      if (attempt > 0) await new Promise((done) => setTimeout(done, 100));
      snapshot = await countedSnapshot(false);
    }
    expect(await runReport(['--out', file], countedSnapshot, out)).toBe(0);
    expect(printed()).toContain('report: 1 post, 90 days of the list');
    expect(printed()).toContain(`open file://${file}`);

    const html = await readFile(file, 'utf8');
    const text = html.replace(/<style[\s\S]*?<\/style>|<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    const [post] = snapshot!.posts;
    expect(text).toContain(`${snapshot!.site.title}: newsletter report`);
    expect(text).toContain(post!.title);
    // The funnel: three recipients, three copies sent and delivered.
    expect(post).toMatchObject({ recipients: 3, sent: 3, delivered: 3, unsubscribed: 1 });
    expect(html.match(/>3 \(100%\)</g)).toHaveLength(3 * 2);
    expect(text).toMatch(/Unsubscribed from this post 1/);
    // The list: today's signup, confirmation and unsubscribe; three active at the end of it.
    expect(text).toMatch(/Signups 1 last 30 days Confirmations 1 last 30 days Unsubscribes 1 last 30 days/);
    expect(text).toMatch(/Active subscribers 3 /);
    await check('local-stack', html);
  });
});
