import { handleGitHubWebhook } from '../publishing/github-webhook';
import { json } from './responses';
import type { RouteHandler } from './types';

/**
 * `POST /hooks/github`. Answers within GitHub's 10 s: it checks the signature and queues the
 * new posts; fetching and rendering happen in the ingest worker.
 */
export const githubWebhook: RouteHandler = async (request, app) => {
  if (app.github === undefined) {
    return json(503, { error: 'the GitHub webhook is not set up in this deployment' });
  }
  const result = await handleGitHubWebhook(
    { headers: request.headers, body: request.body },
    {
      repository: app.settings.repository,
      branch: app.settings.branch,
      secret: await app.github.webhookSecret(),
      ingestQueue: app.github.ingestQueue,
      clock: app.clock,
    },
  );
  return json(result.status, result.body);
};
