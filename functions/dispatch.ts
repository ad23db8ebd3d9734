import type { Context } from 'aws-lambda';
import { lambdaClient } from './commons/aws-extra';
import { logger } from './commons/logger';
import { lambdaSendingPorts } from './compose/lambda';
import { DispatcherInvoker } from './sending/dispatch-invoker';
import { dispatchIssue } from './sending/dispatch';
import { parseDispatchJob, type DispatchJob } from './sending/jobs';

const lambda = lambdaClient();
// Started during init; the handler awaits the same promise and sees any error.
lambdaSendingPorts().catch(() => undefined);

/**
 * Starts or resumes the dispatch of a post. Invoked asynchronously with a DispatchJob (by
 * ingest, by a post's schedule, by itself to continue near its deadline). The continuation is
 * an asynchronous invoke of this same function, so a million subscribers run as a chain of
 * invocations, each resuming from the issue's checkpoint.
 */
export const handler = async (event: DispatchJob, context: Context): Promise<void> => {
  const { dispatch } = await lambdaSendingPorts();
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
};
