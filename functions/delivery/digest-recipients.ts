import { postIsFor } from '../subscribers/topics';
import type { Subscriber } from '../subscribers/types';
import type { DigestContents } from './issues';

/**
 * Which variant of a weekly digest each reader gets. A variant is a set of the digest's posts,
 * named by their positions (`0.2.3`); a reader's is the posts routed to them by the same rule
 * as single posts (`postIsFor`), with the topics offered when the digest was built, so every
 * page of a long dispatch routes alike.
 */

export function digestVariantKey(positions: readonly number[]): string {
  return positions.join('.');
}

function positionsOf(key: string): number[] {
  return key === '' ? [] : key.split('.').map(Number);
}

/** Positions of the digest's posts that go to this reader (empty: none of them). */
export function digestPostsFor(
  subscriber: Pick<Subscriber, 'topics'>,
  digest: Pick<DigestContents, 'posts' | 'offered'>,
): number[] {
  const offered = digest.offered.map((name) => ({ name, en: name, zh: name }));
  return digest.posts.flatMap((post, position) =>
    postIsFor(subscriber.topics, post.categoriesAndTags, offered) ? [position] : [],
  );
}

/**
 * The compiled variant a digest reader gets, or undefined when the digest is not for them (they
 * take each post, or none of the week's posts is theirs). A reader whose topics changed after
 * the variants were compiled gets the smallest compiled variant holding all their posts (the
 * whole week's always is one), never fewer posts than theirs.
 */
export function digestVariantFor(
  subscriber: Pick<Subscriber, 'topics' | 'frequency'>,
  digest: DigestContents,
): string | undefined {
  if (subscriber.frequency !== 'digest') return undefined;
  const positions = digestPostsFor(subscriber, digest);
  if (positions.length === 0) return undefined;
  const key = digestVariantKey(positions);
  if (digest.variants.includes(key)) return key;
  let best: { key: string; size: number } | undefined;
  for (const variant of digest.variants) {
    const held = new Set(positionsOf(variant));
    if (positions.every((position) => held.has(position)) && (best === undefined || held.size < best.size))
      best = { key: variant, size: held.size };
  }
  return best?.key;
}
