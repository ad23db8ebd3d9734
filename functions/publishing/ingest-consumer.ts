import { ConfigError, errorMessage, InvalidInputError } from '../commons/errors';
import { escapeHtml } from '../commons/html';
import { logger, maskAddress } from '../commons/logger';
import { type BatchResponse, type QueueRecord, settleEachRecord } from '../commons/queue';
import { WELCOME_ISSUE_ID } from '../contract/delivery-tables';
import { type IngestMessage, ingestMessageSchema, parseMessage } from '../contract/messages';
import { MessageTooLargeError } from '../delivery/issues';
import { compileMessage, personalise } from '../mail/message';
import { readPostName } from '../render/post';
import { type IngestDependencies, ingestPost, previewIdOf } from './ingest-post';
import { GitHubError, type RepositoryFiles, readPushedPost } from './post-files';
import { ingestWelcome, readPushedWelcome, type WelcomeStore } from './welcome';

export interface IngestWorkerDependencies extends IngestDependencies {
  files: RepositoryFiles;
  /** Where a pushed `_newsletter/welcome.md` is stored for the API to send. */
  welcomes?: WelcomeStore;
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
      const context = {
        repository: message.repository,
        commit: message.commit,
        path: message.path,
        delivery: message.delivery,
      };
      try {
        if (message.kind === 'welcome') {
          if (resolved.welcomes === undefined) throw new ConfigError('this ingest has no store for the welcome email');
          const file = await readPushedWelcome(resolved.files, message);
          const readAt = message.receivedAt ?? resolved.clock.now().toISOString();
          const outcome = await ingestWelcome(file, readAt, { ...resolved, welcomes: resolved.welcomes });
          logger.info('ingest.done', { ...context, welcome: outcome });
          return;
        }
        const file = await readPushedPost(resolved.files, message);
        const outcome = await ingestPost(file, resolved);
        logger.info('ingest.done', { ...context, ...outcome });
      } catch (error) {
        const retry = !isPermanent(error);
        logger.error(retry ? 'ingest.retry' : 'ingest.failed', {
          ...context,
          code: (error as { code?: string }).code,
          reason: errorMessage(error),
        });
        if (retry) throw error;
        try {
          await reportFailure(message, error, resolved);
        } catch (reportError) {
          // The record could not be written (DynamoDB): the next attempt fails the same way and reports it then.
          logger.error('ingest.failure_not_recorded', { ...context, reason: errorMessage(reportError) });
          throw reportError;
        }
      }
    });
  };
}

/** The id a pushed file's record goes under; a file whose name is not a post's keeps its path. */
function recordIdOf(message: IngestMessage): string {
  let postId: string;
  try {
    postId = readPostName(message.path).id;
  } catch {
    postId = message.path;
  }
  if (message.kind === 'welcome') return `${WELCOME_ISSUE_ID}:failed:${message.commit}`;
  return message.kind === 'draft' ? previewIdOf(postId, message.commit)! : postId;
}

/**
 * A pushed post that fails the same way on every attempt is recorded as failed with the
 * reason (what `pushletter status` shows), and the editors get one email about it. The record
 * is a conditional create, so a retry or a webhook redelivery finds it and mails nobody again.
 */
async function reportFailure(message: IngestMessage, error: unknown, ports: IngestWorkerDependencies): Promise<void> {
  const postId = recordIdOf(message);
  const reason = errorMessage(error);
  const now = ports.clock.now();
  const created = await ports.issues.createIssue(
    {
      postId,
      title: message.path,
      subject: message.path,
      state: 'failed',
      sendAt: now.toISOString(),
      failReason: reason,
      source: 'webhook',
      commit: message.commit,
    },
    now,
  );
  if (created === 'exists') return;
  const { settings } = ports;
  if (settings.editors.length === 0) {
    logger.warn('ingest.failure_no_editors', { postId, hint: 'set PUSHLETTER_EDITORS to be told by email' });
    return;
  }
  const what = message.kind === 'draft' ? 'draft' : 'post';
  const welcome = message.kind === 'welcome';
  const subject = `[pushletter] ${message.path} was not ${welcome ? 'taken' : 'sent'}`;
  const lines = [
    welcome
      ? `The welcome email ${message.path} pushed to ${message.repository} (commit ${message.commit.slice(0, 7)}) was not taken; new readers keep getting the welcome they got before:`
      : `The ${what} ${message.path} pushed to ${message.repository} (commit ${message.commit.slice(0, 7)}) was not sent:`,
    '',
    reason,
    '',
    welcome
      ? 'Fix it and push again.'
      : `Pushing an edit does not send it: fix the ${what}, then \`pushletter publish\` it against the local stack, or on AWS add it under a new file name.`,
    `\`pushletter status ${postId}\` shows this record.`,
  ];
  const compiled = compileMessage(
    {
      subject,
      text: lines.join('\n'),
      html: lines.map((line) => (line === '' ? '' : `<p>${escapeHtml(line)}</p>`)).join('\n'),
      lang: 'en',
    },
    { fromAddress: settings.fromAddress, fromName: settings.fromName, replyTo: settings.replyTo },
    { placeholders: [] },
  );
  for (const address of settings.editors) {
    try {
      await ports.mailer.sendRaw({ to: address, data: personalise(compiled, { to: address, values: {}, date: now }) });
    } catch (mailError) {
      // At most once: the record is written, so a retry would not mail; status still shows it.
      logger.error('ingest.failure_mail_failed', { postId, to: maskAddress(address), reason: errorMessage(mailError) });
    }
  }
  logger.info('ingest.failure_reported', { postId, editors: settings.editors.length });
}
