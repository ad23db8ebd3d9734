import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_BLOG } from '../../functions/cli/dev-command';
import { readSettings } from '../../functions/commons/config';
import { openLocalBlog } from '../../functions/local/blog';
import { runDemo } from '../../functions/local/demo';
import { type LocalStack, startLocalStack } from '../../functions/local/stack';
import { confirmLink, inbox, uniqueAddress } from '../integration/http-helpers';
import { launchChromium } from './chromium';

/**
 * `npm start` as a reader meets it in Chromium: the demo's post, the form, the confirmation
 * email and every page after it speak with the example blog's one name, and every link on a
 * reader-facing page leads somewhere that answers.
 */
const TITLE = 'Field Notes · 田野笔记';
/** What the pages said before they took the blog's name; none of it may show. */
const OTHER_NAMES = /pushletter demo blog|"pushletter"|localhost:4000/;

let stack: LocalStack;
let dataDir: string;
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let browser: BrowserContext;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pushletter-demo-'));
  // The defaults a fresh clone has: no PUSHLETTER_* settings at all.
  const settings = readSettings({});
  stack = await startLocalStack({
    dataDir,
    ports: { http: 0, ses: 0, dynamodb: 0 },
    settings,
    blog: await openLocalBlog(EXAMPLE_BLOG, settings),
  });
  await runDemo(stack, () => {});
  chromium = await launchChromium({ width: 375, height: 740 });
  browser = chromium.browser;
});

afterAll(async () => {
  await chromium?.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Node's fetch may try ::1 for localhost; the stack listens on 127.0.0.1. */
function reachable(url: string): string {
  return url.replace('//localhost:', '//127.0.0.1:');
}

/** Every link on the page, fetched: each must answer 200. Returns the links. */
async function linksAnswer(page: Page): Promise<string[]> {
  const hrefs = await page.evaluate<string[]>("[...document.querySelectorAll('a[href]')].map((a) => a.href)");
  expect(hrefs.length, `no links on ${page.url()}`).toBeGreaterThan(0);
  for (const href of hrefs) {
    expect(href, `a link on ${page.url()} leaves the local stack`).toMatch(/^http:\/\/localhost:\d+\//);
    const response = await fetch(reachable(href));
    expect(response.status, `${href} on ${page.url()}`).toBe(200);
  }
  return hrefs;
}

/** The page is the newsletter's: its title carries the blog's name, and no other name shows. */
async function carriesTheName(page: Page): Promise<void> {
  expect(await page.title(), page.url()).toContain(TITLE);
  expect(await page.content()).not.toMatch(OTHER_NAMES);
}

async function heading(page: Page): Promise<string> {
  return (await page.locator('h1').textContent()) ?? '';
}

describe('the demo in Chromium', () => {
  it("sends the post with the blog's name as sender and footer, and its links answer", async () => {
    const copies = await inbox(stack, 'ada@example.com');
    expect(copies).toHaveLength(1);
    const [copy] = copies;
    expect(copy!.from).toContain(TITLE);
    expect(copy!.body.text).toContain(`You receive this email because you subscribed to ${TITLE}.`);
    expect(`${copy!.body.html}${copy!.body.text}`).not.toMatch(OTHER_NAMES);

    const page = await browser.newPage();
    await page.setContent(copy!.body.html!);
    const links = await page.evaluate<string[]>("[...document.querySelectorAll('a[href]')].map((a) => a.href)");
    const local = links.filter((href) => href.startsWith('http://localhost:'));
    // The web version, the blog's home and the unsubscribe link, at least; none elsewhere.
    expect(local.length).toBeGreaterThanOrEqual(3);
    for (const href of local) expect((await fetch(reachable(href))).status, href).toBe(200);

    // "View on the web" opens the post on the local blog, with the blog's name and working links.
    const web = local.find((href) => href.includes('/blog/2024/12/02/welcome-to-the-newsletter'));
    expect(web).toBeDefined();
    await page.goto(web!);
    expect(await heading(page)).toBe('Welcome to the newsletter · 欢迎订阅');
    await carriesTheName(page);
    await linksAnswer(page);

    // Unsubscribe from this newsletter lands on pages with this newsletter's name.
    await page.goto(local.find((href) => href.includes('/unsubscribe?token='))!);
    await carriesTheName(page);
    expect(await heading(page)).toBe(`Unsubscribe from ${TITLE}?`);
    await linksAnswer(page);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Unsubscribe' }).click()]);
    await page.waitForFunction("document.querySelector('h1')?.textContent === 'You are unsubscribed'");
    await carriesTheName(page);
    await linksAnswer(page);
    await page.close();
  });

  it('signs a reader up under the same name, and every page on the way links somewhere that answers', async () => {
    const address = uniqueAddress('identity');
    const page = await browser.newPage();
    await page.goto(`${stack.urls.app}/`);
    expect(await heading(page)).toBe(`Subscribe to ${TITLE}`);
    await carriesTheName(page);
    await linksAnswer(page);

    await page.getByLabel('Email address').fill(address);
    await Promise.all([page.waitForURL('**/subscribe'), page.getByRole('button', { name: 'Subscribe' }).click()]);
    expect(await heading(page)).toBe('Check your inbox');
    await carriesTheName(page);
    await linksAnswer(page);

    const [email] = await inbox(stack, address);
    expect(email!.subject).toBe(`Confirm your subscription to ${TITLE}`);
    expect(email!.from).toContain(TITLE);
    expect(`${email!.body.html}${email!.body.text}`).not.toMatch(OTHER_NAMES);

    await page.goto(await confirmLink(stack, address));
    await carriesTheName(page);
    await linksAnswer(page);
    // A confirm page with a button (a scanner's visit confirms nothing), or confirmed at once.
    if ((await page.getByRole('button').count()) > 0) {
      await Promise.all([page.waitForLoadState('load'), page.getByRole('button').first().click()]);
    }
    await page.waitForFunction("document.querySelector('h1')?.textContent === 'You are subscribed'");
    await carriesTheName(page);
    await linksAnswer(page);
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('active');
    await page.close();
  });

  it('names the newsletter on its error pages and links them back to pages that answer', async () => {
    const page = await browser.newPage();
    for (const [path, status] of [
      ['/no-such-page', 404],
      ['/confirm?token=damaged', 400],
      ['/unsubscribe?token=damaged', 400],
      ['/blog/no-such-post/', 404],
    ] as const) {
      const response = await page.goto(`${stack.urls.app}${path}`);
      expect(response?.status(), path).toBe(status);
      if (!path.startsWith('/blog/')) await carriesTheName(page);
      await linksAnswer(page);
    }
    await page.close();
  });

  it('tells CLI commands in other terminals the same name', async () => {
    expect(JSON.parse(await readFile(join(dataDir, 'site.json'), 'utf8'))).toMatchObject({
      title: TITLE,
      url: `${stack.urls.app}/blog/`,
    });
  });
});
