import { ConfigError } from './errors';

/**
 * The secrets every environment provides: from Secrets Manager on AWS (one JSON secret), from
 * `.data/secrets.json` on the local stack. Never logged.
 */
export interface Secrets {
  /** Base64 of at least 16 random bytes; the subscriber module derives its keys from it. */
  tokenKey: string;
  /** Shared with GitHub to sign webhook deliveries. */
  webhookSecret: string;
  /** Optional GitHub token for private blog repositories. */
  githubToken?: string;
  /** Cloudflare Turnstile secret key; needed only when `captchaSiteKey` is set. */
  captchaSecret?: string;
}

/** Checks a secret's JSON text; `source` names where it came from for the error message. */
export function parseSecrets(text: string, source: string): Secrets {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`${source} is not valid JSON; it must be an object with tokenKey and webhookSecret`);
  }
  const record = (value ?? {}) as Record<string, unknown>;
  const tokenKey = record.tokenKey;
  const webhookSecret = record.webhookSecret;
  if (typeof tokenKey !== 'string' || Buffer.from(tokenKey, 'base64').length < 16) {
    throw new ConfigError(`${source} must hold tokenKey: base64 of at least 16 random bytes (openssl rand -base64 32)`);
  }
  if (typeof webhookSecret !== 'string' || webhookSecret.length < 16) {
    throw new ConfigError(`${source} must hold webhookSecret: at least 16 characters (openssl rand -hex 32)`);
  }
  const githubToken = typeof record.githubToken === 'string' && record.githubToken !== '' ? record.githubToken : undefined;
  const captchaSecret = typeof record.captchaSecret === 'string' && record.captchaSecret !== '' ? record.captchaSecret : undefined;
  return { tokenKey, webhookSecret, ...(githubToken ? { githubToken } : {}), ...(captchaSecret ? { captchaSecret } : {}) };
}
