import { InvalidInputError, errorMessage } from '../commons/errors';
import { logger } from '../commons/logger';
import { type BatchResponse, type QueueRecord, settleEachRecord } from '../commons/queue';
import { readPushedPost } from './post-files';
import { ingestMessageSchema, parseMessage } from '../contract/messages';
import { ingestPost, type IngestDependencies } from './ingest-post';
import { MessageTooLargeError } from '../delivery/issues';
import { GitHubError, type RepositoryFiles } from './post-files';

export interface IngestWorkerDependencies extends IngestDependencies {
  files: RepositoryFiles;
}

/**
 * Failures that another attempt cannot fix: the post itself is bad, or the pushed commit does
 * not hold it. Everything else (GitHub or DynamoDB unreachable, a GitHub token that is missing,
 * expired or without access, a bug) is retried and, after the queue's last attempt, lands in
 * its dead-letter queue and alarm, to be redriven once fixed.
 */
function isPermanent(error: unknown): boolean {
  if (error instanceof InvalidInputError || error instanceof MessageTooLargeError) return true;
  if (error instanceof GitHubError) return !error.retryable;
  return (error as { code?: unknown })?.code === 'GITHUB_POST_NOT_FOUND';
}

/**
 * The ingest queue's consumer (SQS on AWS, the in-process queue locally): one message per
 * pushed post. GitHub being slow, down, rate-limiting or refusing the token sends the message
 * back for a retry (partial batch failure, then the DLQ); a post that is not in its commit or
 * cannot be parsed will not get better by retrying, so it is logged for the editor and dropped.
 */
export function createIngestHandler(ports: () => Promise<IngestWorkerDependencies>) {
  return async (event: { Records: QueueRecord[] }): Promise<BatchResponse> => {
    const resolved = await ports();
    return settleEachRecord(event, async (record) => {
      const message = parseMessage(ingestMessageSchema, record.body);
      if (message === undefined) {
        logger.error('ingest.message_invalid', { messageId: record.messageId });
        return;
      }
      const context = { repository: message.repository, commit: message.commit, path: message.path, delivery: message.delivery };
      try {
        const file = await readPushedPost(resolved.files, message);
        const outcome = await ingestPost(file, resolved);
        logger.info('ingest.done', { ...context, ...outcome });
      } catch (error) {
        const retry = !isPermanent(error);
        logger.error(retry ? 'ingest.retry' : 'ingest.failed', { ...context, code: (error as { code?: string }).code, reason: errorMessage(error) });
        if (retry) throw error;
      }
    });
  };
}
