import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomUtils, parseDocument } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import { readLocalPost } from '../../functions/local/publish-route';
import { ingestPost } from '../../functions/publishing/ingest-post';
import { postIsFor } from '../../functions/subscribers/topics';
import type { Subscriber } from '../../functions/subscribers/types';
import { heading, inbox, postForm, startTestStack, type TestStack, uniqueAddress } from './http-helpers';

/**
 * The preferences page end to end on the local stack (dynalite, the SES emulator): the link in
 * a sent email opens the reader's page, its form saves topics, frequency and language, and the
 * next post the reader gets has its footer in the language chosen.
 *
 * Topic and frequency routing (which readers a post goes to) is the dispatcher's and is tested
 * with it; here the second post has none of the offered topics, so it goes to every reader
 * with or without routing, and the reader keeps "every post".
 */
const SITE = fileURLToPath(new URL('../fixtures/publish-blog/', import.meta.url));
const TOPICS = parseTopics('[{"name":"旅行","en":"Travel","zh":"旅行"},{"name":"rust","en":"Rust","zh":"Rust 语言"}]');
const CONSENT = { at: new Date().toISOString(), source: 'import' };

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ topics: TOPICS });
});

afterAll(async () => {
  await stack?.dispose();
});

async function send(post: string): Promise<void> {
  const ports = stack.ingest.ports;
  expect((await ingestPost(await readLocalPost(join(SITE, '_posts', post)), ports)).status).toBe('dispatching');
  await stack.sending.idle();
}

async function reader(label: string, state: 'active' | 'pending' = 'active', lang = 'en'): Promise<Subscriber> {
  const email = uniqueAddress(label);
  await stack.composition.subscribers.createIfAbsent({ email, state, consent: CONSENT, lang });
  return (await stack.composition.subscribers.findByEmail(email))!;
}

async function stored(subscriber: Subscriber): Promise<Subscriber | undefined> {
  return stack.composition.subscribers.get(subscriber.id);
}

const PREFERENCES_LINK = /https?:\/\/\S+\/preferences\?token=[A-Za-z0-9_-]+/;

/** The form's controls as a browser would send them: name, value, whether ticked. */
function controls(html: string): { name: string; value: string; checked: boolean }[] {
  return DomUtils.findAll((element) => element.name === 'input', parseDocument(html).children).map((input) => ({
    name: input.attribs.name ?? '',
    value: input.attribs.value ?? '',
    checked: 'checked' in input.attribs,
  }));
}

const ticked = (html: string, name: string) =>
  controls(html)
    .filter((control) => control.name === name && control.checked)
    .map((control) => control.value);

/** What a browser posts for the form, `topics` once per ticked box. */
function postChoices(link: string, fields: [string, string][]): Promise<Response> {
  return fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

describe('the preferences page', () => {
  it("opens from a sent email's link, saves the reader's choices, and the next post's footer follows the language", async () => {
    const ada = await reader('prefs-ada');
    // A Chinese post to a reader who reads English: the post stays Chinese, its footer speaks English.
    await send('2024-10-02-concurrent.md');
    const [first] = await inbox(stack, ada.email);
    expect(first?.body.text).toContain('两个编辑在同一时刻运行了');
    const link = PREFERENCES_LINK.exec(first?.body.text ?? '')?.[0];
    expect(first?.body.text).toContain(`Manage your subscription: ${link}`);
    expect(first?.body.text).toMatch(/^Unsubscribe: \S+\/unsubscribe\?token=/m);
    const anchors = DomUtils.findAll((element) => element.name === 'a', parseDocument(first?.body.html ?? '').children);
    expect(
      anchors
        .find((anchor) => anchor.attribs.href === link)
        ?.children.map(DomUtils.textContent)
        .join(''),
    ).toBe('Manage your subscription');

    const before = await stored(ada);
    const shown = await fetch(link!);
    const page = await shown.text();
    expect(shown.status).toBe(200);
    expect(heading(page)).toBe('Your subscription to Example Blog');
    expect(ticked(page, 'topics')).toEqual(['旅行', 'rust']);
    expect(page).toContain('> <span>Travel</span></label>');
    expect(ticked(page, 'frequency')).toEqual(['post']);
    expect(ticked(page, 'lang')).toEqual(['en']);
    expect(await stored(ada)).toEqual(before);

    const saved = await postChoices(link!, [
      ['topics', '旅行'],
      ['frequency', 'post'],
      ['lang', 'zh-CN'],
    ]);
    const savedPage = await saved.text();
    expect(saved.status).toBe(200);
    expect(savedPage).toMatch(/<html lang="zh-CN">/);
    expect(heading(savedPage)).toBe('你对 Example Blog 的订阅');
    expect(savedPage).toContain('已保存。设置将从下一封邮件起生效。');
    expect(savedPage).toContain('> <span>Rust 语言</span></label>');
    expect(ticked(savedPage, 'topics')).toEqual(['旅行']);
    expect(ticked(savedPage, 'lang')).toEqual(['zh-CN']);
    expect(await stored(ada)).toMatchObject({ state: 'active', topics: ['旅行'], frequency: 'post', lang: 'zh-CN' });
    // As the dispatcher's routing rule reads the stored choice: travel posts, not Rust ones.
    const chosen = (await stored(ada))?.topics;
    expect(postIsFor(chosen, ['旅行'], TOPICS)).toBe(true);
    expect(postIsFor(chosen, ['Rust'], TOPICS)).toBe(false);

    // An English post: its words stay English, the footer is now in Chinese.
    await send('2024-10-03-tested-first.md');
    const second = (await inbox(stack, ada.email)).at(-1);
    expect(second?.subject).toBe('Tested first');
    expect(second?.body.text).toContain('This post is sent to a test address');
    // Each copy's link is signed when it is sent; it opens the same reader's page.
    const secondLink = /^管理订阅: (\S+)$/m.exec(second?.body.text ?? '')?.[1];
    expect(ticked(await (await fetch(secondLink!)).text(), 'topics')).toEqual(['旅行']);
    expect(second?.body.text).toMatch(/^退订: \S+\/unsubscribe\?token=/m);
    expect(second?.body.text).not.toContain('Manage your subscription');
    expect(second?.body.html).toContain('<div lang="zh-CN">');

    // The digest instead of every post, and every topic again (stored as none: every post).
    const digest = await postChoices(link!, [
      ['topics', '旅行'],
      ['topics', 'rust'],
      ['frequency', 'digest'],
      ['lang', 'zh-CN'],
    ]);
    expect(digest.status).toBe(200);
    const afterDigest = await stored(ada);
    expect(afterDigest).toMatchObject({ state: 'active', frequency: 'digest', lang: 'zh-CN' });
    expect(afterDigest?.topics ?? []).toEqual([]);
  });

  it('unsubscribes from everything like the one-click link, after which the page has nothing to manage', async () => {
    const grace = await reader('prefs-leave');
    const link = stack.composition.subscriptions.preferencesUrl(grace.id);
    const left = await postChoices(link, [['action', 'unsubscribe']]);
    expect(left.status).toBe(200);
    expect(heading(await left.text())).toBe('You are unsubscribed');
    expect((await stored(grace))?.state).toBe('unsubscribed');

    const revisited = await fetch(link);
    expect(revisited.status).toBe(410);
    expect(heading(await revisited.text())).toBe('You are unsubscribed');
    const late = await postChoices(link, [
      ['topics', 'rust'],
      ['frequency', 'digest'],
      ['lang', 'en'],
    ]);
    expect(late.status).toBe(410);
    expect(await stored(grace)).not.toHaveProperty('frequency');
    // A second press (a double click, a reload) is as fine as a second one-click.
    expect((await postChoices(link, [['action', 'unsubscribe']])).status).toBe(200);
  });

  it('answers a damaged, forged or other link with a 400 page that says which link to use, and changes nothing', async () => {
    const li = await reader('prefs-bad-link');
    const unsubscribeToken = new URL(stack.composition.subscriptions.unsubscribeUrl(li.id)).searchParams.get('token');
    const good = stack.composition.subscriptions.preferencesUrl(li.id);
    const forged = `${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const link of [
      `${stack.urls.app}/preferences`,
      `${stack.urls.app}/preferences?token=nonsense`,
      `${stack.urls.app}/preferences?token=${unsubscribeToken}`,
      forged,
    ]) {
      const shown = await fetch(link);
      const page = await shown.text();
      expect(shown.status, link).toBe(400);
      expect(heading(page)).toBe('This link does not work');
      expect(page).toContain('Manage your subscription');
      const pressed = await postChoices(link, [
        ['frequency', 'digest'],
        ['lang', 'en'],
        ['topics', 'rust'],
      ]);
      expect(pressed.status, link).toBe(400);
      expect((await postChoices(link, [['action', 'unsubscribe']])).status, link).toBe(400);
    }
    expect(await stored(li)).toEqual(li);
  });

  it('shows the form again with what to fix for a value the page does not offer, and saves nothing', async () => {
    const li = await reader('prefs-bad-values', 'active', 'zh-CN');
    const link = stack.composition.subscriptions.preferencesUrl(li.id);
    const cases: { fields: [string, string][]; alert: string }[] = [
      {
        fields: [
          ['topics', 'cooking'],
          ['frequency', 'digest'],
          ['lang', 'zh-CN'],
        ],
        alert: '请至少勾选下面的一个主题',
      },
      {
        fields: [
          ['frequency', 'digest'],
          ['lang', 'zh-CN'],
        ],
        alert: '请至少勾选下面的一个主题',
      },
      {
        fields: [
          ['topics', 'rust'],
          ['frequency', 'hourly'],
          ['lang', 'zh-CN'],
        ],
        alert: '请选择频率',
      },
      {
        fields: [
          ['topics', 'rust'],
          ['frequency', 'digest'],
          ['lang', 'fr'],
        ],
        alert: '请选择 English 或中文',
      },
      {
        // Twice, as a hand-made request might: refused, not read as the first value.
        fields: [
          ['topics', 'rust'],
          ['frequency', 'digest'],
          ['frequency', 'post'],
          ['lang', 'zh-CN'],
        ],
        alert: '请选择频率',
      },
    ];
    for (const { fields, alert } of cases) {
      const response = await postChoices(link, fields);
      const page = await response.text();
      expect(response.status, JSON.stringify(fields)).toBe(400);
      expect(page).toMatch(new RegExp(`role="alert">${alert}`));
      expect(page).toContain('<form method="post" class="prefs">');
    }
    // What the reader had ticked stays ticked, so one fix is enough.
    const kept = await (await postChoices(link, cases[2]!.fields)).text();
    expect(ticked(kept, 'topics')).toEqual(['rust']);
    const json = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ frequency: 'digest', lang: 'en' }),
    });
    expect(json.status).toBe(415);
    // Not the signup's "form-encoded or JSON": JSON is what was sent.
    expect(await json.text()).toContain('Send the preferences form as application/x-www-form-urlencoded');
    expect(await stored(li)).toEqual(li);
  });

  it('tells a bounced or forgotten reader there is nothing to manage, and lets a pending one save', async () => {
    const bounced = await reader('prefs-bounced');
    await stack.composition.subscribers.suppress(bounced.id, 'bounced', new Date());
    const stopped = await fetch(stack.composition.subscriptions.preferencesUrl(bounced.id));
    expect(stopped.status).toBe(410);
    expect(heading(await stopped.text())).toBe('Emails to this address have stopped');

    const forgotten = await reader('prefs-forgotten');
    await stack.composition.subscribers.delete(forgotten.id);
    const gone = await fetch(stack.composition.subscriptions.preferencesUrl(forgotten.id));
    expect(gone.status).toBe(410);
    expect(heading(await gone.text())).toBe('This address is no longer on the list');
    // Leaving from the page of an erased reader says the same, not "You are unsubscribed".
    const leftGone = await postChoices(stack.composition.subscriptions.preferencesUrl(forgotten.id), [
      ['action', 'unsubscribe'],
    ]);
    expect(leftGone.status).toBe(410);
    expect(heading(await leftGone.text())).toBe('This address is no longer on the list');
    expect(await stack.composition.subscribers.get(forgotten.id)).toBeUndefined();

    const pending = await reader('prefs-pending', 'pending');
    const link = stack.composition.subscriptions.preferencesUrl(pending.id);
    const page = await (await fetch(link)).text();
    expect(page).toContain('Your subscription is not confirmed yet');
    const saved = await postForm(link, { topics: 'rust', frequency: 'digest', lang: 'en' });
    expect(saved.status).toBe(200);
    expect(await stored(pending)).toMatchObject({ state: 'pending', topics: ['rust'], frequency: 'digest' });
  });
});
