import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { personalise, valuesForLanguage } from '../../functions/mail/message';
import { compileIssueMessage } from '../../functions/publishing/ingest-post';
import { PREFERENCES_URL_PLACEHOLDER, UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import { fixtureDigest } from '../digest-fixtures';
import { spamScore } from './spam-score';

describe('a weekly digest as a subscriber receives it', () => {
  const settings = readSettings({
    PUSHLETTER_FROM_ADDRESS: 'newsletter@blog.example.org',
    PUSHLETTER_FROM_NAME: 'Example Blog',
    PUSHLETTER_PUBLIC_URL: 'https://api.blog.example.org',
  });

  it.each(['en', 'zh-CN'] as const)('scores under 1 with SpamAssassin, in %s', async (lang) => {
    const email = await fixtureDigest(lang, settings);
    const message = compileIssueMessage(email, settings);
    const data = personalise(message, {
      to: 'reader@example.com',
      values: {
        ...valuesForLanguage(email.footerWords, undefined),
        [PREFERENCES_URL_PLACEHOLDER]:
          'https://api.blog.example.org/preferences?token=AQFrB67TudlLPJUXdhwpGE7coq3KQeHSYLbWxjkPtVxylrq',
        [UNSUBSCRIBE_URL_PLACEHOLDER]:
          'https://api.blog.example.org/unsubscribe?token=AQFrB67TudlLPJUXdhwpGE7coq3KQeHSYLbWxjkPtVxylrq',
      },
      date: new Date('2024-03-11T08:00:00Z'),
    });
    // One-click unsubscribe as every post has it (RFC 8058).
    expect(data.toString('latin1')).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
    const { score, report } = await spamScore(data);
    expect(score, report).toBeLessThan(1);
  });
});
