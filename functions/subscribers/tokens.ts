import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../commons/clock';
import { InvalidInputError } from '../commons/errors';
import { PREFERENCES_URL_PLACEHOLDER, type RecipientLinks, UNSUBSCRIBE_URL_PLACEHOLDER } from '../render/types';
import { isSubscriberId, SUBSCRIBER_ID_BYTES } from './keys';

export { deriveKeys } from './keys';

export type TokenPurpose = 'confirm' | 'unsubscribe' | 'preferences';

/**
 * A confirmation link works for a week; unsubscribe and preferences links forever (old emails
 * must keep working).
 */
export const CONFIRM_TOKEN_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

const VERSION = 1;
const PURPOSE_CODES: Record<TokenPurpose, number> = { confirm: 1, unsubscribe: 2, preferences: 3 };
const PURPOSES_BY_CODE = new Map<number, TokenPurpose>(
  Object.entries(PURPOSE_CODES).map(([purpose, code]) => [code, purpose as TokenPurpose]),
);
/** What a link of the wrong kind is told: which link it is expected to be. */
const WHERE_TO_FIND: Record<TokenPurpose, string> = {
  confirm: 'This is not a confirmation link. Use the link from the confirmation email.',
  unsubscribe: 'This is not an unsubscribe link. Use the unsubscribe link at the bottom of a newsletter.',
  preferences: 'This is not a preferences link. Use the "Manage your subscription" link at the bottom of a newsletter.',
};
// version, purpose, issued-at (seconds, uint32), subscriber id.
const PAYLOAD_BYTES = 1 + 1 + 4 + SUBSCRIBER_ID_BYTES;
// A 128-bit truncated HMAC-SHA256 tag (NIST SP 800-107 allows it) keeps links short.
const TAG_BYTES = 16;
const TOKEN_BYTES = PAYLOAD_BYTES + TAG_BYTES;
const TOKEN_TEXT = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((TOKEN_BYTES * 4) / 3)}}$`);

export interface VerifiedToken {
  purpose: TokenPurpose;
  subscriberId: string;
  issuedAt: Date;
}

/**
 * Signed, compact tokens for confirm, unsubscribe and preferences links: base64url of
 * `version | purpose | issued-at | subscriber id | HMAC tag`. They carry the opaque subscriber
 * id, never the address. Expiry follows from the purpose and the issue time, so a policy change
 * applies to links already sent.
 */
export class SubscriberTokens {
  constructor(
    private readonly tokenKey: Buffer,
    private readonly clock: Clock,
  ) {}

  issue(purpose: TokenPurpose, subscriberId: string): string {
    if (!isSubscriberId(subscriberId))
      throw new InvalidInputError('SUBSCRIBER_ID_INVALID', `"${subscriberId}" is not a subscriber id`);
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    payload.writeUInt8(VERSION, 0);
    payload.writeUInt8(PURPOSE_CODES[purpose], 1);
    payload.writeUInt32BE(Math.floor(this.clock.now().getTime() / 1000), 2);
    Buffer.from(subscriberId, 'base64url').copy(payload, 6);
    return Buffer.concat([payload, this.tag(payload)]).toString('base64url');
  }

  /**
   * Checks signature, then purpose, then age. Throws InvalidInputError TOKEN_INVALID (damaged,
   * forged, signed with another key), TOKEN_WRONG_PURPOSE or TOKEN_EXPIRED.
   */
  verify(token: unknown, expected: TokenPurpose): VerifiedToken {
    if (typeof token !== 'string' || !TOKEN_TEXT.test(token)) throw invalid();
    const bytes = Buffer.from(token, 'base64url');
    if (bytes.length !== TOKEN_BYTES || bytes.toString('base64url') !== token) throw invalid();
    const payload = bytes.subarray(0, PAYLOAD_BYTES);
    const tag = bytes.subarray(PAYLOAD_BYTES);
    if (!timingSafeEqual(tag, this.tag(payload))) throw invalid();
    const purpose = PURPOSES_BY_CODE.get(payload.readUInt8(1));
    if (payload.readUInt8(0) !== VERSION || purpose === undefined) throw invalid();
    if (purpose !== expected) {
      throw new InvalidInputError('TOKEN_WRONG_PURPOSE', WHERE_TO_FIND[expected]);
    }
    const issuedAt = new Date(payload.readUInt32BE(2) * 1000);
    if (purpose === 'confirm' && this.clock.now().getTime() - issuedAt.getTime() > CONFIRM_TOKEN_LIFETIME_MS) {
      throw new InvalidInputError(
        'TOKEN_EXPIRED',
        'This confirmation link has expired (links work for 7 days). Sign up again to get a new one.',
      );
    }
    return { purpose, subscriberId: payload.subarray(6).toString('base64url'), issuedAt };
  }

  private tag(payload: Buffer): Buffer {
    return createHmac('sha256', this.tokenKey).update(payload).digest().subarray(0, TAG_BYTES);
  }
}

function invalid(): InvalidInputError {
  return new InvalidInputError(
    'TOKEN_INVALID',
    'This link is damaged or incomplete. Copy the whole link from the email, or sign up again.',
  );
}

/**
 * Token values of copies no subscriber received: a `render` preview, and the test copies and
 * draft previews sent to editors. Their unsubscribe link leads to a page that says so and
 * changes nothing, instead of "this link does not work". Not signed: the page does nothing and
 * tells nothing, so a signature would protect nothing, and `render` works offline, without the
 * stack's key. A signed token has a fixed length of base64url and never equals one of these.
 */
export const SAMPLE_TOKENS = { preview: 'preview', test: 'test-copy' } as const;
export type SampleCopy = keyof typeof SAMPLE_TOKENS;

export function sampleCopyOf(token: string | null | undefined): SampleCopy | undefined {
  return (Object.keys(SAMPLE_TOKENS) as SampleCopy[]).find((kind) => SAMPLE_TOKENS[kind] === token);
}

/** The unsubscribe link a preview or test copy carries. */
export function sampleUnsubscribeUrl(publicUrl: string, kind: SampleCopy): string {
  return `${publicUrl}/unsubscribe?token=${SAMPLE_TOKENS[kind]}`;
}

/** Every link of a preview or test copy (unsubscribe, preferences), by the placeholder it fills. */
export function sampleLinks(publicUrl: string, kind: SampleCopy): RecipientLinks {
  return {
    [UNSUBSCRIBE_URL_PLACEHOLDER]: sampleUnsubscribeUrl(publicUrl, kind),
    [PREFERENCES_URL_PLACEHOLDER]: `${publicUrl}/preferences?token=${SAMPLE_TOKENS[kind]}`,
  };
}
