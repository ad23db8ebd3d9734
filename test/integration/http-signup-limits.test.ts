import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSignupSettings, type SignupSettings } from '../../functions/commons/config';
import { startLocalStack } from '../../functions/local/stack';
import { ANSWER_FLOOR_MS } from '../../functions/subscribers/service';
import { type DnsStandIn, startDnsStandIn } from './dns-stand-in';
import {
  heading,
  type InboxEmail,
  inbox,
  startTestStack,
  TestClock,
  type TestStack,
  testSettings,
  uniqueAddress,
} from './http-helpers';

/**
 * The public form against bots, on the local stack: limits per client (the socket's address:
 * each test client binds its own 127.0.0.x), per mailbox and per hour, throwaway and dead
 * domains, and the CAPTCHA against a stand-in of its verification endpoint.
 */
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
/** Dozens of signups, each answered no sooner than a typical send: room for a loaded machine. */
const SLOW_TEST = { timeout: 300_000 };

function signupSettings(overrides: Partial<SignupSettings> = {}): SignupSettings {
  return { ...readSignupSettings({}), ...overrides };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A POST to /subscribe from the client address `client` (any 127.0.0.0/8 address is this machine). */
function postFrom(
  client: string,
  stack: { urls: { app: string } },
  fields: Record<string, string>,
  options: { json?: boolean } = {},
): Promise<Answer> {
  const url = new URL(`${stack.urls.app}/subscribe`);
  const body = options.json ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: client,
        headers: options.json
          ? { 'content-type': 'application/json', accept: 'application/json' }
          : { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function stateOf(stack: TestStack, address: string) {
  return (await stack.composition.subscribers.findByEmail(address))?.state;
}

describe('limits per client and per mailbox', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ signup: signupSettings({ limits: true }) });
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it(
    'gives one client 5 signups per 10 minutes and 20 a day, then 429 with a page that says when to come back',
    SLOW_TEST,
    async () => {
      const client = '127.0.0.11';
      const addresses = Array.from({ length: 8 }, (_, index) => uniqueAddress(`flood${index}`));
      const answers: Answer[] = [];
      for (const email of addresses) answers.push(await postFrom(client, stack, { email }));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);

      const refused = answers[5]!;
      expect(heading(refused.body)).toBe('Too many signups');
      expect(refused.body).toMatch(/Try again in about 10 minutes \(after \d\d:\d\d UTC\)\./);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(9 * 60);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(10 * 60);
      for (const email of addresses.slice(0, 5)) expect(await inbox(stack, email)).toHaveLength(1);
      for (const email of addresses.slice(5)) {
        expect(await stateOf(stack, email)).toBeUndefined();
        expect(await inbox(stack, email)).toHaveLength(0);
      }

      // The reader's language, and JSON for scripts.
      const chinese = await postFrom(client, stack, { email: uniqueAddress('zh'), lang: 'zh-CN' });
      expect(chinese.status).toBe(429);
      expect(heading(chinese.body)).toBe('订阅请求过多');
      expect(chinese.body).toMatch(/请约 10 分钟后再试（UTC \d\d:\d\d 之后）/);
      const json = await postFrom(client, stack, { email: uniqueAddress('json') }, { json: true });
      expect(json.status).toBe(429);
      expect(JSON.parse(json.body)).toMatchObject({
        error: 'tooManySignups',
        retryAfter: expect.any(Number),
        message: expect.stringContaining('Try again in about 10 minutes'),
      });

      // Another client is not affected.
      expect((await postFrom('127.0.0.12', stack, { email: uniqueAddress('neighbour') })).status).toBe(200);

      // Three more windows of 5, then the day's 20 are used up.
      for (let window = 1; window < 4; window++) {
        stack.clock.advance(10 * MINUTE + 1_000);
        const statuses = [];
        for (let index = 0; index < 6; index++)
          statuses.push((await postFrom(client, stack, { email: uniqueAddress(`window${window}`) })).status);
        expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      }
      stack.clock.advance(10 * MINUTE + 1_000);
      const dayOver = await postFrom(client, stack, { email: uniqueAddress('day') });
      expect(dayOver.status).toBe(429);
      expect(dayOver.body).toMatch(/Try again in about 2\d hours/);
    },
  );

  it('counts an IPv6 /64 as one client', async () => {
    const { clientOf } = await import('../../functions/subscribers/guard');
    expect(clientOf('2001:db8:1:2:aaaa::1')).toBe(clientOf('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(clientOf('2001:db8:1:3::1')).not.toBe(clientOf('2001:db8:1:2::1'));
    expect(clientOf('::ffff:198.51.100.7')).toBe('198.51.100.7');
  });

  it(
    'sends one mailbox, however it is spelled, one confirmation per 10 minutes and 3 a day, with the ordinary answer',
    SLOW_TEST,
    async () => {
      const base = `mailbox${process.pid}`;
      const spellings = [
        `${base}@gmail.com`,
        `${base}+news@gmail.com`,
        `${base.slice(0, 3)}.${base.slice(3)}@googlemail.com`,
        `${base}+a@gmail.com`,
        `${base}+b@gmail.com`,
        `${base}+c@gmail.com`,
        `${base}+d@gmail.com`,
      ];
      const toMailbox = (emails: InboxEmail[]) =>
        emails.filter((email) =>
          email.destination.to.some(
            (to) =>
              to
                .replace(/\+[^@]*/, '')
                .replaceAll('.', '')
                .replace('googlemail', 'gmail') === `${base}@gmailcom`,
          ),
        );
      const normal = await postFrom('127.0.0.21', stack, { email: uniqueAddress('ordinary') });

      let client = 30;
      const signUp = async (email: string) => {
        const answer = await postFrom(`127.0.0.${client++}`, stack, { email });
        expect(answer.status).toBe(200);
        expect(answer.body).toBe(normal.body);
      };
      for (const email of spellings.slice(0, 3)) await signUp(email);
      expect(toMailbox(await inbox(stack))).toHaveLength(1);
      // Each spelling is stored as typed.
      for (const email of spellings.slice(0, 3))
        expect((await stack.composition.subscribers.findByEmail(email))?.email).toBe(email);

      stack.clock.advance(10 * MINUTE + 1_000);
      await signUp(spellings[3]!);
      expect(toMailbox(await inbox(stack))).toHaveLength(2);
      stack.clock.advance(10 * MINUTE + 1_000);
      await signUp(spellings[4]!);
      expect(toMailbox(await inbox(stack))).toHaveLength(3);
      stack.clock.advance(10 * MINUTE + 1_000);
      await signUp(spellings[5]!);
      expect(toMailbox(await inbox(stack))).toHaveLength(3);
      stack.clock.advance(24 * HOUR);
      await signUp(spellings[6]!);
      expect(toMailbox(await inbox(stack))).toHaveLength(4);
    },
  );

  it('refuses an address at a throwaway domain with a message that says what to use instead', async () => {
    const email = `reader${process.pid}@mailinator.com`;
    const answer = await postFrom('127.0.0.40', stack, { email }, { json: true });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: 'invalidAddress',
      message: expect.stringContaining('mailinator.com hands out throwaway addresses'),
    });
    const page = await postFrom('127.0.0.40', stack, { email: `reader${process.pid}@sub.mailinator.com` });
    expect(page.status).toBe(400);
    expect(page.body).toContain('Use the address you read every day.');
    expect(await stateOf(stack, email)).toBeUndefined();
    expect(await inbox(stack, 'mailinator.com')).toHaveLength(0);
  });
});

describe('the hourly cap on confirmation emails', () => {
  let stack: TestStack;
  let dataDir: string;
  const clock = new TestClock();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pushletter-cap-'));
    const local = await startLocalStack({
      dataDir,
      ports: { http: 0, ses: 0, dynamodb: 0 },
      settings: testSettings({ signup: signupSettings({ limits: true, confirmationsPerHour: 20 }) }),
      clock,
      waitingConfirmationsEveryMs: 300,
    });
    stack = { ...local, clock, dataDir, dispose: async () => {} };
    // Start a minute into a fresh clock hour, so the whole flood falls in one hour.
    const now = clock.now().getTime();
    clock.advance(HOUR - (now % HOUR) + MINUTE);
  });

  afterAll(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function waitForInbox(count: number): Promise<InboxEmail[]> {
    for (;;) {
      const emails = (await inbox(stack)).filter((email) =>
        email.destination.to.some((to) => to.startsWith('botnet-')),
      );
      if (emails.length >= count) return emails;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it(
    'stores a flood from many clients, sends 20 this hour and the rest in later hours, each exactly once',
    SLOW_TEST,
    async () => {
      const addresses = Array.from({ length: 50 }, (_, index) => uniqueAddress(`botnet-${index}`));
      let next = 0;
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next < addresses.length) {
            const index = next++;
            statuses.push((await postFrom(`127.0.1.${index + 1}`, stack, { email: addresses[index]! })).status);
          }
        }),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(50);
      for (const email of addresses) expect(await stateOf(stack, email)).toBe('pending');
      expect(await waitForInbox(20)).toHaveLength(20);
      // Still this hour: the timer runs, and nothing more goes out.
      expect(await stack.composition.subscriptions.sendWaitingConfirmations()).toBe(0);
      expect(
        (await inbox(stack)).filter((email) => email.destination.to.some((to) => to.startsWith('botnet-'))),
      ).toHaveLength(20);

      clock.advance(HOUR);
      expect(await waitForInbox(40)).toHaveLength(40);
      clock.advance(HOUR);
      const all = await waitForInbox(50);
      const perAddress = new Map<string, number>();
      for (const email of all) for (const to of email.destination.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
      expect([...perAddress.keys()].sort()).toEqual([...addresses].sort());
      expect([...perAddress.values()].every((count) => count === 1)).toBe(true);
      expect(await stack.composition.signupLimits!.waiting(10)).toEqual([]);
    },
  );
});

describe('domains that cannot receive mail', () => {
  let stack: TestStack;
  let dns: DnsStandIn;

  beforeAll(async () => {
    dns = await startDnsStandIn({
      'mx-ok.test': { MX: ['mail.mx-ok.test'] },
      'a-only.test': { A: ['192.0.2.1'] },
      'no-records.test': {},
      'null-mx.test': { MX: [''] },
      'broken.test': 'servfail',
      'silent.test': 'silent',
    });
    stack = await startTestStack({
      signup: signupSettings({ checkDomainDns: true, dnsServers: [dns.server], dnsTimeoutMs: 300 }),
    });
  });

  afterAll(async () => {
    await stack?.dispose();
    await dns?.close();
  });

  it.each([
    ['mx-ok.test', 200],
    ['a-only.test', 200],
    ['no-such-domain.test', 400],
    ['no-records.test', 400],
    ['null-mx.test', 400],
    ['broken.test', 200],
    ['silent.test', 200],
  ])('%s: %i', async (domain, status) => {
    const email = `reader-${process.pid}@${domain}`;
    const answer = await postFrom('127.0.0.50', stack, { email }, { json: true });
    expect(answer.status).toBe(status);
    if (status === 400) {
      expect(JSON.parse(answer.body).message).toBe(
        `The domain ${domain} cannot receive email (it has no mail server). Check the part after the @.`,
      );
      expect(await stateOf(stack, email)).toBeUndefined();
    } else {
      expect(await stateOf(stack, email)).toBe('pending');
    }
    expect(dns.asked).toContain(`${domain} MX`);
  });
});

describe('the answer time of a fresh process', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it('pads the very first answer, for an address already subscribed, to a typical send', async () => {
    const email = uniqueAddress('already');
    await stack.composition.subscribers.createIfAbsent({
      email,
      state: 'active',
      consent: { at: new Date().toISOString(), source: 'import' },
    });
    const started = performance.now();
    const answer = await postFrom('127.0.0.60', stack, { email });
    expect(answer.status).toBe(200);
    // A lower bound only: load can make it slower, never faster. Before, it answered at once.
    expect(performance.now() - started).toBeGreaterThanOrEqual(ANSWER_FLOOR_MS * 0.9);
    expect(await inbox(stack, email)).toHaveLength(0);
  });
});

describe('the CAPTCHA (Cloudflare Turnstile)', () => {
  let stack: TestStack;
  let dataDir: string;
  let verifier: Server;
  const checks: URLSearchParams[] = [];

  beforeAll(async () => {
    // The stand-in of Turnstile's siteverify: one answer is right.
    verifier = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        checks.push(form);
        const success = form.get('secret') === 'turnstile-secret' && form.get('response') === 'solved';
        outgoing.writeHead(200, { 'content-type': 'application/json' });
        outgoing.end(
          JSON.stringify(success ? { success: true } : { success: false, 'error-codes': ['invalid-input-response'] }),
        );
      });
    });
    await new Promise<void>((resolve) => verifier.listen(0, '127.0.0.1', resolve));
    dataDir = await mkdtemp(join(tmpdir(), 'pushletter-captcha-'));
    await writeFile(
      join(dataDir, 'secrets.json'),
      JSON.stringify({
        tokenKey: Buffer.alloc(32, 7).toString('base64'),
        webhookSecret: 'w'.repeat(32),
        captchaSecret: 'turnstile-secret',
      }),
    );
    const verifyUrl = `http://127.0.0.1:${(verifier.address() as AddressInfo).port}/siteverify`;
    const clock = new TestClock();
    const local = await startLocalStack({
      dataDir,
      ports: { http: 0, ses: 0, dynamodb: 0 },
      settings: testSettings({ signup: signupSettings({ captcha: { siteKey: 'site-key-123', verifyUrl } }) }),
      clock,
    });
    stack = { ...local, clock, dataDir, dispose: async () => {} };
  });

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => verifier?.close(resolve));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the widget, refuses a signup without a solved challenge, and accepts a solved one', async () => {
    const form = await fetch(`${stack.urls.app}/`);
    const page = await form.text();
    expect(page).toContain('<div class="cf-turnstile" data-sitekey="site-key-123"></div>');
    expect(page).toContain('<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>');
    expect(form.headers.get('content-security-policy')).toContain('script-src https://challenges.cloudflare.com');

    const email = uniqueAddress('captcha');
    const unsolved = await postFrom('127.0.0.70', stack, { email });
    expect(unsolved.status).toBe(400);
    expect(unsolved.body).toContain('Please complete the check that you are a person');
    expect(unsolved.body).toContain(`value="${email}"`);
    const wrong = await postFrom('127.0.0.70', stack, { email, 'cf-turnstile-response': 'guessed' }, { json: true });
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: 'captchaFailed' });
    expect(await stateOf(stack, email)).toBeUndefined();

    const solved = await postFrom('127.0.0.70', stack, { email, 'cf-turnstile-response': 'solved' });
    expect(solved.status).toBe(200);
    expect(await stateOf(stack, email)).toBe('pending');
    expect(checks.at(-1)?.get('remoteip')).toBe('127.0.0.70');
  });

  it('is off by default: the form has no script and needs no JavaScript', async () => {
    const plain = await startTestStack();
    try {
      const response = await fetch(`${plain.urls.app}/`);
      const page = await response.text();
      expect(page).not.toContain('<script');
      expect(response.headers.get('content-security-policy')).not.toContain('script-src');
    } finally {
      await plain.dispose();
    }
  });
});
