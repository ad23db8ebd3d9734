import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The URLs of aggregate tracking: `/r/<post>/<n>.<signature>` leads to link n of the post
 * (n = 0 is the hidden link, 1… the post's own links) and `/o/<post>.<signature>.gif` is the
 * open pixel (functions/contract/routes.ts). The URL is the same in every recipient's copy:
 * nothing in it tells readers apart. The signature (HMAC of the post id and n, with a key
 * derived from the token key) means the redirect only ever answers for links pushletter put in
 * a post, and refuses a forged or altered URL before reading anything.
 */

/** The link no person sees or follows; what follows it is a scanner. */
export const HIDDEN_LINK = 0;
/**
 * Distinct links of one post that go through the redirect; the rest go straight to their
 * targets. The list is stored with the issue record, whose message already takes most of
 * DynamoDB's 400 KB item.
 */
export const MAX_TRACKED_LINKS = 200;

/** 96 bits: a forgery is a guess among 2^96 per request; 16 characters of base64url. */
const SIGNATURE_BYTES = 12;
const SIGNATURE = '[A-Za-z0-9_-]{16}';
const LINK_SEGMENT = new RegExp(`^(0|[1-9][0-9]{0,2})\\.(${SIGNATURE})$`);
const PIXEL_SEGMENT = new RegExp(`^(.+)\\.(${SIGNATURE})\\.gif$`);

export class LinkSigner {
  constructor(private readonly key: Uint8Array) {}

  /** The signature of link `index` of a post. */
  click(postId: string, index: number): string {
    return this.sign(`click\u0000${postId}\u0000${index}`);
  }

  /** The signature of a post's open pixel. */
  open(postId: string): string {
    return this.sign(`open\u0000${postId}`);
  }

  verifyClick(postId: string, index: number, signature: string): boolean {
    return same(signature, this.click(postId, index));
  }

  verifyOpen(postId: string, signature: string): boolean {
    return same(signature, this.open(postId));
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key)
      .update(payload, 'utf8')
      .digest()
      .subarray(0, SIGNATURE_BYTES)
      .toString('base64url');
  }
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The redirect URL of link `index` of a post. */
export function clickUrl(publicUrl: string, postId: string, index: number, signer: LinkSigner): string {
  return `${publicUrl}/r/${encodeURIComponent(postId)}/${index}.${signer.click(postId, index)}`;
}

/** The open pixel's URL for a post. */
export function openPixelUrl(publicUrl: string, postId: string, signer: LinkSigner): string {
  return `${publicUrl}/o/${encodeURIComponent(postId)}.${signer.open(postId)}.gif`;
}

/** A path segment as the HTTP layer gives it (percent-encoded), decoded; undefined if it is not valid. */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** `/r/{post}/{link}`'s parameters read, or undefined for anything that cannot be a link we made. */
export function readClickPath(
  post: string,
  link: string,
): { postId: string; index: number; signature: string } | undefined {
  const postId = decoded(post);
  const match = LINK_SEGMENT.exec(link);
  if (postId === undefined || postId === '' || match === null) return undefined;
  return { postId, index: Number(match[1]), signature: match[2]! };
}

/** `/o/{pixel}`'s parameter read, or undefined. */
export function readPixelPath(pixel: string): { postId: string; signature: string } | undefined {
  const match = PIXEL_SEGMENT.exec(pixel);
  const postId = match === null ? undefined : decoded(match[1]!);
  if (match === null || postId === undefined || postId === '') return undefined;
  return { postId, signature: match[2]! };
}

/**
 * A post's link list, read once per process and kept: it never changes once the issue is
 * written. A post without one is asked again next time (its record may be being replaced).
 */
export function cachedLinks(
  read: (postId: string) => Promise<string[] | undefined>,
  limit = 256,
): (postId: string) => Promise<string[] | undefined> {
  const cache = new Map<string, string[]>();
  return async (postId) => {
    const known = cache.get(postId);
    if (known !== undefined) return known;
    const links = await read(postId);
    if (links !== undefined) {
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(postId, links);
    }
    return links;
  };
}
