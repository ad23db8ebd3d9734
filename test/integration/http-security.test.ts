import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  confirmLink,
  heading,
  inbox,
  postForm,
  postJson,
  pressConfirm,
  SITE_URL,
  startTestStack,
  type TestStack,
  uniqueAddress,
} from './http-helpers';

/** What a hostile or careless client can send, against the real local stack. */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.dispose();
});

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;

async function stateOf(address: string) {
  return (await stack.composition.subscribers.findByEmail(address))?.state;
}

async function pendingWithLink(label: string): Promise<{ address: string; link: string; token: string }> {
  const address = uniqueAddress(label);
  await postForm(`${stack.urls.app}/subscribe`, { email: address });
  const link = await confirmLink(stack, address);
  return { address, link, token: new URL(link).searchParams.get('token')! };
}

/** Everything a client can observe, minus the Date header. */
async function observable(response: Response) {
  const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== 'date'));
  return { status: response.status, headers, body: await response.text() };
}

describe('tokens', () => {
  it('refuses a tampered confirmation token and changes nothing', async () => {
    const { address, link, token } = await pendingWithLink('tamper');
    const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    const response = await pressConfirm(link.replace(token, flipped));
    expect(response.status).toBe(400);
    expect(heading(await response.text())).toBe('This confirmation link does not work');
    expect(await stateOf(address)).toBe('pending');

    for (const bad of ['', 'x', token.slice(0, -1), `${token}A`, '../../etc/passwd', '%00']) {
      const attempt = await fetch(`${stack.urls.app}/confirm?token=${encodeURIComponent(bad)}`);
      expect(attempt.status).toBe(400);
    }
    expect((await fetch(`${stack.urls.app}/confirm`)).status).toBe(400);
    expect(await stateOf(address)).toBe('pending');
  });

  it('refuses a confirmation link older than 7 days, with a page that says to sign up again', async () => {
    const { address, link } = await pendingWithLink('expired');
    stack.clock.advance(7 * DAY + MINUTE);
    const response = await pressConfirm(link);
    const page = await response.text();
    expect(response.status).toBe(400);
    expect(page).toContain('more than 7 days old');
    expect(page).toContain('Subscribe again');
    expect(await stateOf(address)).toBe('pending');
  });

  it('does not accept an unsubscribe token as a confirmation or the other way round', async () => {
    const { address, token: confirmToken } = await pendingWithLink('purpose');
    const id = (await stack.composition.subscribers.findByEmail(address))!.id;
    const unsubscribeToken = new URL(stack.composition.subscriptions.unsubscribeUrl(id)).searchParams.get('token')!;

    expect((await fetch(`${stack.urls.app}/confirm?token=${unsubscribeToken}`)).status).toBe(400);
    expect((await pressConfirm(`${stack.urls.app}/confirm?token=${unsubscribeToken}`)).status).toBe(400);
    expect(await stateOf(address)).toBe('pending');

    expect((await fetch(`${stack.urls.app}/unsubscribe?token=${confirmToken}`)).status).toBe(400);
    const oneClick = await postForm(`${stack.urls.app}/unsubscribe?token=${confirmToken}`, {
      'List-Unsubscribe': 'One-Click',
    });
    expect(oneClick.status).toBe(400);
    const button = await postForm(`${stack.urls.app}/unsubscribe?token=${confirmToken}`, {});
    expect(button.status).toBe(400);
    expect(heading(await button.text())).toBe('This unsubscribe link does not work');
    expect(await stateOf(address)).toBe('pending');
  });

  it('refuses a forged unsubscribe token for somebody else', async () => {
    const { address, link } = await pendingWithLink('victim');
    await pressConfirm(link);
    expect(await stateOf(address)).toBe('active');
    const forged = Buffer.alloc(38, 7).toString('base64url');
    const response = await postForm(`${stack.urls.app}/unsubscribe?token=${forged}`, {
      'List-Unsubscribe': 'One-Click',
    });
    expect(response.status).toBe(400);
    expect(await stateOf(address)).toBe('active');
  });
});

describe('enumeration', () => {
  it('answers byte for byte the same for a new, a pending and an active address', async () => {
    const fresh = uniqueAddress('enum-new');
    const pending = await pendingWithLink('enum-pending');
    const active = await pendingWithLink('enum-active');
    await pressConfirm(active.link);
    expect(await stateOf(active.address)).toBe('active');

    for (const send of [
      (email: string) => postForm(`${stack.urls.app}/subscribe`, { email }),
      (email: string) => postJson(`${stack.urls.app}/subscribe`, { email }),
    ]) {
      const answers = [];
      for (const email of [fresh, pending.address, active.address]) answers.push(await observable(await send(email)));
      expect(answers[0]!.status).toBe(200);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    }
    // The active subscriber got no new mail from the probe: the confirmation and the welcome only.
    expect(await inbox(stack, active.address)).toHaveLength(2);
  });
});

describe('abuse of the form', () => {
  it('silently drops a post whose honeypot field is filled, with the usual answer', async () => {
    const bot = uniqueAddress('bot');
    const person = uniqueAddress('person');
    const trapped = await observable(
      await postForm(`${stack.urls.app}/subscribe`, { email: bot, website: 'http://spam.example' }),
    );
    const normal = await observable(await postForm(`${stack.urls.app}/subscribe`, { email: person }));
    expect(trapped).toEqual(normal);
    expect(await stateOf(bot)).toBeUndefined();
    expect(await inbox(stack, bot)).toHaveLength(0);
    expect((await postJson(`${stack.urls.app}/subscribe`, { email: bot, website: 'x' })).status).toBe(200);
    expect(await inbox(stack, bot)).toHaveLength(0);
  });

  it('sends one address at most one confirmation email per 10 minutes', async () => {
    const victim = uniqueAddress('bombed');
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await postForm(`${stack.urls.app}/subscribe`, { email: victim })).status).toBe(200);
    }
    expect(await inbox(stack, victim)).toHaveLength(1);
    stack.clock.advance(9 * MINUTE);
    await postForm(`${stack.urls.app}/subscribe`, { email: victim });
    expect(await inbox(stack, victim)).toHaveLength(1);
    stack.clock.advance(2 * MINUTE);
    await postForm(`${stack.urls.app}/subscribe`, { email: victim });
    expect(await inbox(stack, victim)).toHaveLength(2);
  });

  it('refuses an address carrying header lines: 400, nothing stored, nothing sent', async () => {
    const victim = uniqueAddress('inject');
    const other = uniqueAddress('injected-bcc');
    for (const response of [
      await postForm(`${stack.urls.app}/subscribe`, { email: `${victim}\r\nBcc: ${other}` }),
      await postForm(`${stack.urls.app}/subscribe`, { email: `${victim}\nSubject: hi` }),
      await postJson(`${stack.urls.app}/subscribe`, { email: `${victim}\r\nBcc: ${other}` }),
      await postJson(`${stack.urls.app}/subscribe`, { email: `"x\r\nBcc: ${other}" <${victim}>` }),
    ]) {
      expect(response.status).toBe(400);
    }
    expect(await inbox(stack, victim)).toHaveLength(0);
    expect(await inbox(stack, other)).toHaveLength(0);
    expect(await stateOf(victim)).toBeUndefined();
  });

  it('answers a body over 16 KB with 413 and stores nothing', async () => {
    const address = uniqueAddress('big');
    const form = await postForm(`${stack.urls.app}/subscribe`, { email: address, padding: 'x'.repeat(17 * 1024) });
    expect(form.status).toBe(413);
    expect(heading(await form.text())).toBe('Too much data');
    const json = await postJson(`${stack.urls.app}/subscribe`, { email: address, padding: 'x'.repeat(17 * 1024) });
    expect(json.status).toBe(413);
    expect(await json.json()).toMatchObject({ error: 'tooLarge', message: expect.stringContaining('more than 16 KB') });
    expect(await stateOf(address)).toBeUndefined();
    // Just under the limit is fine.
    const fits = await postForm(`${stack.urls.app}/subscribe`, { email: address, padding: 'x'.repeat(15 * 1024) });
    expect(fits.status).toBe(200);
  });

  it("names the limit of the route that refused the body: 10 MB for the webhook, not the form's 16 KB", async () => {
    const webhook = await fetch(`${stack.urls.app}/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(11 * 1024 * 1024) },
      body: Buffer.alloc(11 * 1024 * 1024, 0x20),
    });
    expect(webhook.status).toBe(413);
    const answer = (await webhook.json()) as { message: string };
    expect(answer.message).toContain('more than 10 MB');
    expect(answer.message).not.toContain('16 KB');
    expect(answer.message).not.toContain('form');
  });

  it('answers malformed JSON with 400 JSON and an unknown body type with 415', async () => {
    for (const body of ['{"email": ', 'null', '[]', '"reader@example.com"', '\u0000']) {
      const response = await postJson(`${stack.urls.app}/subscribe`, body);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    }
    const xml = await fetch(`${stack.urls.app}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<email/>',
    });
    expect(xml.status).toBe(415);
    const missing = await postForm(`${stack.urls.app}/subscribe`, {});
    expect(missing.status).toBe(400);
  });
});

describe('the HTTP surface', () => {
  it('answers unknown paths with a 404 page and wrong methods with 405', async () => {
    const missing = await fetch(`${stack.urls.app}/wp-login.php`);
    expect(missing.status).toBe(404);
    expect(heading(await missing.text())).toBe('Page not found');
    const wrong = await fetch(`${stack.urls.app}/subscribe`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await fetch(`${stack.urls.app}/confirm`, { method: 'DELETE' })).status).toBe(405);
  });

  it('sends the security headers on every answer', async () => {
    for (const response of [
      await fetch(`${stack.urls.app}/`),
      await fetch(`${stack.urls.app}/nowhere`),
      await postJson(`${stack.urls.app}/subscribe`, '{'),
    ]) {
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('allows the blog origin through CORS, preflight included, and nobody else', async () => {
    const preflight = await fetch(`${stack.urls.app}/subscribe`, {
      method: 'OPTIONS',
      headers: {
        origin: SITE_URL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(SITE_URL);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');

    const post = await postJson(`${stack.urls.app}/subscribe`, { email: uniqueAddress('cors') }, { origin: SITE_URL });
    expect(post.headers.get('access-control-allow-origin')).toBe(SITE_URL);

    const stranger = await fetch(`${stack.urls.app}/subscribe`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    const strangerPost = await postJson(
      `${stack.urls.app}/subscribe`,
      { email: uniqueAddress('cors2') },
      { origin: 'https://evil.example' },
    );
    expect(strangerPost.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('never answers garbage with a 5xx', async () => {
    const attempts: [string, RequestInit][] = [
      [
        '/subscribe',
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%%%&&&=%E0%A4%A' },
      ],
      [
        '/subscribe',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email": 42, "lang": {"x": 1}}' },
      ],
      [
        '/subscribe',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__": {"email": "a@b.c"}}' },
      ],
      ['/subscribe', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' }],
      ['/subscribe', { method: 'POST', body: new Uint8Array([0xff, 0xfe, 0x00, 0x41]) }],
      [
        '/subscribe?lang=%ZZ',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `email=${'a'.repeat(5000)}@example.com`,
        },
      ],
      [
        '/subscribe',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'email=%F0%9F%92%A9%40example.com&lang=<script>',
        },
      ],
      ['/confirm?token=%E0%A4%A', { method: 'GET' }],
      ['/unsubscribe?token=&token=x', { method: 'POST', body: 'List-Unsubscribe=One-Click' }],
      ['/unsubscribe', { method: 'GET' }],
      ['/?lang=<script>alert(1)</script>', { method: 'GET' }],
      ['//subscribe', { method: 'POST', body: 'email=a@b.c' }],
      ['/%2e%2e/%2e%2e/etc/passwd', { method: 'GET' }],
    ];
    for (const [path, init] of attempts) {
      const response = await fetch(`${stack.urls.app}${path}`, init);
      expect(response.status, `${init.method} ${path}`).toBeLessThan(500);
      expect(await response.text()).not.toContain('<script>');
    }
  });
});
