import type { QueueRecord } from '../../functions/commons/queue';
import type { SnsEvent } from '../../functions/feedback/ses-notifications';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pushletter-ses-events';

/**
 * The body SNS puts on the events queue for one notification (raw message delivery off): the
 * envelope as JSON, the SES event as text in its Message.
 */
export function snsEnvelope(message: string, messageId: string = crypto.randomUUID()): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: TOPIC_ARN,
    Message: message,
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem',
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:1`,
  });
}

/** One batch from the events queue holding each notification of `events`, in order. */
export function queueBatch(events: SnsEvent[]): { Records: QueueRecord[] } {
  const messages = events.flatMap((event) => (event.Records ?? []).map((record) => record.Sns!));
  return {
    Records: messages.map((sns, index) => ({
      messageId: `sqs-${index}-${crypto.randomUUID()}`,
      body: snsEnvelope(sns.Message!, sns.MessageId),
    })),
  };
}
