import { readerLanguage } from '../../templates/reader-strings';
import { postIsFor } from '../subscribers/topics';
import type { Frequency, Subscriber } from '../subscribers/types';
import type { DigestContents } from './issues';

/**
 * How a reader takes a post sent at `sentAt`: by the frequency they had then. A reader who
 * changed it after (`frequencyChangedAt` later than the send) had the other one. Single posts
 * and digests both ask this, so a reader who switches in the middle of a week gets each of the
 * week's posts once: those sent before the switch the old way, the later ones the new way, even
 * when a post's dispatch or the digest's reads them after the switch. Only the last change is
 * kept: a reader who switches back and forth within one week is judged by the last switch.
 */
export function frequencyAt(
  subscriber: Pick<Subscriber, 'frequency' | 'frequencyChangedAt'>,
  sentAt: string | undefined,
): Frequency {
  const now = subscriber.frequency ?? 'post';
  const changedAt = subscriber.frequencyChangedAt;
  if (sentAt === undefined || changedAt === undefined || Date.parse(changedAt) <= Date.parse(sentAt)) return now;
  return now === 'digest' ? 'post' : 'digest';
}

/**
 * Which variant of a weekly digest each reader gets. A variant is a set of the digest's posts in
 * one of the newsletter's languages, named `<language>:<positions>` (`zh-CN:0.2.3`): the posts
 * routed to the reader by the same rule as single posts (`postIsFor`, with the topics offered
 * when the digest was built, so every page of a long dispatch routes alike) that were sent while
 * the reader took the digest (`frequencyAt`), with the digest's own words in the reader's
 * language (the digest's, for a reader who has none of ours).
 */

/** The languages a digest speaks (templates/digest.ts). */
export type DigestLanguage = DigestContents['lang'];

export function digestVariantKey(lang: DigestLanguage, positions: readonly number[]): string {
  return `${lang}:${positions.join('.')}`;
}

export function parseDigestVariantKey(key: string): { lang: DigestLanguage; positions: number[] } {
  const [lang, positions = ''] = key.split(':');
  return {
    lang: lang === 'zh-CN' ? 'zh-CN' : 'en',
    positions: positions === '' ? [] : positions.split('.').map(Number),
  };
}

/** The digest language of a reader: theirs when the digest speaks it, else the digest's own. */
export function readerDigestLanguage(lang: string | undefined, fallback: DigestLanguage): DigestLanguage {
  return readerLanguage(lang) ?? fallback;
}

/** Positions of the digest's posts that go to this reader (empty: none of them). */
export function digestPostsFor(
  subscriber: Pick<Subscriber, 'topics' | 'frequency' | 'frequencyChangedAt'>,
  digest: Pick<DigestContents, 'posts' | 'offered'>,
): number[] {
  // Most readers take each post and never changed: none of the digest is theirs.
  if (subscriber.frequency !== 'digest' && subscriber.frequencyChangedAt === undefined) return [];
  const offered = digest.offered.map((name) => ({ name, en: name, zh: name }));
  return digest.posts.flatMap((post, position) =>
    frequencyAt(subscriber, post.sendAt) === 'digest' && postIsFor(subscriber.topics, post.categoriesAndTags, offered)
      ? [position]
      : [],
  );
}

/**
 * The compiled variant a digest reader gets, or undefined when the digest is not for them (they
 * took each post while the week's posts were sent, or none of them is theirs). A reader whose
 * topics or language changed after the variants were compiled gets the smallest compiled
 * variant holding all their posts, in their language if one does (the whole week in the
 * digest's language always does): never fewer posts than theirs.
 */
export function digestVariantFor(
  subscriber: Pick<Subscriber, 'topics' | 'frequency' | 'frequencyChangedAt' | 'lang'>,
  digest: DigestContents,
): string | undefined {
  const positions = digestPostsFor(subscriber, digest);
  if (positions.length === 0) return undefined;
  const lang = readerDigestLanguage(subscriber.lang, digest.lang);
  const key = digestVariantKey(lang, positions);
  if (digest.variants.includes(key)) return key;
  let best: { key: string; size: number; sameLanguage: boolean } | undefined;
  for (const variant of digest.variants) {
    const parsed = parseDigestVariantKey(variant);
    const held = new Set(parsed.positions);
    if (!positions.every((position) => held.has(position))) continue;
    const candidate = { key: variant, size: held.size, sameLanguage: parsed.lang === lang };
    const better =
      best === undefined ||
      (candidate.sameLanguage && !best.sameLanguage) ||
      (candidate.sameLanguage === best.sameLanguage && candidate.size < best.size);
    if (better) best = candidate;
  }
  return best?.key;
}
