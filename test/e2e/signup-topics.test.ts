import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import { startTestStack, type TestStack, uniqueAddress } from '../integration/http-helpers';
import { launchChromium } from './chromium';

/**
 * The signup form with topics on offer, in Chromium on the narrowest phone (320 px): the boxes
 * start ticked, read in the page's language, can be worked from the keyboard, and a subset
 * with the weekly digest is what gets stored.
 */
let stack: TestStack;
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let browser: BrowserContext;

beforeAll(async () => {
  stack = await startTestStack({
    topics: parseTopics(
      JSON.stringify([
        { name: '旅行', en: 'Travel', zh: '旅行' },
        { name: 'rust', en: 'Rust', zh: 'Rust 编程' },
        { name: 'photography-and-long-exposures', en: 'Photography and very long exposures at night' },
      ]),
    ),
  });
  chromium = await launchChromium({ width: 320, height: 640 });
  browser = chromium.browser;
});

afterAll(async () => {
  await chromium?.close();
  await stack?.dispose();
});

describe('the signup form with topics, at 320 px', () => {
  it('shows the topics ticked in Chinese, fits the width, and stores the subset and the digest a reader chose', async () => {
    const address = uniqueAddress('topics-zh');
    const page = await browser.newPage();
    await page.goto(`${stack.urls.app}/?lang=zh-CN`);
    expect(await page.getByRole('group', { name: '主题' }).isVisible()).toBe(true);
    const travel = page.getByRole('checkbox', { name: '旅行' });
    const rust = page.getByRole('checkbox', { name: 'Rust 编程' });
    expect([await travel.isChecked(), await rust.isChecked()]).toEqual([true, true]);
    expect(await page.getByRole('radio', { name: '每篇文章' }).isChecked()).toBe(true);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
    // Every box and its words make a target a finger can hit (WCAG 2.5.8 asks 24 px; 44 here).
    for (const label of await page.locator('label.choice').all()) {
      const box = (await label.boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(44);
      expect(box.x + box.width).toBeLessThanOrEqual(320);
    }

    await page.getByLabel('电子邮箱地址').fill(address);
    // From the keyboard: Tab to the first box, down the boxes, Space unticks.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.value')).toBe('rust');
    await page.keyboard.press('Space');
    expect(await rust.isChecked()).toBe(false);
    await page.getByRole('radio', { name: '每周摘要' }).check();
    await Promise.all([page.waitForURL('**/subscribe'), page.getByRole('button', { name: '订阅' }).click()]);
    expect(await page.locator('h1').textContent()).toBe('请查收邮件');

    const stored = await stack.composition.subscribers.findByEmail(address);
    expect(stored).toMatchObject({
      state: 'pending',
      lang: 'zh-CN',
      topics: ['旅行', 'photography-and-long-exposures'],
      frequency: 'digest',
    });
    await page.close();
  });

  it('in English, with every box left ticked, stores no topics: every post, later topics too', async () => {
    const address = uniqueAddress('topics-en');
    const page = await browser.newPage();
    await page.goto(`${stack.urls.app}/?lang=en`);
    expect(await page.getByRole('checkbox', { name: 'Photography and very long exposures at night' }).isChecked()).toBe(
      true,
    );
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
    await page.getByLabel('Email address').fill(address);
    await Promise.all([page.waitForURL('**/subscribe'), page.getByRole('button', { name: 'Subscribe' }).click()]);
    const stored = await stack.composition.subscribers.findByEmail(address);
    expect(stored?.topics).toBeUndefined();
    expect(stored?.frequency).toBe('post');
    await page.close();
  });

  it('with every box unticked, asks again in the page language and keeps the address', async () => {
    const address = uniqueAddress('topics-none');
    const page = await browser.newPage();
    await page.goto(`${stack.urls.app}/?lang=zh-CN`);
    await page.getByLabel('电子邮箱地址').fill(address);
    for (const box of await page.getByRole('checkbox').all()) await box.uncheck();
    await Promise.all([page.waitForURL('**/subscribe'), page.getByRole('button', { name: '订阅' }).click()]);
    expect(await page.getByRole('alert').textContent()).toBe('请至少勾选一个主题（全部勾选即接收所有文章）。');
    expect(await page.getByRole('checkbox', { name: '旅行' }).isChecked()).toBe(true);
    expect(await page.getByLabel('电子邮箱地址').inputValue()).toBe(address);
    expect(await stack.composition.subscribers.findByEmail(address)).toBeUndefined();
    await page.close();
  });
});
