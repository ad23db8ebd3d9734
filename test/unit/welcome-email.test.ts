import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { PREFERENCES_URL_PLACEHOLDER, UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import type { Subscriber } from '../../functions/subscribers/types';
import { WelcomeEmails } from '../../functions/subscribers/welcome-email';
import { buildWelcomeModule, WELCOME_GENERATED } from '../../templates/build-confirm';

const settings = readSettings({
  PUSHLETTER_SITE_TITLE: 'Field Notes',
  PUSHLETTER_SITE_URL: 'https://blog.example.org',
  PUSHLETTER_FROM_ADDRESS: 'news@blog.example.org',
  PUSHLETTER_TOPICS: JSON.stringify([
    { name: '旅行', en: 'Travel', zh: '旅行' },
    { name: 'rust', en: 'Rust', zh: 'Rust 语言' },
  ]),
});

function reader(overrides: Partial<Subscriber> = {}): Subscriber {
  return {
    id: 'x'.repeat(43),
    email: 'reader@example.com',
    state: 'active',
    createdAt: '2026-12-01T00:00:00.000Z',
    consent: { at: '2026-12-01T00:00:00.000Z', source: 'form' },
    ...overrides,
  };
}

const LINKS = {
  [UNSUBSCRIBE_URL_PLACEHOLDER]: 'https://api.example.org/unsubscribe?token=AbC_1',
  [PREFERENCES_URL_PLACEHOLDER]: 'https://api.example.org/preferences?token=XyZ',
};
const UNSUBSCRIBE = LINKS[UNSUBSCRIBE_URL_PLACEHOLDER];
const PREFERENCES = LINKS[PREFERENCES_URL_PLACEHOLDER];

async function welcome(subscriber: Subscriber) {
  const data = await new WelcomeEmails(settings).build(subscriber, LINKS, new Date('2026-12-03T10:00:00Z'));
  return { raw: data.toString('utf8'), parsed: await simpleParser(data) };
}

describe('the default welcome email', () => {
  it('is compiled from welcome.mjml: the generated module is up to date (run `npm run templates`)', async () => {
    expect(await buildWelcomeModule()).toBe(await readFile(WELCOME_GENERATED, 'utf8'));
  });

  it("carries the reader's one-click unsubscribe in its headers and both parts, and the list's id", async () => {
    const { raw, parsed } = await welcome(reader());
    expect(raw).toContain(`List-Unsubscribe: <${UNSUBSCRIBE}>`);
    expect(raw).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(raw).toContain('List-Id: <newsletter.blog.example.org>');
    expect(parsed.subject).toBe('Welcome to Field Notes');
    expect(parsed.to).toMatchObject({ text: 'reader@example.com' });
    expect(parsed.text).toContain(`Unsubscribe: ${UNSUBSCRIBE}`);
    expect(parsed.html).toContain(`href="${UNSUBSCRIBE}"`);
  });

  it('says how often and on which topics, by their labels in the reader language', async () => {
    const everyPost = (await welcome(reader({ topics: ['rust'] }))).parsed;
    expect(everyPost.text).toContain('You will receive each new post by email');
    expect(everyPost.text).toContain('The topics you chose: Rust.');
    const digest = (await welcome(reader({ lang: 'zh-CN', frequency: 'digest', topics: ['旅行', 'Rust'] }))).parsed;
    expect(digest.subject).toBe('欢迎订阅 Field Notes');
    expect(digest.text).toContain('你会收到每周摘要');
    expect(digest.text).toContain('你选择的主题：旅行、Rust 语言。');
    expect(digest.html).toContain('<html lang="zh-CN"');
    const none = (await welcome(reader())).parsed;
    expect(none.text).toContain('You chose no topics, so every post comes to you.');
  });

  it('says nothing of topics when none are offered, and greets an imported reader by name', async () => {
    const data = await new WelcomeEmails({ ...settings, topics: [] }).build(
      reader({ name: 'Ada <Lovelace>' }),
      LINKS,
      new Date(),
    );
    const parsed = await simpleParser(data);
    expect(parsed.text).not.toMatch(/topic/i);
    expect(parsed.text).toMatch(/^Hi Ada <Lovelace>,$/m);
    expect(parsed.html).toContain('Hi Ada &lt;Lovelace&gt;,');
  });

  it('links "Manage your subscription" to the reader\'s preferences page, and says what it is for', async () => {
    const { parsed } = await welcome(reader());
    expect(parsed.text).toContain(`Manage your subscription: ${PREFERENCES}`);
    expect(parsed.html).toContain(`href="${PREFERENCES}"`);
    expect(parsed.text).toContain('use "Manage your subscription" at the bottom of any email');
    const chinese = (await welcome(reader({ lang: 'zh-CN' }))).parsed;
    expect(chinese.text).toContain(`管理订阅: ${PREFERENCES}`);
  });
});
