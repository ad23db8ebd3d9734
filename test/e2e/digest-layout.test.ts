import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { asSent, fixtureDigest } from '../digest-fixtures';
import { contrast, openEmailPage } from './email-page';

/**
 * The weekly digest in a real browser at phone widths: nothing makes the reader scroll
 * sideways, every post's title and excerpt shows (Chinese too), and dark mode stays readable.
 */
const settings = readSettings({ PUSHLETTER_PUBLIC_URL: 'https://news.example.cn' });

let emails: Awaited<ReturnType<typeof openEmailPage>> | undefined;
let page: Page;

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
    await open(asSent(await fixtureDigest(lang, settings)), width);
    expect(await page.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(width);
    expect(await elementsOutsideTheScreen()).toEqual([]);
    const text = await page.evaluate<string>('document.body.innerText');
    for (const word of words) expect(text).toContain(word);
    const image = await page.getByRole('img').first().boundingBox();
    expect(image!.x + image!.width).toBeLessThanOrEqual(width);
  });
});

describe('the digest in dark mode', () => {
  it('turns its titles and excerpts light on a dark card', async () => {
    const html = asSent(await fixtureDigest('zh-CN', settings));
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
