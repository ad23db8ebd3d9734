import { MessageRejected } from '@aws-sdk/client-ses';
import { describe, expect, it } from 'vitest';
import { classifySesError } from '../../functions/mail/ses-errors';

function sdkError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe('what an SES error means for a recipient', () => {
  it("treats a rejected message or an invalid address as final, keeping SES's words", () => {
    const rejected = new MessageRejected({
      message: 'Email address is not verified.',
      $metadata: { httpStatusCode: 400 },
    });
    expect(classifySesError(rejected)).toEqual({
      kind: 'rejected',
      reason: 'MessageRejected: Email address is not verified.',
    });
    expect(classifySesError(sdkError('InvalidParameterValue', "Missing final '@domain'", 400)).kind).toBe('rejected');
    expect(classifySesError(sdkError('MailFromDomainNotVerifiedException', 'not verified', 400)).kind).toBe('rejected');
  });

  it('retries throttling in each of the shapes SES uses, and server errors', () => {
    expect(classifySesError(sdkError('Throttling', 'Maximum sending rate exceeded.', 400)).kind).toBe('retry');
    expect(classifySesError(sdkError('ThrottlingException', 'Rate exceeded', 400)).kind).toBe('retry');
    // Sending quota errors arrive as a generic 400 whose message says what happened.
    expect(classifySesError(sdkError('BadRequest', 'Maximum sending rate exceeded.', 400)).kind).toBe('retry');
    expect(classifySesError(sdkError('Throttling', 'Daily message quota exceeded.', 400)).kind).toBe('retry');
    expect(classifySesError(sdkError('ServiceUnavailable', 'Service is unavailable', 503)).kind).toBe('retry');
    expect(classifySesError(sdkError('UnknownError', '', 500)).kind).toBe('retry');
    expect(classifySesError(sdkError('AccountSendingPausedException', 'paused', 400)).kind).toBe('retry');
  });

  it('retries when the connection was refused (nothing reached SES) but not when it broke mid-request', () => {
    expect(
      classifySesError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })).kind,
    ).toBe('retry');
    expect(classifySesError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).kind).toBe('ambiguous');
    expect(classifySesError(Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })).kind).toBe(
      'ambiguous',
    );
  });
});
