import * as z from 'zod';

/**
 * What travels on the queues: ids and cursors, never bodies. Consumers re-read state from the
 * store, so a message delivered twice or late cannot send stale content. Producers build these
 * types; consumers parse what arrives with the schemas (a message is input like any other).
 */

/** One send-queue message: recipients of one post, all in one claim bucket (delivery/claims.ts). */
export const sendJobSchema = z
  .object({
    postId: z.string(),
    bucket: z.number().int().nonnegative(),
    /** The post's bucket count, so the worker can check each id belongs to `bucket`. */
    buckets: z.number().int().min(1),
    subscriberIds: z.array(z.string()),
    /** A weekly digest's variant these recipients get (its posts for their topics); posts have none. */
    variant: z.string().optional(),
  })
  .refine((job) => job.bucket < job.buckets, { message: 'bucket must be below buckets' });

export type SendJob = z.infer<typeof sendJobSchema>;

/** Asks the dispatcher to (continue to) page subscribers of a post from its checkpoint. */
export const dispatchJobSchema = z.object({ postId: z.string() });

export type DispatchJob = z.infer<typeof dispatchJobSchema>;

/**
 * One pushed file to ingest: where it lives and at which commit. Never the file itself: the
 * ingest worker reads it from GitHub, so a queued message stays small and cannot be forged
 * into a body.
 */
export const ingestMessageSchema = z.object({
  repository: z.string(),
  commit: z.string(),
  path: z.string(),
  /** `welcome`: the blog's `_newsletter/welcome.md` changed (publishing/welcome.ts). */
  kind: z.enum(['post', 'draft', 'welcome']),
  /** GitHub's `X-GitHub-Delivery`, to follow one push through the logs (only logged). */
  delivery: z.string().optional().catch(undefined),
  /** When the webhook took the push (ISO): a welcome read from an older push never replaces a newer one. */
  receivedAt: z.string().optional().catch(undefined),
});

export type IngestMessage = z.infer<typeof ingestMessageSchema>;

/** A queue message's body checked against its schema; undefined when it is not JSON or not that shape. */
export function parseMessage<Schema extends z.ZodType>(schema: Schema, body: string): z.infer<Schema> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}
