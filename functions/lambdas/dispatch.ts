import type { Context } from 'aws-lambda';
import { DispatcherInvoker } from '../adapters/lambda-invoker';
import { lambdaClient } from '../adapters/lambda-scheduler-clients';
import { processEnvironment } from '../commons/config';
import { logger, withLambdaContext } from '../commons/logger';
import type { DispatchJob } from '../contract/messages';
import { dispatchIssue } from '../delivery/dispatcher';
import { parseDispatchJob } from '../delivery/jobs';
import { createLambdaSendingServices, once } from '../wiring/lambda-services';

const lambda = lambdaClient();
// Started during init; the handler awaits the same promise and sees any error.
const services = once(() => createLambdaSendingServices(processEnvironment()));
services().catch(() => undefined);

/**
 * Starts or resumes the dispatch of a post. Invoked asynchronously with a DispatchJob (by
 * ingest, by a post's schedule, by itself to continue near its deadline). The continuation is
 * an asynchronous invoke of this same function, so a million subscribers run as a chain of
 * invocations, each resuming from the issue's checkpoint.
 */
export const handler = withLambdaContext(async (event: DispatchJob, context: Context): Promise<void> => {
  const { dispatch } = await services();
  const ports = {
    ...dispatch,
    dispatchQueue: new DispatcherInvoker(lambda, context.invokedFunctionArn),
    remainingMs: () => context.getRemainingTimeInMillis(),
  };
  const job = parseDispatchJob(JSON.stringify(event));
  if (job === undefined) {
    logger.error('issue.dispatch.malformed', { event: JSON.stringify(event).slice(0, 200) });
    return;
  }
  await dispatchIssue(ports, job.postId);
});
