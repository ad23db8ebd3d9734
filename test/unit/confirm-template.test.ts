import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import type { RawMessage } from '../../functions/mail/mailer';
import { ConfirmationMailer } from '../../functions/subscribers/confirmation-email';
import { buildConfirmModule, CONFIRM_GENERATED } from '../../templates/build-confirm';

describe('the confirmation email template', () => {
  it('is compiled from confirm.mjml: the generated module is up to date (run `npm run templates`)', async () => {
    expect(await buildConfirmModule()).toBe(await readFile(CONFIRM_GENERATED, 'utf8'));
  });

  it('greets the reader by name when an import gave one, in either language, and only then', async () => {
    const sent: RawMessage[] = [];
    const mailer = new ConfirmationMailer(
      { sendRaw: async (message) => (sent.push(message), 'id') },
      readSettings({ PUSHLETTER_SITE_TITLE: 'Field Notes', PUSHLETTER_FROM_ADDRESS: 'news@blog.example' }),
    );
    const url = 'https://api.blog.example/confirm?token=AbC';
    await mailer.sendConfirmation('ada@example.com', url, 'en', 'Ada <Lovelace>');
    await mailer.sendConfirmation('li@example.cn', url, 'zh-CN', '李雷');
    await mailer.sendConfirmation('grace@example.com', url, 'en');
    const [ada, li, grace] = await Promise.all(sent.map((message) => simpleParser(Buffer.from(message.data))));
    expect(ada!.text).toMatch(/^Hi Ada <Lovelace>,$/m);
    expect(ada!.html).toContain('Hi Ada &lt;Lovelace&gt;,<br />Someone, hopefully you');
    expect(li!.text).toMatch(/^李雷，你好：$/m);
    expect(li!.html).toContain('李雷，你好：');
    expect(grace!.text).not.toMatch(/Hi /);
    expect(grace!.html).not.toMatch(/Hi |\{\{greeting\}\}/);
  });

  for (const [lang, subject, button, nextStep] of [
    [
      'en',
      'Confirm your subscription to Blog <&> Co',
      'Confirm subscription',
      'one more click on "Confirm my subscription" starts your subscription',
    ],
    ['zh-CN', '确认订阅 Blog <&> Co', '确认订阅', '再点一次“确认订阅”才会开始订阅'],
  ] as const) {
    it(`builds a complete ${lang} message with the link in both parts`, async () => {
      const sent: RawMessage[] = [];
      const mailer = new ConfirmationMailer(
        {
          sendRaw: async (message) => {
            sent.push(message);
            return 'id-1';
          },
        },
        readSettings({
          PUSHLETTER_SITE_TITLE: 'Blog <&> Co',
          PUSHLETTER_FROM_ADDRESS: 'news@blog.example',
          PUSHLETTER_FROM_NAME: '博客',
        }),
      );
      const url = 'https://api.blog.example/confirm?token=AbC-_123';
      await mailer.sendConfirmation('reader@example.com', url, lang);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.to).toBe('reader@example.com');
      const raw = Buffer.from(sent[0]!.data).toString('latin1');
      expect(raw).not.toMatch(/[^\r]\n/);
      const parsed = await simpleParser(Buffer.from(sent[0]!.data));
      expect(parsed.subject).toBe(subject);
      expect(parsed.to && 'text' in parsed.to ? parsed.to.text : '').toBe('reader@example.com');
      expect(parsed.from?.value[0]).toMatchObject({ address: 'news@blog.example', name: '博客' });
      const link = `${url}&lang=${lang}`;
      expect(parsed.text).toContain(link);
      expect(parsed.html).toContain(`href="${link.replace('&', '&amp;')}"`);
      expect(parsed.html).toContain(button);
      // What the button does, in one sentence, in both parts: scanners open links, people press buttons.
      expect(parsed.text).toContain(nextStep);
      expect(parsed.html).toContain(nextStep.replaceAll('"', '&quot;'));
      expect(parsed.html).toContain('Blog &lt;&amp;&gt; Co');
      expect(parsed.html).toContain(`lang="${lang}"`);
      expect(parsed.html).not.toMatch(/\{\{\w+\}\}/);
      expect(parsed.headers.get('content-language')).toBe(lang);
    });
  }

  describe('when SES fails', () => {
    const settings = readSettings({ PUSHLETTER_FROM_ADDRESS: 'news@blog.example' });
    /** A mailer whose first send fails with `error` and whose later sends succeed. */
    function failingOnce(error: Error) {
      const mailer = { calls: 0 };
      const confirmation = new ConfirmationMailer(
        {
          sendRaw: async () => {
            mailer.calls++;
            if (mailer.calls === 1) throw error;
            return 'id-2';
          },
        },
        settings,
      );
      return {
        mailer,
        send: () =>
          confirmation.sendConfirmation('reader@example.com', 'https://api.blog.example/confirm?token=x', 'en'),
      };
    }

    it('retries once when SES was never reached or throttled the request', async () => {
      for (const error of [
        Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('Maximum sending rate exceeded.'), {
          name: 'Throttling',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      ]) {
        const { mailer, send } = failingOnce(error);
        await send();
        expect(mailer.calls).toBe(2);
      }
    });

    it('does not send again when SES may already have taken the message (a timeout or a reset after sending)', async () => {
      for (const error of [
        Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' }),
        Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      ]) {
        const { mailer, send } = failingOnce(error);
        await expect(send()).rejects.toThrow(error.message);
        expect(mailer.calls).toBe(1);
      }
    });

    it('does not retry a rejection', async () => {
      const { mailer, send } = failingOnce(
        Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected', $fault: 'client' }),
      );
      await expect(send()).rejects.toThrow('not verified');
      expect(mailer.calls).toBe(1);
    });
  });
});
