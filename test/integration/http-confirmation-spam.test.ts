import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import type { RawMessage } from '../../functions/mail/mailer';
import { ConfirmationMailer } from '../../functions/subscribers/confirmation-email';

const run = promisify(execFile);

/** A confirmation email in the spam folder is a lost subscriber: SpamAssassin (local rules only) must pass it. */
async function spamScore(message: Uint8Array): Promise<{ score: number; report: string }> {
  const child = run('spamassassin', ['-L', '-t'], { maxBuffer: 4 * 1024 * 1024 });
  child.child.stdin!.end(Buffer.from(message));
  const { stdout } = await child;
  const score = /^X-Spam-Status: \w+, score=(-?[\d.]+)/m.exec(stdout)?.[1];
  if (score === undefined) throw new Error('spamassassin printed no X-Spam-Status');
  return { score: Number(score), report: stdout.slice(stdout.indexOf('Content analysis details')) };
}

describe('the confirmation email', () => {
  it.each(['en', 'zh-CN'])('scores well under the spam threshold in %s', async (lang) => {
    const sent: RawMessage[] = [];
    const mailer = new ConfirmationMailer(
      {
        sendRaw: async (message) => {
          sent.push(message);
          return 'id';
        },
      },
      readSettings({ PUSHLETTER_FROM_ADDRESS: 'newsletter@blog.example.org', PUSHLETTER_SITE_TITLE: 'Example Blog' }),
    );
    await mailer.sendConfirmation(
      'reader@example.com',
      'https://api.blog.example.org/confirm?token=AQFrB67TudlLPJUXdhwpGE7coq3KQeHSYLbWxjkPtVxylrqMRaE',
      lang,
    );
    const { score, report } = await spamScore(sent[0]!.data);
    expect(score, report).toBeLessThan(1);
  });
});
