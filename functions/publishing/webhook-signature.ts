import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * GitHub signs every webhook delivery with the shared secret: `X-Hub-Signature-256:
 * sha256=<hex HMAC-SHA256 of the raw body>`. The HMAC must be computed over the exact bytes
 * received; re-serialising parsed JSON would change them.
 */
const PREFIX = 'sha256=';

export function signPayload(secret: string, rawBody: Uint8Array | string): string {
  return PREFIX + createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** True only for a well-formed header whose HMAC matches; compared in constant time. */
export function verifySignature(secret: string, rawBody: Uint8Array | string, header: string | undefined): boolean {
  if (!secret || typeof header !== 'string' || !header.startsWith(PREFIX)) return false;
  const received = header.slice(PREFIX.length).trim().toLowerCase();
  // A SHA-256 digest is 64 hex characters; anything else cannot match and must not reach
  // Buffer.from('hex'), which silently drops what it cannot decode.
  if (!/^[0-9a-f]{64}$/.test(received)) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(received, 'hex'));
}
