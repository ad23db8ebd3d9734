import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { renderEmail } from '../../functions/render/email';
import { parsePost } from '../../functions/render/post';
import { findSiteRoot, loadSite } from '../../functions/render/site';
import { launchChromium, showFixtureImages } from './chromium';

/**
 * The email with aggregate tracking in a real browser at a phone's width: the hidden link is
 * not seen, not reached with the keyboard and not in the accessibility tree, and the email looks
 * as it does without tracking.
 */
const settings = readSettings({ PUSHLETTER_PUBLIC_URL: 'https://news.example.cn' });
const POST = 'test/fixtures/blog-zh/_posts/技术/2024-03-08-cluster-upgrade-notes.md';

let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;

async function render(tracked: boolean): Promise<string> {
  const site = await loadSite(findSiteRoot(POST), settings);
  const post = await parsePost({ path: POST, source: await readFile(POST), site });
  const tracking = { publicUrl: settings.publicUrl, key: Buffer.alloc(32, 1), opens: true };
  return (await renderEmail(post, site, settings, tracked ? tracking : undefined)).html;
}

beforeAll(async () => {
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  await showFixtureImages(page);
});

afterAll(async () => {
  await chromium?.close();
});

async function open(html: string, colorScheme: 'light' | 'dark'): Promise<void> {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.emulateMedia({ colorScheme });
  await page.setContent(html, { waitUntil: 'load' });
}

describe.each(['light', 'dark'] as const)('a tracked email at 375 px, %s', (colorScheme) => {
  it('looks as it does without tracking: same height, same text', async () => {
    await open(await render(false), colorScheme);
    const plain = await page.evaluate<{ height: number; text: string }>(
      '({ height: document.scrollingElement.scrollHeight, text: document.body.innerText })',
    );
    await open(await render(true), colorScheme);
    const tracked = await page.evaluate<{ height: number; text: string }>(
      '({ height: document.scrollingElement.scrollHeight, text: document.body.innerText })',
    );
    expect(Math.abs(tracked.height - plain.height)).toBeLessThanOrEqual(1);
    // Whitespace aside: the hidden box is a block of its own, holding one non-breaking space.
    const words = (text: string) => text.replace(/\s+/g, ' ').trim();
    expect(words(tracked.text)).toBe(words(plain.text));
  });

  it('hides its one hidden link from sight, the keyboard and screen readers', async () => {
    await open(await render(true), colorScheme);
    const hidden = await page.evaluate<{ href: string; boxHeight: number; clipped: boolean }>(`(() => {
      const link = document.querySelector('a[tabindex="-1"]');
      const box = link.parentElement.getBoundingClientRect();
      return { href: link.href, boxHeight: box.height, clipped: getComputedStyle(link.parentElement).overflow === 'hidden' };
    })()`);
    expect(hidden.href).toMatch(/^https:\/\/news\.example\.cn\/r\/.+\/0\.[\w-]{16}$/);
    expect(hidden.boxHeight).toBe(0);
    expect(hidden.clipped).toBe(true);

    // Tab through every link of the email: the hidden one is never focused.
    const links = await page.evaluate<number>('document.querySelectorAll("a").length');
    const focused = new Set<string>();
    for (let step = 0; step < links + 3; step++) {
      await page.keyboard.press('Tab');
      focused.add(await page.evaluate<string>('document.activeElement && document.activeElement.href || ""'));
    }
    expect(focused.size).toBeGreaterThan(3);
    expect(focused.has(hidden.href)).toBe(false);

    // Screen readers get the accessibility tree: every other link is in it, the hidden one is not.
    const named = await page
      .getByRole('link')
      .evaluateAll((elements) => elements.map((element) => (element as unknown as { href: string }).href));
    expect(named.length).toBe(links - 1);
    expect(named).not.toContain(hidden.href);
    expect(await page.getByRole('img', { includeHidden: false }).evaluateAll((images) => images.length)).toBe(
      await page.evaluate<number>('document.querySelectorAll("img:not([alt=\\"\\"])").length'),
    );
  });
});
