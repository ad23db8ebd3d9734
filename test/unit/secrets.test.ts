import { describe, expect, it } from 'vitest';
import {
  CachedSecret,
  checkTokenKey,
  parseApiSecret,
  parseGitHubTokenSecret,
  parseSecrets,
  SECRET_TTL_MS,
} from '../../functions/commons/secrets';

describe('secret values', () => {
  it('read the API secret with its webhook secret and keep its other keys for the API (a CAPTCHA key, say)', () => {
    const secret = parseApiSecret(
      JSON.stringify({ webhookSecret: 'w'.repeat(64), captchaSecretKey: '0x4AAA', note: 3 }),
      'secret api',
    );
    expect(secret).toEqual({ webhookSecret: 'w'.repeat(64), captchaSecretKey: '0x4AAA' });
    expect(() => parseApiSecret('{"webhookSecret":"short"}', 'secret api')).toThrow(
      /secret api must hold webhookSecret: at least 16 characters/,
    );
    expect(() => parseApiSecret('webhook', 'secret api')).toThrow(/secret api is not valid JSON/);
  });

  it('read an empty or absent GitHub token as none (a public blog), and say what shape is expected', () => {
    expect(parseGitHubTokenSecret('{"githubToken":"","unused":"x"}', 's')).toBeUndefined();
    expect(parseGitHubTokenSecret('{"unused":"x"}', 's')).toBeUndefined();
    expect(parseGitHubTokenSecret('{"githubToken":" ghp_abc "}', 's')).toBe('ghp_abc');
    expect(() => parseGitHubTokenSecret('ghp_abc', 'secret github')).toThrow(
      /secret github is not valid JSON; it must be an object with githubToken/,
    );
    expect(() => parseGitHubTokenSecret('["ghp_abc"]', 'secret github')).toThrow(
      /must be a JSON object with githubToken/,
    );
  });

  it('accept as token key what CloudFormation generates (64 letters and digits) and refuse a short one', () => {
    expect(checkTokenKey('aB3'.repeat(21) + 'x', 'secret key')).toHaveLength(64);
    expect(() => checkTokenKey('c2hvcnQ=', 'secret key')).toThrow(
      /secret key must hold the token key: base64 of at least 16 random bytes/,
    );
  });

  it("keep the local secrets file's shape", () => {
    const text = JSON.stringify({
      tokenKey: Buffer.alloc(32, 1).toString('base64'),
      webhookSecret: 'w'.repeat(32),
      githubToken: '',
    });
    expect(parseSecrets(text, 'file')).toEqual({
      tokenKey: Buffer.alloc(32, 1).toString('base64'),
      webhookSecret: 'w'.repeat(32),
    });
  });

  it('name the first thing to fix in the local secrets file, and read a CAPTCHA secret like a token', () => {
    const tokenKey = Buffer.alloc(32, 1).toString('base64');
    expect(() => parseSecrets('{"webhookSecret":"short"}', 'file')).toThrow(/^file must hold the token key/);
    expect(() => parseSecrets(JSON.stringify({ tokenKey, webhookSecret: 'short' }), 'file')).toThrow(
      /^file must hold webhookSecret: at least 16 characters/,
    );
    expect(() => parseSecrets('[]', 'file')).toThrow(/^file must be a JSON object with tokenKey and webhookSecret$/);
    expect(
      parseSecrets(
        JSON.stringify({ tokenKey, webhookSecret: 'w'.repeat(16), captchaSecret: ' 0x4AAA ', githubToken: 7 }),
        'file',
      ),
    ).toEqual({ tokenKey, webhookSecret: 'w'.repeat(16), captchaSecret: '0x4AAA' });
    expect(() => checkTokenKey(undefined, 'secret key')).toThrow(/^secret key must hold the token key/);
  });
});

describe('a cached secret', () => {
  function counted(values: Array<string | Error>) {
    let reads = 0;
    let now = 0;
    const secret = new CachedSecret(
      async () => {
        const value = values[Math.min(reads++, values.length - 1)]!;
        if (value instanceof Error) throw value;
        return value;
      },
      SECRET_TTL_MS,
      () => now,
    );
    return { secret, reads: () => reads, advance: (ms: number) => (now += ms) };
  }

  it('is read once, again after a few minutes, and at once when asked to', async () => {
    const { secret, reads, advance } = counted(['first', 'second', 'third']);
    expect(await Promise.all([secret.get(), secret.get()])).toEqual(['first', 'first']);
    expect(reads()).toBe(1);
    advance(SECRET_TTL_MS - 1);
    expect(await secret.get()).toBe('first');
    advance(1);
    expect(await secret.get()).toBe('second');
    // A value just refused (GitHub said 401) is read again without waiting.
    expect(await secret.reread()).toBe('third');
    expect(await secret.get()).toBe('third');
    expect(SECRET_TTL_MS).toBeLessThanOrEqual(10 * 60_000);
  });

  it('does not keep a failed read: the next call tries again', async () => {
    const { secret, reads } = counted([new Error('Secrets Manager unreachable'), 'value']);
    await expect(secret.get()).rejects.toThrow(/unreachable/);
    expect(await secret.get()).toBe('value');
    expect(reads()).toBe(2);
  });
});
