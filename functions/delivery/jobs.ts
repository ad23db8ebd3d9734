import { bucketOf } from './claims';

/**
 * What travels on the queues: ids and cursors, never bodies. Consumers re-read state from the
 * store, so a message delivered twice or late cannot send stale content.
 */

/** One send-queue message: recipients of one post, all in one claim bucket (see claims.ts). */
export interface SendJob {
  postId: string;
  bucket: number;
  /** The post's bucket count, so the sender can check each id belongs to `bucket`. */
  buckets: number;
  subscriberIds: string[];
}

/** Asks the dispatcher to (continue to) page subscribers of a post from its checkpoint. */
export interface DispatchJob {
  postId: string;
}

/**
 * Receives of a send-queue message before it goes to the dead-letter queue (the SQS redrive
 * policy's maxReceiveCount, and the local queue's); on the last one the sender records the
 * recipients it could not send as failed.
 */
export const SEND_MAX_RECEIVES = 5;

/** The failure reason of recipients whose queue message went to the dead-letter queue. */
export const DEAD_LETTERED = 'DeadLettered';

/** SQS takes at most 10 messages per SendMessageBatch. */
export const QUEUE_BATCH_LIMIT = 10;

export function parseSendJob(body: string): SendJob | undefined {
  try {
    const value = JSON.parse(body) as Partial<SendJob>;
    if (typeof value.postId !== 'string' || !Array.isArray(value.subscriberIds)) return undefined;
    if (!Number.isInteger(value.buckets) || value.buckets! < 1) return undefined;
    if (!Number.isInteger(value.bucket) || value.bucket! < 0 || value.bucket! >= value.buckets!) return undefined;
    const { postId, bucket, buckets, subscriberIds } = value as SendJob;
    // An id outside the bucket would be claimed in the wrong ledger: the whole message is suspect.
    if (!subscriberIds.every((id) => typeof id === 'string' && bucketOf(id, buckets) === bucket)) return undefined;
    // A recipient listed twice would be claimed once and sent twice.
    return { postId, bucket, buckets, subscriberIds: [...new Set(subscriberIds)] };
  } catch {
    return undefined;
  }
}

export function parseDispatchJob(body: string): DispatchJob | undefined {
  try {
    const value = JSON.parse(body) as Partial<DispatchJob>;
    return typeof value.postId === 'string' ? { postId: value.postId } : undefined;
  } catch {
    return undefined;
  }
}
