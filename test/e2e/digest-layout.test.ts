import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { fixtureDigest } from '../digest-fixtures';
import { launchChromium } from './chromium';

/**
 * The weekly digest in a real browser at phone widths: nothing makes the reader scroll
 * sideways, every post's title and excerpt shows (Chinese too), and dark mode stays readable.
 */
const settings = readSettings({ PUSHLETTER_PUBLIC_URL: 'https://news.example.cn' });

let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  chromium = await launchChromium();
  browser = chromium.browser;
  page = await browser.newPage();
  // Every image request gets the fixture's picture, so the layout is measured with images shown.
  const picture = await readFile('test/fixtures/blog-zh/assets/images/upgrade-flow.png');
  await page.route('**/*', (route) =>
    /\.(png|jpe?g|gif|webp)(\?|$)/i.test(route.request().url())
      ? route.fulfill({ status: 200, contentType: 'image/png', body: picture })
      : route.abort(),
  );
});

afterAll(async () => {
  await chromium?.close();
});

async function open(html: string, width: number, colorScheme: 'light' | 'dark' = 'light'): Promise<void> {
  await page.setViewportSize({ width, height: 800 });
  await page.emulateMedia({ colorScheme });
  await page.setContent(html, { waitUntil: 'load' });
}

/** Elements sticking out of the screen (the card's overflow:hidden would clip them without a scrollbar). */
async function elementsOutsideTheScreen(): Promise<string[]> {
  return page.evaluate(`[...document.body.querySelectorAll('*')]
    .filter((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && (box.right > window.innerWidth + 0.5 || box.left < -0.5);
    })
    .map((element) => '<' + element.tagName.toLowerCase() + '> ' + (element.textContent || '').slice(0, 40))`);
}

describe.each([320, 375])('the digest at %i px wide', (width) => {
  it.each([
    ['zh-CN', ['第三周回顾', '集群升级手记：从 1.27 到 1.29', '阅读全文', '退订']],
    ['en', ['Hello World', 'Shipping Helm charts without surprises', 'Read the post', 'Unsubscribe']],
  ] as const)('shows every post of the %s digest without sideways scrolling', async (lang, words) => {
    await open((await fixtureDigest(lang, settings)).html, width);
    expect(await page.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(width);
    expect(await elementsOutsideTheScreen()).toEqual([]);
    const text = await page.evaluate<string>('document.body.innerText');
    for (const word of words) expect(text).toContain(word);
    const image = await page.getByRole('img').first().boundingBox();
    expect(image!.x + image!.width).toBeLessThanOrEqual(width);
  });
});

/** WCAG contrast of two `rgb(…)` colours. */
function contrast(foreground: string, background: string): number {
  const luminance = (color: string) => {
    const [r, g, b] = color
      .match(/[\d.]+/g)!
      .slice(0, 3)
      .map((value) => {
        const channel = Number(value) / 255;
        return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
      });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
  return (light! + 0.05) / (dark! + 0.05);
}

describe('the digest in dark mode', () => {
  it('turns its titles and excerpts light on a dark card', async () => {
    const html = (await fixtureDigest('zh-CN', settings)).html;
    for (const scheme of ['light', 'dark'] as const) {
      await open(html, 375, scheme);
      for (const words of ['第三周回顾', '顺便读完了两本书']) {
        const colors = await page.evaluate<{ text: string; background: string }>(`(() => {
          const element = [...document.querySelectorAll('a, p')].find((candidate) => candidate.textContent.includes(${JSON.stringify(words)}));
          let ancestor = element;
          let background = 'rgba(0, 0, 0, 0)';
          while (ancestor && /rgba\\(0, 0, 0, 0\\)|transparent/.test(background)) {
            background = getComputedStyle(ancestor).backgroundColor;
            ancestor = ancestor.parentElement;
          }
          return { text: getComputedStyle(element).color, background };
        })()`);
        expect(
          contrast(colors.text, colors.background),
          `${scheme} ${words}: ${colors.text} on ${colors.background}`,
        ).toBeGreaterThanOrEqual(7);
        expect(contrast(colors.background, 'rgb(0, 0, 0)') < 3, `${scheme} background`).toBe(scheme === 'dark');
      }
    }
  });
});
