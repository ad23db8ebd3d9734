import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmLink, inbox, startTestStack, type TestStack, uniqueAddress } from '../integration/http-helpers';
import { launchChromium } from './chromium';
import { contrastScript } from './contrast';

/**
 * A reader in a real browser (Debian's Chromium): the form, the email in the local inbox, the
 * confirmation link, and leaving through the unsubscribe page's button.
 */
let stack: TestStack;
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let browser: BrowserContext;

beforeAll(async () => {
  stack = await startTestStack();
  chromium = await launchChromium({ width: 375, height: 740 });
  browser = chromium.browser;
});

afterAll(async () => {
  await chromium?.close();
  await stack?.dispose();
});

async function headingOf(page: Page): Promise<string> {
  return (await page.locator('h1').textContent()) ?? '';
}

describe('a reader in Chromium', () => {
  it('subscribes with the form, confirms from the email, and leaves with the button', async () => {
    const address = uniqueAddress('browser');
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') blocked.push(message.text());
    });

    await page.goto(`${stack.urls.app}/`);
    expect(await headingOf(page)).toBe('Subscribe to Example Blog');
    await page.getByLabel('Email address').fill(address);
    await Promise.all([page.waitForURL('**/subscribe'), page.getByRole('button', { name: 'Subscribe' }).click()]);
    expect(await headingOf(page)).toBe('Check your inbox');

    const [email] = await inbox(stack, address);
    expect(email?.subject).toBe('Confirm your subscription to Example Blog');
    // The link opens a page with one button; opening it alone (as mail scanners do) changes nothing.
    await page.goto(await confirmLink(stack, address));
    expect(await headingOf(page)).toBe('Confirm your subscription to Example Blog');
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('pending');
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Confirm my subscription' }).click(),
    ]);
    await page.waitForFunction("document.querySelector('h1')?.textContent === 'You are subscribed'");
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('active');

    const subscriber = await stack.composition.subscribers.findByEmail(address);
    await page.goto(stack.composition.subscriptions.unsubscribeUrl(subscriber!.id));
    expect(await headingOf(page)).toBe('Unsubscribe from Example Blog?');
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('active');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Unsubscribe' }).click()]);
    await page.waitForFunction("document.querySelector('h1')?.textContent === 'You are unsubscribed'");
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('unsubscribed');

    // The stylesheet is allowed by its CSP hash: a mismatch would show up as a refused style.
    expect(blocked.filter((text) => text.includes('Content Security Policy'))).toEqual([]);
    await page.close();
  });

  it('fits a phone, styles the button and moves focus visibly from the field to the button, past the trap field', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.urls.app}/`);
    // Evaluated in the page, so written as source text (this project's types have no DOM).
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const buttonStyle = (property: string) =>
      page.evaluate<string>(`getComputedStyle(document.querySelector('button')).${property}`);
    expect(await buttonStyle('backgroundColor')).toBe('rgb(11, 87, 208)');

    await page.getByLabel('Email address').focus();
    // The frequency's radio buttons are one stop, then the button.
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('frequency-post');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Subscribe');
    expect(
      `${await buttonStyle('outlineStyle')} ${await buttonStyle('outlineWidth')} ${await buttonStyle('outlineColor')}`,
    ).toBe('solid 3px rgb(180, 83, 9)');
    // Every piece of text reaches WCAG AA contrast against what is behind it.
    const contrasts = await page.evaluate<{ text: string; ratio: number }[]>(
      contrastScript('h1, p, label, a, button, input[type=email]'),
    );
    expect(contrasts.length).toBeGreaterThan(5);
    expect(contrasts.filter((item) => item.ratio < 4.5)).toEqual([]);
    // The trap field is laid out off-screen, where no person sees or tabs to it.
    const trap = await page.locator('#website').boundingBox();
    expect(trap!.x + trap!.width).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('confirms in Chinese with the button, reachable and pressed from the keyboard', async () => {
    const address = uniqueAddress('browser-zh');
    await stack.composition.subscriptions.subscribe({ email: address, source: 'form', lang: 'zh-CN' });
    const page = await browser.newPage();
    await page.goto(await confirmLink(stack, address));
    expect(await headingOf(page)).toBe('确认订阅 Example Blog');
    expect(await page.locator('main p').first().textContent()).toContain('不点击则什么都不会改变');
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('pending');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('确认订阅');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await page.waitForFunction("document.querySelector('h1')?.textContent === '订阅成功'");
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('active');
    await page.close();
  });

  it('shows the form in Chinese and refuses a mistyped address next to the field', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.urls.app}/?lang=zh-CN`);
    expect(await headingOf(page)).toBe('订阅 Example Blog');
    await page.getByLabel('电子邮箱地址').fill('reader@gmial.com');
    await Promise.all([page.waitForURL('**/subscribe'), page.getByRole('button', { name: '订阅' }).click()]);
    expect(await page.getByRole('alert').textContent()).toContain('Did you mean reader@gmail.com?');
    expect(await page.getByLabel('电子邮箱地址').inputValue()).toBe('reader@gmial.com');
    // The correction is one click away, and the reply stays in Chinese.
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: '改用 reader@gmail.com 订阅' }).click(),
    ]);
    await page.waitForFunction("document.querySelector('h1')?.textContent === '请查收邮件'");
    expect(await inbox(stack, 'reader@gmail.com')).toHaveLength(1);
    await page.close();
  });

  it("works from the README's form snippet pasted into a blog page", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Add the form to your blog'));
    const snippet = /```html\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet).toContain('action="https://api.example.com/subscribe"');
    const address = uniqueAddress('snippet');
    const page = await browser.newPage();
    await page.setContent(
      `<!doctype html><html><body><h1>A blog post</h1>${snippet!.replace('https://api.example.com', stack.urls.app)}</body></html>`,
    );
    await page.getByLabel('Get new posts by email').fill(address);
    await Promise.all([page.waitForURL('**/subscribe'), page.getByRole('button', { name: 'Subscribe' }).click()]);
    expect(await headingOf(page)).toBe('Check your inbox');
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('pending');
    expect(await inbox(stack, address)).toHaveLength(1);
    await page.close();
  });
});
