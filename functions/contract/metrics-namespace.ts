/**
 * Where the functions' metrics land in CloudWatch: the namespace, and the `service` dimension
 * Powertools Metrics adds to every metric. The dashboard in infra/ reads them from here.
 */
export const METRICS_NAMESPACE = 'pushletter';
export const METRICS_SERVICE = 'pushletter';
