import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../contract/metrics-namespace';

/**
 * What an operator watches, as CloudWatch metrics in the embedded metric format (EMF): copies
 * sent, failed and unknown (SES may or may not have taken them), and the bounces and complaints
 * SES reports. The Lambda entries publish them at the end of each invocation; the local stack
 * and the tests turn them off with POWERTOOLS_METRICS_DISABLED.
 */
export type CountedEvent = 'sent' | 'failed' | 'unknown' | 'bounced' | 'complained';

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

export function countEvents(event: CountedEvent, count = 1): void {
  if (count > 0) metrics.addMetric(event, MetricUnit.Count, count);
}
