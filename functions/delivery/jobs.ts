import { type DispatchJob, dispatchJobSchema, parseMessage, type SendJob, sendJobSchema } from '../contract/messages';
import { bucketOf } from './claims';

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

/** A send-queue message, or undefined when it is malformed or names a recipient outside its bucket. */
export function parseSendJob(body: string): SendJob | undefined {
  const job = parseMessage(sendJobSchema, body);
  if (job === undefined) return undefined;
  // An id outside the bucket would be claimed in the wrong ledger: the whole message is suspect.
  if (!job.subscriberIds.every((id) => bucketOf(id, job.buckets) === job.bucket)) return undefined;
  // A recipient listed twice would be claimed once and sent twice.
  return { ...job, subscriberIds: [...new Set(job.subscriberIds)] };
}

export function parseDispatchJob(body: string): DispatchJob | undefined {
  return parseMessage(dispatchJobSchema, body);
}
