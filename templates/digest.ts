import { EMAIL_FOOTER_MJML, EMAIL_HEAD_MJML, emailMasthead } from './post';
import { readerLanguage } from './reader-strings';

/**
 * The MJML of the weekly digest: one card listing the week's posts (image, title, date,
 * excerpt, link), in the head and footer every newsletter email shares (templates/post.ts).
 * Slots as in the post template: `{{name}}` escaped text, `{{{name}}}` markup the renderer built.
 * The preheader is hidden by display and zero height, as in posts (SpamAssassin scores hidden
 * text by colour or tiny fonts).
 */
export const DIGEST_EMAIL_MJML = String.raw`<mjml lang="{{lang}}">
  <mj-head>
    <mj-title>{{heading}}</mj-title>
${EMAIL_HEAD_MJML}    <mj-style>
      @media (prefers-color-scheme: dark) {
        .pl-text h2 a { color: #e6edf3 !important; }
        .pl-divider p { border-top-color: #30363d !important; }
      }
    </mj-style>
  </mj-head>
${emailMasthead()}    <mj-section background-color="#ffffff" padding="28px 0 12px" border-radius="8px" css-class="pl-card">
      <mj-column>
        <mj-text css-class="pl-text pl-title" padding="0 24px">
          <h1 style="margin:0 0 8px;font-size:26px;line-height:1.35;font-weight:700;">{{heading}}</h1>
          <p class="pl-date" style="margin:0 0 8px;font-size:14px;color:#57606a;">{{intro}}</p>
        </mj-text>
        {{{posts}}}
        {{{morePosts}}}
      </mj-column>
    </mj-section>
${EMAIL_FOOTER_MJML}  </mj-body>
</mjml>`;

/** One post of the digest; a rule above every post. */
export const DIGEST_POST_MJML = String.raw`<mj-divider css-class="pl-divider" border-width="1px" border-color="#d0d7de" padding="16px 24px 20px" />
        {{{image}}}
        <mj-text css-class="pl-text pl-title" padding="0 24px">
          <h2 style="margin:0 0 4px;font-size:20px;line-height:1.4;font-weight:700;"><a href="{{url}}" style="color:#1f2328;text-decoration:none;">{{title}}</a></h2>
          <p class="pl-date" style="margin:0 0 12px;font-size:14px;color:#57606a;">{{dateLine}}</p>
        </mj-text>
        <mj-text css-class="pl-text pl-prose" padding="0 24px">{{{excerpt}}}</mj-text>
        <mj-text css-class="pl-text" padding="0 24px 8px" font-size="15px">
          <p style="margin:0;"><a href="{{url}}" class="pl-link" style="color:#0b57d0;text-decoration:underline;font-weight:600;">{{readPost}}</a></p>
        </mj-text>`;

/** The post's first image, linked to the post, as wide as the card. */
export const DIGEST_IMAGE_MJML = String.raw`<mj-image src="{{src}}" alt="{{alt}}" href="{{url}}" padding="0 24px 16px" fluid-on-mobile="true" />`;

/** Shown when a week has more posts than fit one email. */
export const DIGEST_MORE_MJML = String.raw`<mj-divider css-class="pl-divider" border-width="1px" border-color="#d0d7de" padding="16px 24px 20px" />
        <mj-text css-class="pl-text" padding="0 24px 8px">
          <p style="margin:0;">{{morePosts}} <a href="{{siteUrl}}" class="pl-link" style="color:#0b57d0;text-decoration:underline;">{{visitBlog}}</a></p>
        </mj-text>`;

/** The digest's own words; the footer's are the post email's (templates/strings.ts). */
export interface DigestStrings {
  /** Title of the email and its heading. */
  heading: (siteTitle: string) => string;
  subject: (siteTitle: string, firstTitle: string, posts: number) => string;
  /** Under the heading: how many posts, from when to when. */
  intro: (posts: number, range: string) => string;
  readPost: string;
  visitBlog: string;
  /** When posts were left out to keep the email under Gmail's clipping size. */
  morePosts: (count: number) => string;
}

const en: DigestStrings = {
  heading: (siteTitle) => `This week on ${siteTitle}`,
  subject: (siteTitle, firstTitle, posts) =>
    `This week on ${siteTitle}: ${firstTitle}${posts > 1 ? ` and ${posts - 1} more` : ''}`,
  intro: (posts, range) => `${posts === 1 ? 'One new post' : `${posts} new posts`}, ${range}`,
  readPost: 'Read the post',
  visitBlog: 'Visit the blog',
  morePosts: (count) =>
    count === 1 ? 'One more post this week is on the blog.' : `${count} more posts this week are on the blog.`,
};

const zhCN: DigestStrings = {
  heading: (siteTitle) => `「${siteTitle}」本周文章`,
  subject: (siteTitle, firstTitle, posts) => `「${siteTitle}」本周：${firstTitle}${posts > 1 ? ` 等 ${posts} 篇` : ''}`,
  intro: (posts, range) => `${range}，共 ${posts} 篇新文章`,
  readPost: '阅读全文',
  visitBlog: '访问博客',
  morePosts: (count) => `本周还有 ${count} 篇文章，请到博客阅读。`,
};

/** Any Chinese variant reads the Chinese strings, as in templates/strings.ts. */
export function digestStringsFor(lang: string): DigestStrings {
  return readerLanguage(lang) === 'zh-CN' ? zhCN : en;
}
