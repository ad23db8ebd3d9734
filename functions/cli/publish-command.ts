import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { readTarget } from '../commons/config';
import { InvalidInputError, PushletterError } from '../commons/errors';
import type { IssueStore, NotForCounts } from '../delivery/issues';
import type { IngestOutcome } from '../publishing/ingest-post';
import { signPayload } from '../publishing/webhook-signature';
import { parseArgs } from './args';
import { Progress } from './progress';

const USAGE = 'publish <post.md> [--site <dir>] [--test <address>]   (local stack only)';

export interface PublishOutput {
  out: Writable;
  err: NodeJS.WriteStream;
}

/** Stop following a send that makes no progress for this long; it carries on in the stack. */
const STALL_MS = 60_000;
const POLL_MS = 300;

function describe(outcome: IngestOutcome): string {
  switch (outcome.status) {
    case 'dispatching':
      return `publishing ${outcome.postId}: "${outcome.subject}"`;
    case 'scheduled':
      return `scheduled ${outcome.postId} for ${outcome.at} (the post's date); the running stack sends it then, if it is still running (it re-arms on restart)`;
    case 'skipped':
      return `skipped ${outcome.postId} because ${outcome.reason}; recorded (publish it again once its front matter lets it go)`;
    case 'exists': {
      const state =
        outcome.state === 'skipped'
          ? 'recorded as skipped'
          : outcome.state === 'failed'
            ? 'recorded as failed'
            : outcome.state === 'scheduled'
              ? 'already scheduled'
              : 'already sent';
      return `${outcome.postId} was ${state} before; nothing sent again (see \`pushletter status ${outcome.postId}\`)`;
    }
    case 'preview':
      return outcome.recipients === 0
        ? `${outcome.postId} is a draft: no preview sent, no editors configured (set PUSHLETTER_EDITORS)`
        : `${outcome.postId} is a draft: preview "${outcome.subject}" sent to ${outcome.recipients} editor${outcome.recipients === 1 ? '' : 's'}, not to subscribers`;
    case 'test':
      return `test "${outcome.subject}" sent to ${outcome.to}; nothing recorded, the post can still be published`;
  }
}

/** Follows the send in the stack's tables until every queued recipient is settled. */
export async function follow(issues: IssueStore, postId: string, output: PublishOutput): Promise<string> {
  const { issueStatus } = await import('../delivery/delivery-status');
  const progress = new Progress(`sending ${postId}`, 0, output.err);
  let lastDone = -1;
  let lastChange = Date.now();
  for (;;) {
    const status = await issueStatus(issues, postId, new Date()).catch((error: unknown) => {
      // Clear the bar's line so the error that follows is one clean line.
      progress.finish();
      throw error;
    });
    if (status === undefined) return `${postId}: the issue disappeared from the stack's table`;
    const { counts } = status;
    const done = counts.sent + counts.failed + counts.skipped + counts.unknown;
    if (done !== lastDone) {
      lastDone = done;
      lastChange = Date.now();
    }
    progress.setTotal(status.issue.enqueued);
    progress.update(done, counts.failed > 0 ? `${counts.failed} failed` : '');
    if (status.done) {
      progress.finish();
      const extra = [
        counts.failed > 0 ? `${counts.failed} failed` : '',
        counts.skipped > 0 ? `${counts.skipped} skipped (left since)` : '',
        counts.unknown > 0 ? `${counts.unknown} unknown` : '',
        notForText(status.issue.notFor),
      ]
        .filter(Boolean)
        .join(', ');
      return `sent to ${counts.sent} subscriber${counts.sent === 1 ? '' : 's'}${extra ? ` (${extra})` : ''}`;
    }
    if (Date.now() - lastChange > STALL_MS) {
      progress.finish();
      return `still sending in the stack (${done}/${status.issue.enqueued} so far); follow it with \`pushletter status ${postId}\``;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Readers the post was not for, as `status` counts them: "5 not for them: 4 by topic, 1 reads the digest". */
function notForText(notFor: NotForCounts | undefined): string {
  if (notFor === undefined) return '';
  return `${notFor.topics + notFor.digest} not for them: ${notFor.topics} by topic, ${notFor.digest} read the weekly digest`;
}

/** A POST to the local stack's server signed with its webhook secret (`publish`, `digest --send`). */
export async function postSigned(url: string, body: string, secret: string, header: string): Promise<Response> {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', [header]: signPayload(secret, body) },
      body,
      // Rendering a long post with a cold mjml takes a few seconds; a stuck server must not hang the CLI.
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw new PushletterError(
      'LOCAL_STACK_UNREACHABLE',
      `the local stack's server does not answer on ${url} (PORT): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export async function runPublish(args: string[], output: PublishOutput): Promise<number> {
  const { values, positionals } = parseArgs(
    args,
    { site: { type: 'string' }, test: { type: 'string' }, aws: { type: 'boolean' } },
    USAGE,
  );
  // On AWS a post is sent by pushing it: the webhook ingests it with the repository's
  // history and the stack's own schedules. Publishing here would reach the local stack
  // instead, so an editor who asked for AWS is told, not silently served locally.
  if (values.aws === true || readTarget() === 'aws') {
    throw new InvalidInputError(
      'PUBLISH_AWS_UNSUPPORTED',
      "publish sends through the local stack only; to send on AWS, commit the post to _posts/ and push it to the blog repository's branch (PUSHLETTER_BRANCH): the GitHub webhook of the deployed stack publishes it. Follow it with `pushletter status <post-id> --aws`",
    );
  }
  const [postPath] = positionals;
  if (postPath === undefined || positionals.length > 1) {
    throw new InvalidInputError('CLI_USAGE', `name one post file\nusage: pushletter ${USAGE}`);
  }
  const [
    { readLocalPost, publishRequest, PUBLISH_PATH, PUBLISH_SIGNATURE_HEADER },
    { connectToLocalStack },
    { readLocalPorts },
  ] = await Promise.all([
    import('../local/publish-route'),
    import('../local/local-services'),
    import('../commons/config'),
  ]);
  const file = await readLocalPost(postPath, values.site);
  const stack = await connectToLocalStack();
  const body = JSON.stringify(publishRequest(file, values.test));
  const url = `http://127.0.0.1:${readLocalPorts().http}${PUBLISH_PATH}`;

  try {
    const response = await postSigned(url, body, stack.secrets.webhookSecret, PUBLISH_SIGNATURE_HEADER);
    const answer = (await response.json().catch(() => ({}))) as IngestOutcome & { message?: string };
    if (!response.ok) {
      const reason = answer.message ?? `the stack answered ${response.status}`;
      // The renderer's messages already name the file; do not name it twice.
      throw new PushletterError(
        'PUBLISH_FAILED',
        reason.includes(basename(postPath)) ? reason : `${postPath}: ${reason}`,
      );
    }
    output.out.write(`${describe(answer)}\n`);
    if (answer.status === 'dispatching') {
      const { DynamoIssueStore } = await import('../adapters/dynamodb/issue-store');
      let outcome: string;
      try {
        outcome = await follow(new DynamoIssueStore(stack.dynamo, stack.resources), answer.postId, output);
      } catch (error) {
        if (error instanceof PushletterError) throw error;
        // The stack went away mid-send (Ctrl-C, a crash): the SDK's connection error means nothing to an editor.
        throw new PushletterError(
          'LOCAL_STACK_STOPPED',
          `the local stack stopped answering while sending ${answer.postId}; start it again with \`npx pushletter dev\` (the send resumes, nobody gets a second copy) and follow it with \`pushletter status ${answer.postId}\``,
          { cause: error },
        );
      }
      output.out.write(`${outcome}\n`);
    }
    return 0;
  } finally {
    stack.dynamo.destroy();
    stack.ses.destroy();
  }
}

export async function run(args: string[]): Promise<number> {
  return runPublish(args, { out: process.stdout, err: process.stderr });
}
