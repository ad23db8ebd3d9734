import { domainToASCII } from 'node:url';
import { InvalidInputError } from '../commons/errors';

/**
 * An address a person typed was refused. `suggestion` is the corrected address when the input
 * looks like a typo, so a page can offer "Did you mean …?" as a one-click fix.
 */
export class AddressError extends InvalidInputError {
  /**
   * The problem told to an editor about someone else's address (import reports): no "your",
   * no request to type it again. `forEditor` where the reader's sentence does not fit.
   */
  readonly editorMessage: string;

  constructor(
    message: string,
    readonly suggestion?: string,
    forEditor?: string,
  ) {
    super('ADDRESS_INVALID', suggestion === undefined ? message : `${message} Did you mean ${suggestion}?`);
    this.name = 'AddressError';
    const sentence = (forEditor ?? message).replace(/\.$/, '');
    this.editorMessage = `${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}${suggestion === undefined ? '' : ` (probably ${suggestion})`}`;
  }
}

// RFC 5321 §4.5.3.1: local part 64 octets, domain 255; a path is 256 octets including the
// angle brackets, which leaves 254 for the address itself.
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_ADDRESS = 254;

// RFC 5322 dot-atom text. Quoted local parts ("john doe"@x) are legal but nobody types them on a
// newsletter form, and many receivers mishandle them; refusing them keeps headers simple.
const LOCAL_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Mail providers most signups come from; a domain one keystroke away from one is a typo. */
const KNOWN_DOMAINS = [
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'ymail.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aol.com',
  'protonmail.com',
  'proton.me',
  'gmx.de',
  'gmx.net',
  'gmx.com',
  'web.de',
  'mail.com',
  'email.com',
  'yandex.ru',
  'mail.ru',
  'qq.com',
  '163.com',
  '126.com',
  'sina.com',
  'sina.cn',
  'foxmail.com',
  'yeah.net',
  'aliyun.com',
  'hey.com',
  'fastmail.com',
  'zoho.com',
];
const KNOWN_SET = new Set(KNOWN_DOMAINS);

/** Endings that are almost always a slip of the finger on `.com` / `.net` / `.org`. */
const TLD_TYPOS: Record<string, string> = {
  con: 'com',
  cmo: 'com',
  ocm: 'com',
  vom: 'com',
  xom: 'com',
  comm: 'com',
  coom: 'com',
  cpm: 'com',
  clm: 'com',
  cim: 'com',
  ccom: 'com',
  nte: 'net',
  ent: 'net',
  nett: 'net',
  ogr: 'org',
  rog: 'org',
  orgg: 'org',
};

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

// Imports check 100k addresses that share a few hundred domains; remember each verdict.
const providerVerdicts = new Map<string, string | undefined>();

/** The known provider domain this one is probably a typo of, if any. */
function likelyProvider(domain: string): string | undefined {
  if (providerVerdicts.has(domain)) return providerVerdicts.get(domain);
  const verdict = computeLikelyProvider(domain);
  if (providerVerdicts.size < 10_000) providerVerdicts.set(domain, verdict);
  return verdict;
}

function computeLikelyProvider(domain: string): string | undefined {
  if (KNOWN_SET.has(domain)) return undefined;
  let best: { domain: string; distance: number } | undefined;
  for (const known of KNOWN_DOMAINS) {
    // Short domains are close to many real ones (me.com, qq.com): only flag longer ones, and
    // allow two slips only where the domain is long enough that two slips are still unique.
    if (known.length < 7) continue;
    const distance = editDistance(domain, known);
    const allowed = known.length >= 10 ? 2 : 1;
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { domain: known, distance };
  }
  return best?.domain;
}

function providerWithoutEnding(domain: string): string | undefined {
  return KNOWN_DOMAINS.find((known) => known.split('.')[0] === domain);
}

/**
 * Checks an address a person typed and returns its normalised form: trimmed, NFKC (so a
 * full-width ＠ typed with a Chinese input method works), lower-cased, IDN domain in
 * punycode. Throws AddressError with a message that says what to fix.
 */
export function normaliseAddress(input: string, options: { allowTypos?: boolean } = {}): string {
  if (typeof input !== 'string' || input.trim() === '')
    throw new AddressError('Enter your email address.', undefined, 'the address is empty');
  // Checked before anything else: a CR or LF in an address is a header-injection attempt or a
  // paste accident, and must never reach a mail header.
  if (/[\r\n]/.test(input)) throw new AddressError('An email address must be on one line.');
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(input))
    throw new AddressError(
      'The address contains an invisible control character; type it again.',
      undefined,
      'the address contains an invisible control character',
    );
  const text = input.normalize('NFKC').trim();
  if (text.length > 1000) throw new AddressError(`An email address is at most ${MAX_ADDRESS} characters long.`);
  if (/[<>]/.test(text) || /^".*"\s/.test(text)) {
    const inner = /<([^<>]+)>/.exec(text)?.[1]?.trim();
    throw new AddressError(
      'Enter only the address, without a name or angle brackets.',
      inner && !/[<>\s]/.test(inner) ? normaliseQuietly(inner) : undefined,
      'the cell holds a name or angle brackets besides the address',
    );
  }
  if (/\s/.test(text))
    throw new AddressError(
      'An email address has no spaces.',
      text.includes('@') ? normaliseQuietly(text.replace(/\s+/g, '')) : undefined,
    );

  const ats = text.split('@').length - 1;
  if (ats === 0) {
    throw new AddressError(
      'The address is missing the @ between your name and the domain, as in name@example.com.',
      undefined,
      'the address has no @',
    );
  }
  if (ats > 1) {
    const collapsed = text.replace(/@{2,}/g, '@');
    const fixable = collapsed.split('@').length === 2;
    throw new AddressError('An email address has exactly one @.', fixable ? normaliseQuietly(collapsed) : undefined);
  }
  const at = text.indexOf('@');
  const local = text.slice(0, at);
  let domainInput = text.slice(at + 1);
  if (local === '') throw new AddressError('The part before the @ is missing.');
  if (domainInput === '') throw new AddressError('The domain after the @ is missing, as in name@example.com.');

  if (domainInput.includes(',')) {
    throw new AddressError(
      'The domain has a comma where a dot belongs.',
      normaliseQuietly(`${local}@${domainInput.replace(/,/g, '.')}`),
    );
  }
  if (/[.。．｡]$/.test(domainInput)) {
    throw new AddressError(
      'The address ends with a dot.',
      normaliseQuietly(`${local}@${domainInput.replace(/[.。．｡]+$/, '')}`),
    );
  }
  if (/^[.。．｡]/.test(domainInput)) {
    throw new AddressError(
      'The domain starts with a dot.',
      normaliseQuietly(`${local}@${domainInput.replace(/^[.。．｡]+/, '')}`),
    );
  }

  if (/[^\x21-\x7e]/.test(local)) {
    // SES (and most receivers) do not accept SMTPUTF8 mailboxes; the domain may be international.
    throw new AddressError('The part before the @ can only use Latin letters, digits and . _ - + characters.');
  }
  if (!LOCAL_ATOM.test(local)) {
    if (/\.\./.test(local) || local.startsWith('.') || local.endsWith('.')) {
      throw new AddressError('The part before the @ cannot start or end with a dot or have two dots in a row.');
    }
    throw new AddressError('The part before the @ contains a character that is not allowed in an email address.');
  }
  if (Buffer.byteLength(local) > MAX_LOCAL)
    throw new AddressError(`The part before the @ is at most ${MAX_LOCAL} characters long.`);

  domainInput = domainInput.toLowerCase();
  const domain = domainToASCII(domainInput);
  if (domain.length > MAX_DOMAIN) throw new AddressError(`The domain is at most ${MAX_DOMAIN} characters long.`);
  if (domain === '') throw new AddressError(`"${shown(domainInput)}" is not a valid domain name.`);
  const labels = domain.split('.');
  if (labels.some((label) => label === '')) {
    throw new AddressError(
      'The domain has two dots in a row.',
      normaliseQuietly(`${local}@${domainInput.replace(/\.{2,}/g, '.')}`),
    );
  }
  if (labels.length < 2) {
    const provider = providerWithoutEnding(domain);
    throw new AddressError(
      `The domain "${shown(domainInput)}" is missing its ending, such as .com.`,
      provider ? normaliseQuietly(`${local}@${provider}`) : undefined,
    );
  }
  for (const label of labels) {
    if (label.length > 63)
      throw new AddressError('Each part of the domain between dots is at most 63 characters long.');
    if (!DOMAIN_LABEL.test(label)) throw new AddressError(`"${shown(domainInput)}" is not a valid domain name.`);
  }
  const tld = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(tld) || tld.length < 2)
    throw new AddressError(
      `"${shown(domainInput)}" is not a valid domain name; it should end with something like .com.`,
    );

  const normalised = `${local.toLowerCase()}@${domain}`;
  if (normalised.length > MAX_ADDRESS)
    throw new AddressError(`An email address is at most ${MAX_ADDRESS} characters long.`);

  // Lookups (forget, findByEmail) must find whatever was stored, typo-shaped or not.
  if (options.allowTypos) return normalised;
  const provider = likelyProvider(domain);
  if (provider !== undefined) {
    throw new AddressError(`"${domain}" looks like a typo.`, normaliseQuietly(`${local}@${provider}`));
  }
  const fixedTld = TLD_TYPOS[tld];
  if (fixedTld !== undefined) {
    const fixedDomain = [...labels.slice(0, -1), fixedTld].join('.');
    // gmial.con: fix both slips in one suggestion.
    throw new AddressError(
      `".${tld}" is not a domain ending.`,
      normaliseQuietly(`${local}@${likelyProvider(fixedDomain) ?? fixedDomain}`),
    );
  }
  return normalised;
}

/** Input echoed in a message, with invisible and direction-changing characters made visible. */
function shown(text: string): string {
  const visible = text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '?');
  return visible.length > 80 ? `${visible.slice(0, 80)}…` : visible;
}

/**
 * The corrected address when the correction is itself valid, else undefined: every "Did you
 * mean …?" goes through here, so the form never offers an address it would refuse.
 */
function normaliseQuietly(candidate: string): string | undefined {
  try {
    return normaliseAddress(candidate);
  } catch (error) {
    // A correction that is itself a known typo: offer the final fix in one step.
    return error instanceof AddressError ? error.suggestion : undefined;
  }
}

/** True when the input is an acceptable address; for callers that only need a yes or no. */
export function isValidAddress(input: string): boolean {
  try {
    normaliseAddress(input);
    return true;
  } catch {
    return false;
  }
}
