/**
 * What an SES error means for one recipient:
 * - `rejected`: SES refused this message or address; retrying cannot help. Record `failed`.
 * - `retry`: SES did not take the message (throttled, 5xx, refused connection). Safe to send
 *   again later.
 * - `ambiguous`: the request may have reached SES (timeout or reset after sending). Sending
 *   again could deliver twice, so the recipient is left `unknown` and reported.
 */
export type SesErrorKind = 'rejected' | 'retry' | 'ambiguous';

export interface ClassifiedSesError {
  kind: SesErrorKind;
  /** Stable code plus SES's own words, stored on a failed delivery. */
  reason: string;
}

const REJECTED_CODES = new Set([
  'MessageRejected',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'MailFromDomainNotVerifiedException',
  'MailFromDomainNotVerified',
]);

const RETRY_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  // Account-wide conditions: not the recipient's fault, so keep the message for later (the
  // DLQ catches it if they persist).
  'AccountSendingPausedException',
  'ConfigurationSetSendingPausedException',
  'ConfigurationSetDoesNotExist',
  'ConfigurationSetDoesNotExistException',
]);

/** Network failures where the request provably never reached SES. */
const NOT_SENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface ErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  cause?: unknown;
}

export function classifySesError(error: unknown): ClassifiedSesError {
  const shape = (error ?? {}) as ErrorShape;
  const name = shape.name ?? shape.Code ?? 'Error';
  const message = (shape.message ?? String(error)).slice(0, 500);
  const reason = `${name}: ${message}`;
  const status = shape.$metadata?.httpStatusCode ?? shape.$response?.statusCode;
  const networkCode = shape.code ?? (shape.cause as ErrorShape | undefined)?.code;

  if (/maximum sending rate exceeded|daily message quota exceeded/i.test(message)) return { kind: 'retry', reason };
  if (RETRY_CODES.has(name)) return { kind: 'retry', reason };
  if (REJECTED_CODES.has(name)) return { kind: 'rejected', reason };
  if (networkCode !== undefined && NOT_SENT_NETWORK_CODES.has(networkCode)) return { kind: 'retry', reason };
  if (status !== undefined && status >= 500) return { kind: 'retry', reason };
  if (status !== undefined && status >= 400) {
    // Any other 4xx answer is SES refusing this request: retrying the same bytes fails again.
    return { kind: 'rejected', reason };
  }
  // No answer from SES: it may have accepted the message before the connection broke.
  return { kind: 'ambiguous', reason };
}
