import { createHash } from 'node:crypto';

/**
 * Which post an unsubscribe link came from, without naming the reader in any count: every
 * copy of a post carries the same short reference (`&post=<16 characters>`, a hash of the post
 * id, so a long Chinese slug does not lengthen the List-Unsubscribe header), and the unsubscribe
 * that follows it adds to that post's figure alone. The reference is not signed: a reader
 * who edits it can only move their own one unsubscribe to another figure.
 */
export const POST_REFERENCE_PARAMETER = 'post';

const REFERENCE = /^[A-Za-z0-9_-]{16}$/;

export function postReference(postId: string): string {
  return createHash('sha256').update(postId, 'utf8').digest('base64url').slice(0, 16);
}

/** `url` (an unsubscribe link) naming the post its email is a copy of. */
export function withPostReference(url: string, postId: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${POST_REFERENCE_PARAMETER}=${postReference(postId)}`;
}

/** The reference in a link's query, or undefined when it has none (an older email) or a malformed one. */
export function readPostReference(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && REFERENCE.test(value) ? value : undefined;
}
