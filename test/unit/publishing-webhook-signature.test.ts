import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from '../../functions/publishing/webhook-signature';

// The example GitHub documents for validating deliveries ("Validating webhook deliveries").
const DOCUMENTED_SECRET = "It's a Secret to Everybody";
const DOCUMENTED_BODY = 'Hello, World!';
const DOCUMENTED_SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

describe('X-Hub-Signature-256', () => {
  it("accepts GitHub's documented example signature", () => {
    expect(signPayload(DOCUMENTED_SECRET, DOCUMENTED_BODY)).toBe(DOCUMENTED_SIGNATURE);
    expect(verifySignature(DOCUMENTED_SECRET, Buffer.from(DOCUMENTED_BODY), DOCUMENTED_SIGNATURE)).toBe(true);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifySignature('another secret', DOCUMENTED_BODY, DOCUMENTED_SIGNATURE)).toBe(false);
  });

  it('rejects a body changed by one byte', () => {
    expect(verifySignature(DOCUMENTED_SECRET, 'Hello, World?', DOCUMENTED_SIGNATURE)).toBe(false);
  });

  it('rejects missing, empty, truncated and non-sha256 headers', () => {
    const sha1 = 'sha1=' + createHmac('sha1', DOCUMENTED_SECRET).update(DOCUMENTED_BODY).digest('hex');
    for (const header of [
      undefined,
      '',
      'sha256=',
      DOCUMENTED_SIGNATURE.slice(0, -2),
      sha1,
      DOCUMENTED_SIGNATURE.slice(7),
    ]) {
      expect(verifySignature(DOCUMENTED_SECRET, DOCUMENTED_BODY, header)).toBe(false);
    }
  });

  it('rejects hex that Buffer would half-decode instead of comparing a prefix', () => {
    const valid = signPayload(DOCUMENTED_SECRET, DOCUMENTED_BODY);
    expect(verifySignature(DOCUMENTED_SECRET, DOCUMENTED_BODY, valid.slice(0, 40) + 'zz' + valid.slice(42))).toBe(
      false,
    );
  });

  it('refuses everything when no secret is configured', () => {
    expect(verifySignature('', DOCUMENTED_BODY, signPayload('', DOCUMENTED_BODY))).toBe(false);
  });
});
