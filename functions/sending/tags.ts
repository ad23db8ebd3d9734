/**
 * SES message tag values and Message-ID local parts allow only ASCII letters, digits, `_` and
 * `-`; post ids can hold any slug (Chinese titles included), so ids travel base64url-encoded.
 */
export const POST_TAG = 'pushletter_post';
export const SUBSCRIBER_TAG = 'pushletter_subscriber';

export function encodeTagValue(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

export function decodeTagValue(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  // Round-trip check: anything that is not our own encoding is not ours to trust.
  return encodeTagValue(decoded) === value ? decoded : undefined;
}

/** The same copy always gets the same Message-ID, so even a resend is recognisable. */
export function deliveryMessageId(postId: string, subscriberId: string): string {
  return `${encodeTagValue(postId)}.${encodeTagValue(subscriberId)}`;
}
