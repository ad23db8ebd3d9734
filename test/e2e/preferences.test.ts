import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import type { Subscriber } from '../../functions/subscribers/types';
import { startTestStack, type TestStack, uniqueAddress } from '../integration/http-helpers';
import { launchChromium } from './chromium';
import { contrastScript } from './contrast';

/**
 * The preferences page in a real browser (Debian's Chromium), without JavaScript of its own:
 * a phone's 320 px and a desktop's 1280 px, English and Chinese, light and dark, and a reader
 * changing topics, frequency and language with the form.
 */
const TOPICS = parseTopics(
  '[{"name":"旅行","en":"Travel","zh":"旅行"},{"name":"rust","en":"Rust","zh":"Rust 语言"},{"name":"photography","en":"Photography and the long walks it takes","zh":"摄影"}]',
);

let stack: TestStack;
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let browser: BrowserContext;

beforeAll(async () => {
  stack = await startTestStack({ topics: TOPICS });
  chromium = await launchChromium({ width: 320, height: 700 });
  browser = chromium.browser;
});

afterAll(async () => {
  await chromium?.close();
  await stack?.dispose();
});

async function reader(label: string, lang: string): Promise<{ subscriber: Subscriber; link: string }> {
  const email = uniqueAddress(label);
  await stack.composition.subscribers.createIfAbsent({
    email,
    state: 'active',
    consent: { at: new Date().toISOString(), source: 'import' },
    lang,
  });
  const subscriber = (await stack.composition.subscribers.findByEmail(email))!;
  return { subscriber, link: stack.composition.subscriptions.preferencesUrl(subscriber.id) };
}

async function headingOf(page: Page): Promise<string> {
  return (await page.locator('h1').textContent()) ?? '';
}

/** Evaluated in the page, so written as source text (this project's types have no DOM). */
const WIDEST_RIGHT_EDGE = `Math.max(...[...document.querySelectorAll('main *')].map((element) => element.getBoundingClientRect().right))`;

describe('the preferences page in Chromium', () => {
  for (const width of [320, 1280])
    for (const lang of ['en', 'zh-CN'] as const)
      for (const colorScheme of ['light', 'dark'] as const)
        it(`fits ${width} px in ${lang}, ${colorScheme}, with readable text and nothing refused by the policy`, async () => {
          const { link } = await reader(`prefs-layout-${width}-${lang}-${colorScheme}`, lang);
          const page = await browser.newPage();
          const refused: string[] = [];
          page.on('console', (message) => {
            if (message.type() === 'error') refused.push(message.text());
          });
          await page.setViewportSize({ width, height: 800 });
          await page.emulateMedia({ colorScheme });
          await page.goto(link);
          expect(await headingOf(page)).toBe(
            lang === 'en' ? 'Your subscription to Example Blog' : '你对 Example Blog 的订阅',
          );
          expect(await page.evaluate<string>('document.documentElement.lang')).toBe(lang);
          expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
          expect(await page.evaluate<number>(WIDEST_RIGHT_EDGE)).toBeLessThanOrEqual(width);
          // Each topic's label in the page's language, every box ticked (the reader chose none: every post).
          const label = lang === 'en' ? 'Rust' : 'Rust 语言';
          expect(await page.getByLabel(label, { exact: true }).isChecked()).toBe(true);
          expect(await page.getByRole('checkbox').count()).toBe(3);
          const background = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
          expect(background).toBe(colorScheme === 'dark' ? 'rgb(22, 22, 26)' : 'rgb(255, 255, 255)');
          const contrasts = await page.evaluate<{ text: string; ratio: number }[]>(
            contrastScript('h1, h2, p, legend, label span, a, button'),
          );
          expect(contrasts.length).toBeGreaterThan(10);
          expect(contrasts.filter((item) => item.ratio < 4.5)).toEqual([]);
          expect(refused).toEqual([]);
          await page.close();
        });

  it('changes topics and frequency on a phone and saves them with the button', async () => {
    const { subscriber, link } = await reader('prefs-phone', 'en');
    const page = await browser.newPage();
    await page.goto(link);
    await page.getByLabel('Rust', { exact: true }).uncheck();
    await page.getByLabel('Photography and the long walks it takes').uncheck();
    await page.getByLabel('A weekly digest of the week’s posts').check();
    // Opening and filling in the page changed nothing yet.
    expect(await stack.composition.subscribers.get(subscriber.id)).toEqual(subscriber);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Save my choices' }).click()]);
    await page.waitForSelector('[role=status]');
    expect(await page.getByRole('status').textContent()).toBe('Saved. Your choices apply from the next email.');
    expect(await page.getByLabel('Travel').isChecked()).toBe(true);
    expect(await page.getByLabel('Rust', { exact: true }).isChecked()).toBe(false);
    expect(await page.getByLabel('A weekly digest of the week’s posts').isChecked()).toBe(true);
    expect(await stack.composition.subscribers.get(subscriber.id)).toMatchObject({
      state: 'active',
      topics: ['旅行'],
      frequency: 'digest',
      lang: 'en',
    });
    await page.close();
  });

  it('switches to Chinese from the keyboard on a desktop in dark mode, and asks again when no topic is ticked', async () => {
    const { subscriber, link } = await reader('prefs-desktop', 'en');
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(link);
    for (const topic of ['Travel', 'Rust', 'Photography and the long walks it takes'])
      await page.getByLabel(topic, { exact: true }).uncheck();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Save my choices' }).click()]);
    await page.waitForSelector('[role=alert]');
    expect(await page.getByRole('alert').textContent()).toContain('Tick at least one of the topics below');
    expect(await stack.composition.subscribers.get(subscriber.id)).toEqual(subscriber);

    await page.getByLabel('Rust', { exact: true }).check();
    await page.getByLabel('中文').focus();
    await page.keyboard.press('Space');
    expect(await page.getByLabel('中文').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Save my choices' }).focus();
    expect(await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
    await page.waitForFunction("document.querySelector('h1')?.textContent === '你对 Example Blog 的订阅'");
    expect(await page.getByRole('status').textContent()).toBe('已保存。设置将从下一封邮件起生效。');
    expect(await page.getByLabel('Rust 语言').isChecked()).toBe(true);
    expect(await stack.composition.subscribers.get(subscriber.id)).toMatchObject({
      topics: ['rust'],
      frequency: 'post',
      lang: 'zh-CN',
    });

    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '退订全部邮件' }).click()]);
    await page.waitForFunction("document.querySelector('h1')?.textContent === '已退订'");
    expect((await stack.composition.subscribers.get(subscriber.id))?.state).toBe('unsubscribed');
    await page.close();
  });
});
