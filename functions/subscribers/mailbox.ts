/**
 * The mailbox an address delivers to, for limits only (the address is stored as typed):
 * `me+1@x`, `me+2@x` and `me@x` reach one inbox, so a bot spelling one mailbox many ways
 * still gets it one confirmation per window.
 */

/** Providers that treat dots in the local part as absent, and their canonical domain. */
const DOTLESS: Record<string, string> = { 'gmail.com': 'gmail.com', 'googlemail.com': 'gmail.com' };

/** Providers whose sub-addresses use `-` (Yahoo's disposable addresses: `base-keyword@`). */
const HYPHEN_TAGS = new Set([
  'yahoo.com',
  'ymail.com',
  'rocketmail.com',
  'yahoo.co.uk',
  'yahoo.fr',
  'yahoo.de',
  'yahoo.co.jp',
]);

/**
 * `+tag` is folded for every domain: nearly every provider delivers it to the base mailbox, and
 * for a limit, folding two rare distinct mailboxes together errs on the safe side.
 */
export function mailboxOf(normalisedAddress: string): string {
  const at = normalisedAddress.lastIndexOf('@');
  let local = normalisedAddress.slice(0, at).toLowerCase();
  let domain = normalisedAddress.slice(at + 1).toLowerCase();
  local = cut(local, '+');
  if (HYPHEN_TAGS.has(domain)) local = cut(local, '-');
  const canonical = DOTLESS[domain];
  if (canonical !== undefined) {
    local = local.replaceAll('.', '');
    domain = canonical;
  }
  return `${local}@${domain}`;
}

/** The part before the first `separator`, unless that would leave nothing (`+@x` stays itself). */
function cut(local: string, separator: string): string {
  const index = local.indexOf(separator);
  return index > 0 ? local.slice(0, index) : local;
}
