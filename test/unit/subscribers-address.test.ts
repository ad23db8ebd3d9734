import { describe, expect, it } from 'vitest';
import { AddressError, isValidAddress, normaliseAddress } from '../../functions/subscribers/address';

function refusal(input: string): { message: string; suggestion?: string } {
  try {
    normaliseAddress(input);
  } catch (error) {
    if (error instanceof AddressError) {
      expect(error.code).toBe('ADDRESS_INVALID');
      return { message: error.message, suggestion: error.suggestion };
    }
    throw error;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

describe('address normalisation', () => {
  it('trims and lower-cases so the same mailbox is one subscriber', () => {
    expect(normaliseAddress('  Reader.Name+news@Example.COM  ')).toBe('reader.name+news@example.com');
  });

  it('accepts international domains and stores them in punycode', () => {
    expect(normaliseAddress('leser@bücher.de')).toBe('leser@xn--bcher-kva.de');
    expect(normaliseAddress('reader@例子.测试')).toBe('reader@xn--fsqu00a.xn--0zwm56d');
    expect(normaliseAddress('reader@例子。测试')).toBe('reader@xn--fsqu00a.xn--0zwm56d');
  });

  it('accepts a full-width @ typed with a Chinese input method', () => {
    expect(normaliseAddress('reader＠qq.com')).toBe('reader@qq.com');
  });

  it('refuses header injection through CR, LF and other control characters', () => {
    for (const input of [
      'a@b.com\r\nBcc: x@y.com',
      'a@b.com\nBcc: x@y.com',
      'a@b.com\rX',
      'a@b.com%0d%0aBcc:x@y.com',
      'a\u0000@b.com',
      'a@b.com\u2028',
      'a\t@b.com',
    ]) {
      const { message } = refusal(input);
      expect(message, JSON.stringify(input)).not.toBe('');
    }
    expect(refusal('a@b.com\r\nBcc: x@y.com').message).toMatch(/one line/);
  });

  it('refuses display names and angle brackets, offering the bare address', () => {
    expect(refusal('Jane Doe <jane@example.org>')).toEqual({
      message: 'Enter only the address, without a name or angle brackets. Did you mean jane@example.org?',
      suggestion: 'jane@example.org',
    });
    expect(refusal('"Jane" jane@example.org').message).toMatch(/without a name/);
  });

  it('enforces the RFC 5321 lengths', () => {
    expect(normaliseAddress(`${'a'.repeat(64)}@example.com`)).toHaveLength(64 + 12);
    expect(refusal(`${'a'.repeat(65)}@example.com`).message).toMatch(/at most 64/);
    const label = 'b'.repeat(63);
    const longest = `${'a'.repeat(64)}@${label}.${label}.${'c'.repeat(57)}.com`;
    expect(longest).toHaveLength(254);
    expect(normaliseAddress(longest)).toBe(longest);
    expect(refusal(`${'a'.repeat(60)}@${label}.${label}.${label}.${'c'.repeat(5)}.com`).message).toMatch(/at most 254/);
    expect(refusal(`a@${'b'.repeat(64)}.com`).message).toMatch(/63/);
  });

  it('names the mistake and suggests the fix for typo-shaped addresses', () => {
    const cases: [string, RegExp, string | undefined][] = [
      ['jane@gmial.com', /looks like a typo/, 'jane@gmail.com'],
      ['jane@hotmial.com', /looks like a typo/, 'jane@hotmail.com'],
      ['jane@gmail.co', /looks like a typo/, 'jane@gmail.com'],
      ['jane@example.con', /\.con" is not a domain ending/, 'jane@example.com'],
      ['jane@gmail', /missing its ending/, 'jane@gmail.com'],
      ['jane@localhost', /missing its ending/, undefined],
      ['jane@@gmail.com', /exactly one @/, 'jane@gmail.com'],
      ['jane@gmail.com.', /ends with a dot/, 'jane@gmail.com'],
      ['jane@gmail,com', /comma/, 'jane@gmail.com'],
      ['jane@example..org', /two dots/, 'jane@example.org'],
      ['jane.example.org', /missing the @/, undefined],
      ['jane@', /domain after the @ is missing/, undefined],
      ['@example.org', /before the @ is missing/, undefined],
      ['jane@gmial.con', /looks like a typo|not a domain ending/, 'jane@gmail.com'],
    ];
    for (const [input, message, suggestion] of cases) {
      const refused = refusal(input);
      expect(refused.message, input).toMatch(message);
      expect(refused.suggestion, input).toBe(suggestion);
    }
  });

  it('does not mistake real providers near a big one for typos', () => {
    for (const input of [
      'a@mail.com',
      'a@gmx.com',
      'a@gmx.de',
      'a@me.com',
      'a@qq.com',
      'a@163.com',
      'a@email.com',
      'a@ymail.com',
      'a@example.co',
      'a@company.co.uk',
    ]) {
      expect(isValidAddress(input), input).toBe(true);
    }
  });

  it('refuses malformed local parts and domains with a reason', () => {
    expect(refusal('.jane@example.org').message).toMatch(/dot/);
    expect(refusal('ja..ne@example.org').message).toMatch(/two dots/);
    expect(refusal('jäne@example.org').message).toMatch(/Latin letters/);
    expect(refusal('ja(ne)@example.org').message).toMatch(/not allowed/);
    expect(refusal('jane@-example.org').message).toMatch(/not a valid domain/);
    expect(refusal('jane@192.168.0.1').message).toMatch(/not a valid domain/);
    expect(refusal('').message).toMatch(/Enter your email/);
    // A right-to-left override must not reach the page that echoes the mistake.
    expect(refusal('jane@example.com\u202e').message).toBe('"example.com?" is not a valid domain name.');
  });

  it('can look up a stored typo-shaped address without refusing it', () => {
    expect(normaliseAddress('Jane@Gmial.com', { allowTypos: true })).toBe('jane@gmial.com');
  });
});

describe('"Did you mean …?"', () => {
  it('only ever offers an address the form would accept', () => {
    const messy = [
      'a @b',
      'me@gmial .com',
      'Jane <jane@@example.org>',
      'Jane <jane doe@example.org>',
      'x y@gmail',
      'reader@gmail',
      'me@@gmial.con',
      'me@example..org',
      'me@example,com',
      'me@example.com.',
      '.me@example.com',
      'a b@c',
      'me@gmial.con',
      '"Jane" <JANE@EXAMPLE.ORG>',
      'me @ yahoo',
      'me@hotmial.cmo',
      'me@example.c',
      'me@.gmail.com',
      'x@ gmial.com',
    ];
    let offered = 0;
    for (const input of messy) {
      const { suggestion } = refusal(input);
      if (suggestion === undefined) continue;
      offered++;
      expect(isValidAddress(suggestion), `${input} -> ${suggestion}`).toBe(true);
    }
    expect(offered).toBeGreaterThan(10);
    // Offered before this check: "a@b" (no ending) for "a @b", and a typo domain for "me@gmial .com".
    expect(refusal('a @b').suggestion).toBeUndefined();
    expect(refusal('me@gmial .com').suggestion).toBe('me@gmail.com');
  });
});
