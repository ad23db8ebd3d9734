import type * as z from 'zod';
import { ConfigError } from '../commons/errors';
import {
  apiSecretSchema,
  gitHubTokenSecretSchema,
  SECRET_SHAPE,
  secretsFileSchema,
  tokenKeySchema,
} from '../contract/secret-values';

/**
 * The secrets the functions use. On the local stack they sit together in `.data/secrets.json`
 * (parsed by `parseSecrets`); on AWS each concern is a Secrets Manager secret of its own, read
 * only by the functions that need it (infra/constructs/secrets.ts):
 *
 * - the token key (the secret's whole value): api, send, dispatch, ses-events;
 * - the API secret, JSON with `webhookSecret` and room for more keys of the API alone: api;
 * - the GitHub token secret, JSON with `githubToken` (empty for a public blog): ingest.
 *
 * Never logged.
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

/**
 * A secret's JSON text checked against its schema; the first problem becomes the message,
 * prefixed with `source` (which secret, or which file).
 */
function parseSecret<Schema extends z.ZodType>(
  schema: Schema,
  text: string,
  source: string,
  expected: string,
): z.output<Schema> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`${source} is not valid JSON; it must be an object with ${expected}`);
  }
  return checked(schema, value, source);
}

function checked<Schema extends z.ZodType>(schema: Schema, value: unknown, source: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(`${source} ${result.error.issues[0]!.message}`);
  return result.data;
}

/** The token key, a secret's whole value (not JSON). */
export function checkTokenKey(value: unknown, source: string): string {
  return checked(tokenKeySchema, value, source);
}

/** Checks the local secrets file's JSON text; `source` names where it came from for the error message. */
export function parseSecrets(text: string, source: string): Secrets {
  const { tokenKey, webhookSecret, githubToken, captchaSecret } = parseSecret(
    secretsFileSchema,
    text,
    source,
    SECRET_SHAPE.file,
  );
  return {
    tokenKey,
    webhookSecret,
    ...(githubToken ? { githubToken } : {}),
    ...(captchaSecret ? { captchaSecret } : {}),
  };
}

/**
 * The API function's secret: `webhookSecret`, and any further string keys the API reads (a
 * CAPTCHA secret key, say), kept as they are so adding one needs no new secret or grant.
 */
export interface ApiSecret {
  webhookSecret: string;
  [key: string]: string | undefined;
}

export function parseApiSecret(text: string, source: string): ApiSecret {
  return parseSecret(apiSecretSchema, text, source, SECRET_SHAPE.api);
}

/** The GitHub token secret: `{"githubToken": "…"}`; empty or absent means no token. */
export function parseGitHubTokenSecret(text: string, source: string): string | undefined {
  return parseSecret(gitHubTokenSecretSchema, text, source, SECRET_SHAPE.gitHubToken);
}

/** How long a function keeps a secret the editor may change before reading it again. */
export const SECRET_TTL_MS = 5 * 60_000;

/**
 * A secret's value read through `load` and kept for `ttlMs`: a value the editor changes (the
 * GitHub token, the webhook secret) reaches warm functions within that time, and `reread`
 * fetches it at once when the value in hand was just refused. Concurrent callers share one read;
 * a failed read is not kept.
 */
export class CachedSecret<T> {
  private value: Promise<T> | undefined;
  private readAt = 0;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number = SECRET_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.value === undefined || this.now() - this.readAt >= this.ttlMs) return this.reread();
    return this.value;
  }

  reread(): Promise<T> {
    this.readAt = this.now();
    const value = this.load();
    this.value = value;
    value.catch(() => {
      if (this.value === value) this.value = undefined;
    });
    return value;
  }
}
