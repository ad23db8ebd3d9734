import { DomUtils, parseDocument } from 'htmlparser2';
import { escapeHtml } from '../commons/html';
import { clickUrl, HIDDEN_LINK, LinkSigner, MAX_TRACKED_LINKS, openPixelUrl } from '../stats/tracked-links';

type ChildNode = ReturnType<typeof parseDocument>['children'][number];
type Element = Extract<ChildNode, { attribs: Record<string, string> }>;

/** What the renderer needs to send a post's links through the counting redirect (tracking `aggregate`). */
export interface LinkTracking {
  /** Base of the API's URLs (`Settings.publicUrl`). */
  publicUrl: string;
  /** The link signing key (derived from the token key: subscribers/keys.ts). */
  key: Uint8Array;
  /** Adds the open pixel. */
  opens: boolean;
}

export interface TrackedBody {
  /** The post's HTML with its links rewritten. */
  html: string;
  /** What each redirect leads to, by index: 0 is the hidden link's (the post's page), 1… the post's links. */
  links: string[];
  /** The hidden link (and the pixel), for the end of the HTML part only. */
  trailer: string;
}

/**
 * Where a link of the post leads, when it goes through the redirect: http(s) links, written
 * out in full (`new URL` puts a Chinese path or host into the ASCII form a Location header
 * needs). Left alone: mailto: and tel:, and anchors within the post (`#notes`, made absolute
 * to the post's own page by the renderer): a reader jumping within the email is no click.
 */
function trackedTarget(href: string | undefined, postUrl: string): string | undefined {
  if (href === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(href.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.hash !== '' && withoutFragment(url.href) === withoutFragment(postUrl)) return undefined;
  return url.href;
}

function withoutFragment(href: string): string {
  try {
    const url = new URL(href);
    url.hash = '';
    return url.href;
  } catch {
    return href;
  }
}

/**
 * Rewrites the links of a post's body to the API's counting redirect, one index per distinct
 * target (a link written twice is one link to count), so the text part, which is made from the
 * same HTML, carries them too. The visible text stays as written: an autolink still shows its
 * own URL. Also returns the trailer for the HTML part: a link no person sees or follows (hidden
 * from sight, from the keyboard and from screen readers) and, with `opens`, the pixel.
 */
export function trackLinks(bodyHtml: string, post: { id: string; url: string }, tracking: LinkTracking): TrackedBody {
  const signer = new LinkSigner(tracking.key);
  const document = parseDocument(bodyHtml);
  const links = [post.url];
  const indexOf = new Map<string, number>();
  for (const anchor of DomUtils.getElementsByTagName('a', document.children, true) as Element[]) {
    const target = trackedTarget(anchor.attribs.href, post.url);
    if (target === undefined) continue;
    let index = indexOf.get(target);
    if (index === undefined) {
      if (links.length > MAX_TRACKED_LINKS) continue;
      index = links.push(target) - 1;
      indexOf.set(target, index);
    }
    anchor.attribs.href = clickUrl(tracking.publicUrl, post.id, index, signer);
  }
  const hidden = escapeHtml(clickUrl(tracking.publicUrl, post.id, HIDDEN_LINK, signer));
  const pixel = tracking.opens
    ? `<img src="${escapeHtml(openPixelUrl(tracking.publicUrl, post.id, signer))}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`
    : '';
  // A zero-height box: nothing to see or click; aria-hidden keeps screen readers out, tabindex the keyboard.
  const trailer = `<div aria-hidden="true" style="height:0;max-height:0;overflow:hidden;font-size:0;line-height:0;mso-hide:all;"><a href="${hidden}" tabindex="-1" aria-hidden="true" style="color:transparent;text-decoration:none;font-size:1px;line-height:1px;">&nbsp;</a>${pixel}</div>`;
  return { html: DomUtils.getOuterHTML(document, { encodeEntities: 'utf8' }), links, trailer };
}
