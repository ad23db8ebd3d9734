import { z } from 'zod';

/**
 * The secrets every environment provides: from Secrets Manager on AWS (one JSON secret), from
 * `.data/secrets.json` on the local stack. Never logged. Each message finishes the sentence
 * "<where the secret came from> must hold …", so it says what to put there.
 */
export const secretsSchema = z.preprocess(
  // Anything but an object is read as an empty one, so the message names the first missing key.
  (value) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}),
  z.object({
    /** Base64 of at least 16 random bytes; the subscriber module derives its keys from it. */
    tokenKey: z
      .string({ error: 'must hold tokenKey: base64 of at least 16 random bytes (openssl rand -base64 32)' })
      .refine((value) => Buffer.from(value, 'base64').length >= 16, {
        error: 'must hold tokenKey: base64 of at least 16 random bytes (openssl rand -base64 32)',
      }),
    /** Shared with GitHub to sign webhook deliveries. */
    webhookSecret: z
      .string({ error: 'must hold webhookSecret: at least 16 characters (openssl rand -hex 32)' })
      .min(16, { error: 'must hold webhookSecret: at least 16 characters (openssl rand -hex 32)' }),
    /** Optional GitHub token for private blog repositories; empty or not text means none. */
    githubToken: z.unknown().transform((value) => (typeof value === 'string' && value !== '' ? value : undefined)),
  }),
);

export type Secrets = { tokenKey: string; webhookSecret: string; githubToken?: string };
