import { InvalidInputError, errorMessage } from '../commons/errors';
import { logger } from '../commons/logger';
import { GitHubError, type RepositoryFiles } from '../github/contents';
import { readPushedPost } from '../github/post-files';
import type { IngestMessage } from '../github/webhook';
import { ingestPost, type IngestPorts } from './ingest';
import { MessageTooLargeError } from './issues';

export interface IngestWorkerPorts extends IngestPorts {
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

function parseIngestMessage(body: string): IngestMessage | undefined {
  try {
    const value = JSON.parse(body) as Partial<IngestMessage>;
    const valid =
      typeof value.repository === 'string' &&
      typeof value.commit === 'string' &&
      typeof value.path === 'string' &&
      (value.kind === 'post' || value.kind === 'draft');
    return valid ? (value as IngestMessage) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The ingest queue's consumer (SQS on AWS, the in-process queue locally): one message per
 * pushed post. GitHub being slow, down, rate-limiting or refusing the token sends the message
 * back for a retry (partial batch failure, then the DLQ); a post that is not in its commit or
 * cannot be parsed will not get better by retrying, so it is logged for the editor and dropped.
 */
export function createIngestHandler(ports: () => Promise<IngestWorkerPorts>) {
  // The slice of an SQS event it reads, so SQS and the local queue both fit.
  return async (event: { Records: { messageId: string; body: string }[] }): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
    const resolved = await ports();
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const message = parseIngestMessage(record.body);
      if (message === undefined) {
        logger.error('ingest.message_invalid', { messageId: record.messageId });
        continue;
      }
      const context = { repository: message.repository, commit: message.commit, path: message.path, delivery: message.delivery };
      try {
        const file = await readPushedPost(resolved.files, message);
        const outcome = await ingestPost(file, resolved);
        logger.info('ingest.done', { ...context, ...outcome });
      } catch (error) {
        const retry = !isPermanent(error);
        logger.error(retry ? 'ingest.retry' : 'ingest.failed', { ...context, code: (error as { code?: string }).code, reason: errorMessage(error) });
        if (retry) batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
