import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium, headless, with a fresh profile, and none of its background connections
 * (this machine's network is closed to them). `close` also removes the profile.
 */
export async function launchChromium(viewport?: { width: number; height: number }): Promise<{
  browser: BrowserContext;
  close(): Promise<void>;
}> {
  const profile = await mkdtemp(join(tmpdir(), 'pushletter-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ...(viewport ? { viewport } : {}),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Emails point their images at the blog's host, which does not exist here: every image request
 * gets a fixture's picture (and everything else is refused), so layouts are measured with
 * images actually shown.
 */
export async function showFixtureImages(page: Page): Promise<void> {
  const picture = await readFile('test/fixtures/blog-zh/assets/images/upgrade-flow.png');
  await page.route('**/*', (route) =>
    /\.(png|jpe?g|gif|webp)(\?|$)/i.test(route.request().url())
      ? route.fulfill({ status: 200, contentType: 'image/png', body: picture })
      : route.abort(),
  );
}
