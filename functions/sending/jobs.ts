/**
 * What travels on the queues: ids and cursors, never bodies. Consumers re-read state from the
 * store, so a message delivered twice or late cannot send stale content.
 */

/** One send-queue message: a batch of recipients of one post. */
export interface SendJob {
  postId: string;
  subscriberIds: string[];
}

/** Asks the dispatcher to (continue to) page subscribers of a post from its checkpoint. */
export interface DispatchJob {
  postId: string;
}

/** SQS takes at most 10 messages per SendMessageBatch. */
export const QUEUE_BATCH_LIMIT = 10;

export function parseSendJob(body: string): SendJob | undefined {
  try {
    const value = JSON.parse(body) as Partial<SendJob>;
    if (typeof value.postId !== 'string' || !Array.isArray(value.subscriberIds)) return undefined;
    if (!value.subscriberIds.every((id) => typeof id === 'string')) return undefined;
    return { postId: value.postId, subscriberIds: value.subscriberIds };
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
