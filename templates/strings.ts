import { readerLanguage } from './reader-strings';
/**
 * The words the post email adds around a post, in the languages the newsletter speaks.
 * Keys are the same in every language; `stringsFor` picks by the post's language.
 */
export interface EmailStrings {
  viewOnWeb: string;
  /** Footer line saying why the reader gets this email. */
  whyYouReceive: (siteTitle: string) => string;
  unsubscribe: string;
  /** The footer link to the preferences page (topics, frequency, language). */
  manageSubscription: string;
  continueReading: string;
  /** Shown above the link when a post was cut to fit in an email. */
  truncatedNotice: string;
  /** Fallback preheader when a post has no description. */
  newPostFrom: (siteTitle: string) => string;
}

const en: EmailStrings = {
  viewOnWeb: 'View on the web',
  whyYouReceive: (siteTitle) => `You receive this email because you subscribed to ${siteTitle}.`,
  unsubscribe: 'Unsubscribe',
  manageSubscription: 'Manage your subscription',
  continueReading: 'Continue reading on the web',
  truncatedNotice: 'This post is too long for one email; the rest is on the web.',
  newPostFrom: (siteTitle) => `A new post from ${siteTitle}.`,
};

const zhCN: EmailStrings = {
  viewOnWeb: '在网页上查看',
  whyYouReceive: (siteTitle) => `你收到这封邮件，是因为你订阅了「${siteTitle}」。`,
  unsubscribe: '退订',
  manageSubscription: '管理订阅',
  continueReading: '在网页上继续阅读',
  truncatedNotice: '这篇文章对一封邮件来说太长了，其余部分请在网页上阅读。',
  newPostFrom: (siteTitle) => `「${siteTitle}」有新文章。`,
};

export const EMAIL_STRINGS: Record<'en' | 'zh-CN', EmailStrings> = { en, 'zh-CN': zhCN };

/** Any Chinese variant (`zh`, `zh-CN`, `zh_CN`, `zh-Hans`, `zh-TW`) reads the Chinese strings. */
export function emailLanguageOf(lang: string): keyof typeof EMAIL_STRINGS {
  return readerLanguage(lang) === 'zh-CN' ? 'zh-CN' : 'en';
}

export function stringsFor(lang: string): EmailStrings {
  return EMAIL_STRINGS[emailLanguageOf(lang)];
}
