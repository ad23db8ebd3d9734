import { Logger } from '@aws-lambda-powertools/logger';

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
