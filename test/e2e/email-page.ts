import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { launchChromium } from './chromium';

/**
 * A Chromium page for looking at rendered emails. Images point at blogs' hosts, which do not
 * exist here: every image request gets a fixture's picture, so the layout is measured with
 * images actually shown; every other request is refused.
 */
export async function openEmailPage(): Promise<{
  page: Page;
  /** Shows `html` at `width` px in the given colour scheme. */
  show(html: string, width: number, colorScheme?: 'light' | 'dark'): Promise<void>;
  close(): Promise<void>;
}> {
  const chromium = await launchChromium();
  const page = await chromium.browser.newPage();
  const picture = await readFile('test/fixtures/blog-zh/assets/images/upgrade-flow.png');
  await page.route('**/*', (route) =>
    /\.(png|jpe?g|gif|webp)(\?|$)/i.test(route.request().url())
      ? route.fulfill({ status: 200, contentType: 'image/png', body: picture })
      : route.abort(),
  );
  return {
    page,
    async show(html, width, colorScheme = 'light') {
      await page.setViewportSize({ width, height: 800 });
      await page.emulateMedia({ colorScheme });
      await page.setContent(html, { waitUntil: 'load' });
    },
    close: () => chromium.close(),
  };
}

/** WCAG relative luminance contrast of two `rgb(…)` colours. */
export function contrast(foreground: string, background: string): number {
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
