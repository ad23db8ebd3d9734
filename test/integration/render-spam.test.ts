import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { personalise, valuesForLanguage } from '../../functions/mail/message';
import { compileIssueMessage } from '../../functions/publishing/ingest-post';
import { renderEmail } from '../../functions/render/email';
import { parsePost } from '../../functions/render/post';
import { findSiteRoot, loadSite } from '../../functions/render/site';
import { PREFERENCES_URL_PLACEHOLDER, UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import { spamScore } from './spam-score';

const posts = [
  '../fixtures/blog-zh/_posts/技术/2024-03-08-cluster-upgrade-notes.md',
  '../fixtures/blog-zh/_posts/随笔/2024-01-15-weekly-review.md',
  '../fixtures/blog-en/_posts/2024-05-20-shipping-helm-charts.md',
  '../../examples/blog/_posts/2024-12-02-welcome-to-the-newsletter.md',
].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));

describe('a post email as a subscriber receives it', () => {
  const settings = readSettings({
    PUSHLETTER_FROM_ADDRESS: 'newsletter@blog.example.org',
    PUSHLETTER_FROM_NAME: 'Example Blog',
    PUSHLETTER_PUBLIC_URL: 'https://api.blog.example.org',
  });

  // With aggregate tracking: every link leads to the API's redirect, plus the hidden link and the pixel.
  const tracking = { publicUrl: settings.publicUrl, key: Buffer.alloc(32, 7), opens: true };

  it.each(
    posts.flatMap((path) => [
      [path, 'off'],
      [path, 'aggregate'],
    ]),
  )('scores under 1 with SpamAssassin: %s, tracking %s', async (path, mode) => {
    const site = await loadSite(findSiteRoot(path), settings);
    const post = await parsePost({ path, source: await readFile(path), site });
    const email = await renderEmail(post, site, settings, mode === 'aggregate' ? tracking : undefined);
    if (mode === 'aggregate') expect(email.html).toContain('https://api.blog.example.org/r/');
    const message = compileIssueMessage(email, settings);
    const data = personalise(message, {
      to: 'reader@example.com',
      values: {
        ...valuesForLanguage(message.languageValues, undefined),
        [UNSUBSCRIBE_URL_PLACEHOLDER]:
          'https://api.blog.example.org/unsubscribe?token=AQFrB67TudlLPJUXdhwpGE7coq3KQeHSYLbWxjkPtVxylrq',
        [PREFERENCES_URL_PLACEHOLDER]:
          'https://api.blog.example.org/preferences?token=AQNrB67TudlLPJUXdhwpGE7coq3KQeHSYLbWxjkPtVxylrq',
      },
      date: new Date('2024-12-02T08:00:00Z'),
    });
    const { score, report } = await spamScore(data);
    expect(score, report).toBeLessThan(1);
  });
});
