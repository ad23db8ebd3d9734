import { createHash } from 'node:crypto';

/**
 * SES message tag values and Message-ID local parts allow only ASCII letters, digits, `_` and
 * `-`; post ids can hold any slug (Chinese titles included), so ids travel base64url-encoded.
 */
export const POST_TAG = 'pushletter_post';
export const SUBSCRIBER_TAG = 'pushletter_subscriber';
/** Marks the message `pushletter doctor --aws` sends to the SES mailbox simulator (see probe.ts). */
export const PROBE_TAG = 'pushletter_probe';

/** SES refuses the whole message (InvalidParameterValue) when a tag value is longer. */
export const TAG_VALUE_LIMIT = 256;

const HASHED_PREFIX = 'h_';

/**
 * The id base64url-encoded when that fits a tag; otherwise (a slug of about 60 Chinese
 * characters is already too long) `h_` and the SHA-256 of the id. The hashed form is 45
 * characters, and no base64url encoding is ever 1 more than a multiple of 4 long, so it can
 * never be mistaken for an encoded id; the issue keeps an item that maps it back (IssueStore.postIdOfTag).
 */
export function encodeTagValue(value: string): string {
  const encoded = Buffer.from(value, 'utf8').toString('base64url');
  if (encoded.length <= TAG_VALUE_LIMIT) return encoded;
  return HASHED_PREFIX + createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** The id inside a tag value, or undefined for a hashed value (see `isHashedTagValue`) or one not ours. */
export function decodeTagValue(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  // Round-trip check: anything that is not our own encoding is not ours to trust.
  return encodeTagValue(decoded) === value ? decoded : undefined;
}

/** A tag value that stands for a long id by its hash; compare it with `encodeTagValue(id)`. */
export function isHashedTagValue(value: string): boolean {
  return (
    value.length === HASHED_PREFIX.length + 43 && value.startsWith(HASHED_PREFIX) && /^[A-Za-z0-9_-]+$/.test(value)
  );
}

/** The same copy always gets the same Message-ID, so even a resend is recognisable. */
export function deliveryMessageId(postId: string, subscriberId: string): string {
  return `${encodeTagValue(postId)}.${encodeTagValue(subscriberId)}`;
}

/** SES tag values allow ASCII letters, digits, `_` and `-`; the doctor's probe ids are 22 of them. */
export function isProbeId(value: string): boolean {
  return /^[A-Za-z0-9_-]{8,64}$/.test(value);
}
