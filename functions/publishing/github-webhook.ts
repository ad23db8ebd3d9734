import { type Clock, systemClock } from '../commons/clock';
import { errorMessage, InvalidInputError } from '../commons/errors';
import { logger } from '../commons/logger';
import type { Queue } from '../commons/queue';
import type { IngestMessage } from '../contract/messages';
import { ignoreReason, type PushEvent, parsePushEvent, selectAddedPosts } from './github-push';
import { verifySignature } from './webhook-signature';

export interface WebhookRequest {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received: the signature covers these bytes. */
  body: Uint8Array | string;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface WebhookDependencies {
  repository: string | undefined;
  branch: string;
  /** The secret configured on the GitHub webhook; without one every delivery is refused. */
  secret: string | undefined;
  ingestQueue: Queue<IngestMessage>;
  /** When a push was received, for its welcome email (the system clock when not given). */
  clock?: Clock;
}

const GITHUB_COMMIT_LIMIT = 2048;

/**
 * More new posts than this in one push is a blog being imported or moved to a new repository,
 * not an editor publishing: sending them all would mail every subscriber years of archive.
 * Such a push sends nothing and says why; push new posts in smaller pushes to send them.
 */
export const MAX_POSTS_PER_PUSH = 10;

/** The same for drafts: each one mails every editor a preview, so an imported `_drafts/` would flood them. */
export const MAX_DRAFTS_PER_PUSH = 10;

function readPayload(body: Uint8Array | string, contentType: string | undefined): unknown {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  // A webhook may be configured as application/x-www-form-urlencoded: JSON in `payload=`.
  const json = /application\/x-www-form-urlencoded/i.test(contentType ?? '')
    ? (new URLSearchParams(text).get('payload') ?? '')
    : text;
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new InvalidInputError(
      'PUSH_PAYLOAD_INVALID',
      `malformed push payload: the body is not JSON (${errorMessage(error)})`,
    );
  }
}

/**
 * Verifies a GitHub delivery and queues one ingest message per new post or draft. It does no
 * GitHub or rendering work itself, so it answers well within GitHub's 10 s.
 */
export async function handleGitHubWebhook(
  request: WebhookRequest,
  dependencies: WebhookDependencies,
): Promise<WebhookResponse> {
  const delivery = request.headers['x-github-delivery'];
  const event = request.headers['x-github-event'];
  if (!dependencies.secret) {
    logger.error('github.webhook.no_secret', { delivery });
    return { status: 401, body: { error: 'the webhook secret is not configured; nothing was done' } };
  }
  if (!verifySignature(dependencies.secret, request.body, request.headers['x-hub-signature-256'])) {
    logger.warn('github.webhook.bad_signature', {
      delivery,
      event,
      signed: request.headers['x-hub-signature-256'] !== undefined,
    });
    return { status: 401, body: { error: 'missing or invalid X-Hub-Signature-256; check the webhook secret' } };
  }
  if (event === 'ping') return { status: 200, body: { message: 'pong' } };
  if (event !== 'push') {
    logger.info('github.webhook.ignored', { delivery, event });
    return { status: 202, body: { ignored: `event "${event ?? '(none)'}" is not a push` } };
  }

  let push: PushEvent;
  try {
    push = parsePushEvent(readPayload(request.body, request.headers['content-type']));
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    logger.warn('github.webhook.malformed', { delivery, reason: error.message });
    return { status: 400, body: { error: error.message } };
  }

  const reason = ignoreReason(push, dependencies.repository, dependencies.branch);
  if (reason !== undefined) {
    logger.info('github.webhook.ignored', { delivery, reason });
    return { status: 202, body: { ignored: reason } };
  }

  if (push.commits.length >= GITHUB_COMMIT_LIMIT) {
    // GitHub lists at most 2048 commits per push; posts added in earlier ones are not named.
    logger.warn('github.webhook.commits_truncated', { delivery, commit: push.after, commits: push.commits.length });
  }
  const { posts, drafts: addedDrafts, renamed, welcome } = selectAddedPosts(push);
  const tooManyDrafts = addedDrafts.length > MAX_DRAFTS_PER_PUSH;
  const drafts = tooManyDrafts ? [] : addedDrafts;
  const draftsIgnored = tooManyDrafts
    ? {
        draftsIgnored: `the push adds ${addedDrafts.length} drafts at once (more than ${MAX_DRAFTS_PER_PUSH}): no previews sent; push drafts in smaller pushes to preview them`,
      }
    : {};
  if (tooManyDrafts)
    logger.warn('github.webhook.drafts_ignored', { delivery, commit: push.after, drafts: addedDrafts.length });
  if (renamed !== undefined) {
    // Not sent: the same slug left and came back. A new post that happens to reuse a removed
    // post's slug is sent with `pushletter publish`.
    logger.info('github.webhook.renamed_not_sent', { delivery, commit: push.after, renamed });
  }
  // Read at the pushed commit, so it is the file as this push leaves it (or gone).
  const welcomeMessages: IngestMessage[] =
    welcome === undefined
      ? []
      : [
          {
            repository: push.repository,
            commit: push.after,
            path: welcome,
            kind: 'welcome',
            delivery,
            receivedAt: (dependencies.clock ?? systemClock).now().toISOString(),
          },
        ];
  if (posts.length > MAX_POSTS_PER_PUSH) {
    logger.warn('github.webhook.import_ignored', { delivery, commit: push.after, posts: posts.length });
    // An imported blog's welcome email is still taken: it mails nobody by itself.
    if (welcomeMessages.length > 0) await dependencies.ingestQueue.send(welcomeMessages);
    return {
      status: 202,
      body: {
        ignored: `the push adds ${posts.length} posts at once (more than ${MAX_POSTS_PER_PUSH}): treated as an import of old posts, nothing sent`,
        posts: [],
        drafts: [],
        ...(welcome ? { welcome } : {}),
        ...draftsIgnored,
      },
    };
  }
  const messages: IngestMessage[] = [
    ...posts.map((path) => ({
      repository: push.repository,
      commit: push.after,
      path,
      kind: 'post' as const,
      delivery,
    })),
    ...drafts.map((path) => ({
      repository: push.repository,
      commit: push.after,
      path,
      kind: 'draft' as const,
      delivery,
    })),
    ...welcomeMessages,
  ];
  if (messages.length === 0) {
    logger.info('github.webhook.no_new_posts', { delivery, commit: push.after, commits: push.commits.length });
    return {
      status: 202,
      body: {
        ignored: tooManyDrafts ? draftsIgnored.draftsIgnored : 'the push adds no post or draft',
        posts: [],
        drafts: [],
        ...(renamed ? { renamed } : {}),
      },
    };
  }
  // If queuing fails GitHub gets a 5xx and the delivery can be redelivered; issue records make
  // a redelivery of messages that did get queued harmless.
  await dependencies.ingestQueue.send(messages);
  logger.info('github.webhook.queued', { delivery, commit: push.after, posts: posts.length, drafts: drafts.length });
  return {
    status: 202,
    body: {
      accepted: true,
      commit: push.after,
      posts,
      drafts,
      ...(renamed ? { renamed } : {}),
      ...(welcome ? { welcome } : {}),
      ...draftsIgnored,
    },
  };
}
