import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { metrics } from './metrics';

/**
 * One structured logger per process. Events are dotted names (`subscriber.confirmed`) with
 * fields; callers pass ids or `maskAddress(...)`, never a full address or a secret.
 */
export const logger = new Logger({ serviceName: 'pushletter' });

/** `reader@example.com` -> `r***@example.com`: enough to debug a domain problem, no more. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/**
 * A Lambda handler whose log lines carry the invocation's request id, function name and cold
 * start, as Powertools' injectLambdaContext does (its middleware needs Middy, its decorator a
 * class; these are the calls both make), and the metrics counted during the invocation
 * published when it ends.
 */
export function withLambdaContext<Event, Result>(
  handler: (event: Event, context: Context) => Promise<Result>,
): (event: Event, context: Context) => Promise<Result> {
  return async (event, context) => {
    logger.addContext(context);
    logger.logEventIfEnabled(event);
    try {
      return await handler(event, context);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
