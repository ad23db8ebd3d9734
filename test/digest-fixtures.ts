import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../functions/commons/config';
import { valuesForLanguage } from '../functions/mail/message';
import { type DigestEmail, renderDigestEmail } from '../functions/render/digest-email';
import { fillEmail } from '../functions/render/email';
import { summarizePost } from '../functions/render/excerpt';
import { parsePost } from '../functions/render/post';
import { findSiteRoot, loadSite } from '../functions/render/site';

/** The fixture blogs' posts, as a week's digest carries them (render-quality tests of the digest). */
const BLOG_POSTS = {
  'zh-CN': [
    'fixtures/blog-zh/_posts/随笔/2024-01-15-weekly-review.md',
    'fixtures/blog-zh/_posts/技术/2024-03-08-cluster-upgrade-notes.md',
  ],
  en: [
    'fixtures/blog-en/_posts/2024-04-02-hello-world.md',
    'fixtures/blog-en/_posts/2024-05-20-shipping-helm-charts.md',
  ],
};

/** The digest's html as a reader without a language of their own gets it (the footer's words in). */
export function asSent(email: DigestEmail): string {
  return fillEmail(email, valuesForLanguage(email.footerWords, undefined)).html;
}

export async function fixtureDigest(lang: 'en' | 'zh-CN', settings: Settings): Promise<DigestEmail> {
  const summaries = [];
  let title = '';
  for (const relative of BLOG_POSTS[lang]) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    const site = await loadSite(findSiteRoot(path), settings);
    title = site.title;
    summaries.push(summarizePost(await parsePost({ path, source: await readFile(path), site })));
  }
  return renderDigestEmail({
    posts: summaries,
    since: new Date('2024-01-08T00:00:00Z'),
    until: new Date('2024-03-11T00:00:00Z'),
    site: { title, url: 'https://blog.example.org/' },
    lang,
    timeZone: 'Asia/Shanghai',
    postalAddress: settings.postalAddress,
  });
}
