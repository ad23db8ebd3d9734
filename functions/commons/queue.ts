import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent } from 'aws-lambda';

/** A queue that delivers SQS-shaped batches to one consumer (SQS on AWS, in-process locally). */
export interface Queue<T> {
  /** `delayMs`: delivered no sooner (SQS DelaySeconds, at most 15 minutes). */
  send(messages: T[], options?: { delayMs?: number }): Promise<void>;
}

/** The slice of an SQS record a consumer reads, so SQS and the local queue both fit. */
export interface QueueRecord {
  messageId: string;
  body: string;
}

/** SQS partial batch response: only the listed messages come back. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * Handles each record of a batch with Powertools' batch processor, in order (or side by side
 * with `inParallel`, for records that do not depend on each other): a record whose handler
 * throws comes back (partial batch failure, then the dead-letter queue); one that returns is
 * done. A batch that fails whole is reported like any other, not thrown, so the local queue
 * and SQS see the same answer.
 */
export function settleEachRecord(
  event: { Records: QueueRecord[] },
  handle: (record: QueueRecord) => Promise<void>,
  options: { inParallel?: boolean } = {},
): Promise<BatchResponse> {
  return processPartialResponse(event as SQSEvent, handle, new BatchProcessor(EventType.SQS), {
    throwOnFullBatchFailure: false,
    processInParallel: options.inParallel ?? false,
  });
}
