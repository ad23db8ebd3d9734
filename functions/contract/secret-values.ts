import * as z from 'zod';

/**
 * The secrets' values (functions/commons/secrets.ts reads them). Each message follows the
 * secret's name ("<source> must hold …"), so the error says which secret and what it must hold.
 */
const TOKEN_KEY = 'must hold the token key: base64 of at least 16 random bytes (openssl rand -base64 32)';
const WEBHOOK_SECRET = 'must hold webhookSecret: at least 16 characters (openssl rand -hex 32)';

export const tokenKeySchema = z
  .string({ error: TOKEN_KEY })
  .refine((value) => Buffer.from(value, 'base64').length >= 16, { error: TOKEN_KEY });

const webhookSecret = z.string({ error: WEBHOOK_SECRET }).min(16, { error: WEBHOOK_SECRET });

/** An empty or absent token (or one of another type) means "none": a public repository. */
const optionalToken = z
  .string()
  .trim()
  .optional()
  .catch(undefined)
  .transform((value) => (value === '' ? undefined : value));

/** What each secret holds, for the message when its value is not a JSON object. */
export const SECRET_SHAPE = {
  file: 'tokenKey and webhookSecret',
  api: 'webhookSecret',
  gitHubToken: 'githubToken (empty for a public repository)',
};

const jsonObject = (expected: string) => ({ error: `must be a JSON object with ${expected}` });

/** The local stack's `.data/secrets.json`: every secret in one file. */
export const secretsFileSchema = z.object(
  { tokenKey: tokenKeySchema, webhookSecret, githubToken: optionalToken, captchaSecret: optionalToken },
  jsonObject(SECRET_SHAPE.file),
);

/**
 * The API function's secret: `webhookSecret`, and any further string keys the API reads (a
 * CAPTCHA secret key, say), kept as they are so adding one needs no new secret or grant.
 */
export const apiSecretSchema = z.looseObject({ webhookSecret }, jsonObject(SECRET_SHAPE.api)).transform((record) => ({
  ...Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  ),
  webhookSecret: record.webhookSecret,
}));

/** The GitHub token secret: `{"githubToken": "…"}`. */
export const gitHubTokenSecretSchema = z
  .object({ githubToken: optionalToken }, jsonObject(SECRET_SHAPE.gitHubToken))
  .transform((record) => record.githubToken);
