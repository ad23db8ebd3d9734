import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * What an operator watches, as CloudWatch metrics in the embedded metric format (EMF), in the
 * namespace `pushletter` with the dimension `service=pushletter`, unit Count: copies `sent`,
 * `failed` and `unknown` (SES may or may not have taken them); what SES reports, each event
 * once: `delivered`, `bounced` (permanent), `complained`, `rejected`, `delayed`; and the list:
 * `signups`, `confirmations`, `unsubscribes`. The same figures as the counters `stats` reads
 * (stats/counted.ts), for the dashboard. The Lambda entries publish them at the end of each
 * invocation; the local stack and the tests turn them off with POWERTOOLS_METRICS_DISABLED.
 */
export type CountedEvent =
  | 'sent'
  | 'failed'
  | 'unknown'
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'rejected'
  | 'delayed'
  | 'signups'
  | 'confirmations'
  | 'unsubscribes';

export const METRICS_NAMESPACE = 'pushletter';
/** Powertools adds it to every metric as the `service` dimension; the dashboard filters on it. */
export const METRICS_SERVICE = 'pushletter';

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

export function countEvents(event: CountedEvent, count = 1): void {
  if (count > 0) metrics.addMetric(event, MetricUnit.Count, count);
}
