import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../functions/commons/clock';
import { InvalidInputError } from '../../functions/commons/errors';
import { deriveKeys, hashIp, isSubscriberId, subscriberId } from '../../functions/subscribers/keys';
import { CONFIRM_TOKEN_LIFETIME_MS, SubscriberTokens } from '../../functions/subscribers/tokens';

const keys = deriveKeys(Buffer.from('unit-test-master-key-with-enough-bytes'));
const START = new Date('2026-05-01T12:00:00Z');
let now = START;
const clock: Clock = { now: () => now };
const tokens = new SubscriberTokens(keys.tokenKey, clock);
const reader = subscriberId(keys.idKey, 'reader@example.com');
const other = subscriberId(keys.idKey, 'other@example.com');

function failure(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.code;
    throw error;
  }
  return 'accepted';
}

/** Flips one bit of the decoded token, then re-encodes it: a forgery attempt that keeps the shape. */
function flipBit(token: string, byte: number): string {
  const bytes = Buffer.from(token, 'base64url');
  bytes[byte]! ^= 0x01;
  return bytes.toString('base64url');
}

describe('subscriber tokens', () => {
  // The clock is shared by every test here: put it back even when a test fails halfway.
  afterEach(() => {
    now = START;
  });

  it('round-trips purpose and subscriber id and never contains the address', () => {
    const token = tokens.issue('confirm', reader);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThan(60);
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('reader');
    expect(tokens.verify(token, 'confirm')).toEqual({ purpose: 'confirm', subscriberId: reader, issuedAt: now });
  });

  it('refuses every single-bit change, in payload and signature', () => {
    const token = tokens.issue('unsubscribe', reader);
    const length = Buffer.from(token, 'base64url').length;
    for (let byte = 0; byte < length; byte++) {
      expect(
        failure(() => tokens.verify(flipBit(token, byte), 'unsubscribe')),
        `byte ${byte}`,
      ).toBe('TOKEN_INVALID');
    }
  });

  it("cannot be turned into another subscriber's token", () => {
    const mine = Buffer.from(tokens.issue('unsubscribe', reader), 'base64url');
    const theirs = Buffer.from(tokens.issue('unsubscribe', other), 'base64url');
    // Splice the other id into my signed token: the signature no longer matches.
    const spliced = Buffer.concat([mine.subarray(0, 6), theirs.subarray(6, 22), mine.subarray(22)]).toString(
      'base64url',
    );
    expect(failure(() => tokens.verify(spliced, 'unsubscribe'))).toBe('TOKEN_INVALID');
    expect(tokens.verify(theirs.toString('base64url'), 'unsubscribe').subscriberId).toBe(other);
  });

  it('refuses truncated, padded, empty, non-string and foreign-key tokens', () => {
    const token = tokens.issue('confirm', reader);
    for (const bad of [
      token.slice(0, -1),
      `${token}A`,
      `${token}=`,
      '',
      ' ',
      token.toUpperCase(),
      `${token.slice(0, 20)}.${token.slice(21)}`,
      null,
      42,
      { token },
    ]) {
      expect(
        failure(() => tokens.verify(bad, 'confirm')),
        String(bad),
      ).toBe('TOKEN_INVALID');
    }
    const foreign = new SubscriberTokens(
      deriveKeys(Buffer.from('another-deployment-master-key-bytes')).tokenKey,
      clock,
    ).issue('confirm', reader);
    expect(failure(() => tokens.verify(foreign, 'confirm'))).toBe('TOKEN_INVALID');
  });

  it('refuses a token used for another purpose, and says which link to use', () => {
    const purposes = ['confirm', 'unsubscribe', 'preferences'] as const;
    for (const issued of purposes)
      for (const expected of purposes.filter((purpose) => purpose !== issued))
        expect(
          failure(() => tokens.verify(tokens.issue(issued, reader), expected)),
          `${issued} as ${expected}`,
        ).toBe('TOKEN_WRONG_PURPOSE');
    expect(() => tokens.verify(tokens.issue('unsubscribe', reader), 'preferences')).toThrow(/Manage your subscription/);
  });

  it('round-trips a preferences token, which carries no address and refuses every changed bit', () => {
    const token = tokens.issue('preferences', reader);
    expect(tokens.verify(token, 'preferences')).toEqual({
      purpose: 'preferences',
      subscriberId: reader,
      issuedAt: now,
    });
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('reader');
    expect(token).toHaveLength(tokens.issue('unsubscribe', reader).length);
    for (let byte = 0; byte < Buffer.from(token, 'base64url').length; byte++)
      expect(
        failure(() => tokens.verify(flipBit(token, byte), 'preferences')),
        `byte ${byte}`,
      ).toBe('TOKEN_INVALID');
  });

  it('expires confirmation links after 7 days but keeps unsubscribe and preferences links working', () => {
    const issuedAt = now;
    const confirm = tokens.issue('confirm', reader);
    const unsubscribe = tokens.issue('unsubscribe', reader);
    const preferences = tokens.issue('preferences', reader);
    now = new Date(issuedAt.getTime() + CONFIRM_TOKEN_LIFETIME_MS);
    expect(tokens.verify(confirm, 'confirm').subscriberId).toBe(reader);
    now = new Date(issuedAt.getTime() + CONFIRM_TOKEN_LIFETIME_MS + 1000);
    expect(failure(() => tokens.verify(confirm, 'confirm'))).toBe('TOKEN_EXPIRED');
    now = new Date(issuedAt.getTime() + 5 * 365 * 24 * 60 * 60 * 1000);
    expect(tokens.verify(unsubscribe, 'unsubscribe').subscriberId).toBe(reader);
    expect(tokens.verify(preferences, 'preferences').subscriberId).toBe(reader);
  });

  it('signs only well-formed subscriber ids', () => {
    expect(failure(() => tokens.issue('confirm', 'reader@example.com'))).toBe('SUBSCRIBER_ID_INVALID');
  });
});

describe('subscriber keys and ids', () => {
  it('derives independent keys from one master key and refuses a short one', () => {
    expect(new Set([keys.tokenKey, keys.idKey, keys.ipKey].map((key) => key.toString('hex'))).size).toBe(3);
    expect(deriveKeys(Buffer.from('unit-test-master-key-with-enough-bytes'))).toEqual(keys);
    expect(() => deriveKeys(Buffer.from('short'))).toThrow(/at least 16/);
  });

  it('gives one stable, opaque id per address and a different one under another key', () => {
    expect(subscriberId(keys.idKey, 'reader@example.com')).toBe(reader);
    expect(isSubscriberId(reader)).toBe(true);
    expect(reader).not.toBe(other);
    expect(
      subscriberId(deriveKeys(Buffer.from('another-deployment-master-key-bytes')).idKey, 'reader@example.com'),
    ).not.toBe(reader);
    expect(isSubscriberId('reader@example.com')).toBe(false);
    // 22 characters carry 132 bits for 16 bytes: a last character with low bits set is another
    // spelling of some id, and accepting it would give one subscriber two ids.
    expect(isSubscriberId(`${reader.slice(0, 21)}B`)).toBe(false);
    expect(isSubscriberId(`${reader}A`)).toBe(false);
  });

  it('hashes IPs so the same IP matches and the IP itself is not recoverable from the record', () => {
    const hash = hashIp(keys.ipKey, '203.0.113.7');
    expect(hash).toBe(hashIp(keys.ipKey, ' 203.0.113.7 '));
    expect(hash).not.toBe(hashIp(keys.ipKey, '203.0.113.8'));
    expect(hash).not.toContain('203');
  });
});
