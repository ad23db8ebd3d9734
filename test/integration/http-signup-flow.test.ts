import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  confirmLink,
  heading,
  inbox,
  postForm,
  postJson,
  pressConfirm,
  startTestStack,
  type TestStack,
  uniqueAddress,
} from './http-helpers';

/**
 * A reader's whole life on the list, through the local stack's HTTP server, dynalite and the
 * SES emulator: sign up, get the email, confirm, leave by the page and by one-click, come back.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.dispose();
});

async function stateOf(address: string) {
  return (await stack.composition.subscribers.findByEmail(address))?.state;
}

async function subscribeAndConfirm(address: string): Promise<void> {
  expect((await postForm(`${stack.urls.app}/subscribe`, { email: address })).status).toBe(200);
  expect((await pressConfirm(await confirmLink(stack, address))).status).toBe(200);
  expect(await stateOf(address)).toBe('active');
}

describe('signing up', () => {
  it('serves a form that posts the address to /subscribe', async () => {
    const response = await fetch(`${stack.urls.app}/`);
    const page = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page).toContain('<form method="post" action="subscribe">');
    expect(page).toMatch(/<label for="email">Email address<\/label>/);
    expect(page).toContain('id="email" name="email" type="email" required');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it('serves the form in Chinese for ?lang=zh-CN', async () => {
    const page = await (await fetch(`${stack.urls.app}/?lang=zh-CN`)).text();
    expect(page).toContain('<html lang="zh-CN">');
    expect(heading(page)).toBe('订阅 Example Blog');
  });

  it('stores a pending subscriber and mails a link to a page whose button activates it', async () => {
    const address = uniqueAddress('flow');
    const response = await postForm(`${stack.urls.app}/subscribe`, { email: address });
    expect(response.status).toBe(200);
    expect(heading(await response.text())).toBe('Check your inbox');
    expect(await stateOf(address)).toBe('pending');

    const [email] = await inbox(stack, address);
    expect(email?.subject).toBe('Confirm your subscription to Example Blog');
    expect(email?.body.html).toContain('Confirm subscription');
    const link = await confirmLink(stack, address);
    expect(link.startsWith(`${stack.urls.app}/confirm?token=`)).toBe(true);
    expect(email?.body.html).toContain(link.replaceAll('&', '&amp;'));

    // Opening the link shows the button and changes nothing.
    const shown = await fetch(link);
    const page = await shown.text();
    expect(shown.status).toBe(200);
    expect(heading(page)).toBe('Confirm your subscription to Example Blog');
    expect(page).toContain('<form method="post">');
    expect(page).toContain('until you do, nothing changes');
    expect(await stateOf(address)).toBe('pending');

    const confirmed = await pressConfirm(link);
    expect(confirmed.status).toBe(200);
    expect(heading(await confirmed.text())).toBe('You are subscribed');
    expect(await stateOf(address)).toBe('active');

    const again = await fetch(link);
    expect(again.status).toBe(200);
    expect(heading(await again.text())).toBe('Already confirmed');
  });

  it('stores the consent record with a hash of the client address, not the address', async () => {
    const address = uniqueAddress('consent');
    await postForm(`${stack.urls.app}/subscribe`, { email: address });
    const subscriber = await stack.composition.subscribers.findByEmail(address);
    expect(subscriber?.consent.source).toBe('form');
    expect(subscriber?.consent.ipHash).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(JSON.stringify(subscriber)).not.toContain('127.0.0.1');
  });

  it('mails the confirmation in the language of the form the reader used', async () => {
    const address = uniqueAddress('zh');
    const response = await postForm(`${stack.urls.app}/subscribe`, { email: address, lang: 'zh-CN' });
    expect(heading(await response.text())).toBe('请查收邮件');
    const [email] = await inbox(stack, address);
    expect(email?.subject).toBe('确认订阅 Example Blog');
    const link = await confirmLink(stack, address);
    expect(heading(await (await fetch(link)).text())).toBe('确认订阅 Example Blog');
    const confirmed = await pressConfirm(link);
    expect(heading(await confirmed.text())).toBe('订阅成功');
  });

  it('answers JSON with JSON', async () => {
    const address = uniqueAddress('json');
    const response = await postJson(`${stack.urls.app}/subscribe`, { email: address });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ status: 'check-inbox' });
    expect(await inbox(stack, address)).toHaveLength(1);
  });

  it('refuses a JSON field sent as a number, list or object, naming it, instead of dropping it', async () => {
    const address = uniqueAddress('not-text');
    for (const [field, value] of [
      ['frequency', ['digest']],
      ['frequency', { x: 'digest' }],
      ['frequency', 1],
      ['lang', ['zh-CN']],
      ['email', 123],
    ] as const) {
      const response = await postJson(`${stack.urls.app}/subscribe`, { email: address, [field]: value });
      expect(response.status, `${field}: ${JSON.stringify(value)}`).toBe(400);
      expect(await response.json()).toEqual({
        error: 'fieldNotText',
        field,
        message: `The "${field}" field must be text (a JSON string), not a number, list or object.`,
      });
    }
    const chinese = await postJson(`${stack.urls.app}/subscribe`, { email: address, lang: 'zh-CN', frequency: 7 });
    expect(((await chinese.json()) as { message: string }).message).toBe(
      '“frequency”字段必须是文本（JSON 字符串），不能是数字、列表或对象。',
    );
    expect(await stack.composition.subscribers.findByEmail(address)).toBeUndefined();
    expect(await inbox(stack, address)).toHaveLength(0);
  });

  it('refuses a form that sends frequency or lang twice, rather than guessing which one was meant', async () => {
    const address = uniqueAddress('repeated');
    const form = (fields: [string, string][]) =>
      fetch(`${stack.urls.app}/subscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([['email', address], ...fields]).toString(),
      });
    const twice = await form([
      ['frequency', 'digest'],
      ['frequency', 'post'],
    ]);
    expect(twice.status).toBe(400);
    expect(await twice.text()).toMatch(
      /role="alert">The (&quot;|")frequency(&quot;|") field was sent more than once; send it once\./,
    );
    const langs = await form([
      ['lang', 'zh-CN'],
      ['lang', 'zh-CN'],
    ]);
    expect(langs.status).toBe(400);
    expect(await langs.text()).toContain('role="alert">“lang”字段提交了不止一次，请只提交一次。');
    expect(await stack.composition.subscribers.findByEmail(address)).toBeUndefined();
  });

  it('shows the form again with the problem when the address is mistyped', async () => {
    const response = await postForm(`${stack.urls.app}/subscribe`, { email: 'reader@gmial.com' });
    const page = await response.text();
    expect(response.status).toBe(400);
    expect(page).toContain('role="alert"');
    expect(page).toContain('Did you mean reader@gmail.com?');
    expect(page).toContain('aria-invalid="true" value="reader@gmial.com"');
    expect(page).toContain('<input type="hidden" name="email" value="reader@gmail.com">');
    expect(page).toContain('Subscribe reader@gmail.com instead</button>');
    const chinese = await (
      await postForm(`${stack.urls.app}/subscribe`, { email: 'reader@gmial.com', lang: 'zh-CN' })
    ).text();
    expect(chinese).toContain('请检查邮箱地址：<span lang="en">');
    expect(chinese).toContain('改用 reader@gmail.com 订阅</button>');
    const json = await postJson(`${stack.urls.app}/subscribe`, { email: 'reader@gmial.com' });
    expect(await json.json()).toMatchObject({ error: 'invalidAddress', suggestion: 'reader@gmail.com' });
    expect(await inbox(stack, 'reader@gmial.com')).toHaveLength(0);
  });

  it('accepts an internationalised domain', async () => {
    const response = await postJson(`${stack.urls.app}/subscribe`, { email: 'leser@bücher.example' });
    expect(response.status).toBe(200);
    expect(await stateOf('leser@xn--bcher-kva.example')).toBe('pending');
  });
});

describe('leaving', () => {
  it('shows a page with a button on GET and changes nothing until the button is pressed', async () => {
    const address = uniqueAddress('page');
    await subscribeAndConfirm(address);
    const subscriber = await stack.composition.subscribers.findByEmail(address);
    const link = stack.composition.subscriptions.unsubscribeUrl(subscriber!.id);

    const shown = await fetch(link);
    const page = await shown.text();
    expect(shown.status).toBe(200);
    expect(heading(page)).toBe('Unsubscribe from Example Blog?');
    expect(page).toContain('<form method="post">');
    expect(await stateOf(address)).toBe('active');

    // What the browser does with the form: post back to the same URL, empty body.
    const pressed = await postForm(link, {});
    expect(pressed.status).toBe(200);
    expect(heading(await pressed.text())).toBe('You are unsubscribed');
    expect(await stateOf(address)).toBe('unsubscribed');

    const revisited = await fetch(link);
    expect(heading(await revisited.text())).toBe('You are unsubscribed');
  });

  it('unsubscribes with an RFC 8058 one-click POST, no page, no cookie', async () => {
    const address = uniqueAddress('oneclick');
    await subscribeAndConfirm(address);
    const subscriber = await stack.composition.subscribers.findByEmail(address);
    const link = stack.composition.subscriptions.unsubscribeUrl(subscriber!.id);

    const response = await postForm(link, { 'List-Unsubscribe': 'One-Click' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await stateOf(address)).toBe('unsubscribed');

    // A second one-click (mail providers retry) is just as fine.
    expect((await postForm(link, { 'List-Unsubscribe': 'One-Click' })).status).toBe(200);
  });

  it('accepts the one-click body as multipart/form-data too', async () => {
    const address = uniqueAddress('multipart');
    await subscribeAndConfirm(address);
    const subscriber = await stack.composition.subscribers.findByEmail(address);
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const response = await fetch(stack.composition.subscriptions.unsubscribeUrl(subscriber!.id), {
      method: 'POST',
      body: form,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Unsubscribed.\n');
    expect(await stateOf(address)).toBe('unsubscribed');
  });

  it('lets an unsubscribed reader come back through a new opt-in', async () => {
    const address = uniqueAddress('return');
    await subscribeAndConfirm(address);
    const subscriber = await stack.composition.subscribers.findByEmail(address);
    await postForm(stack.composition.subscriptions.unsubscribeUrl(subscriber!.id), { 'List-Unsubscribe': 'One-Click' });
    expect(await stateOf(address)).toBe('unsubscribed');

    // The old confirmation link must not undo the unsubscribe.
    const oldLink = await confirmLink(stack, address);
    expect((await fetch(oldLink)).status).toBe(400);
    expect((await pressConfirm(oldLink)).status).toBe(400);
    expect(await stateOf(address)).toBe('unsubscribed');

    // Past the 10-minute window of the first confirmation email.
    stack.clock.advance(11 * 60 * 1000);
    const response = await postForm(`${stack.urls.app}/subscribe`, { email: address });
    expect(response.status).toBe(200);
    expect(await stateOf(address)).toBe('pending');
    // The first confirmation, the welcome after it, the new confirmation.
    expect(await inbox(stack, address)).toHaveLength(3);
    const newLink = await confirmLink(stack, address);
    expect(newLink).not.toBe(oldLink);
    expect(heading(await (await pressConfirm(newLink)).text())).toBe('You are subscribed');
    expect(await stateOf(address)).toBe('active');
  });
});
