import * as z from 'zod';

/**
 * The parts of an SES event notification (delivered by SNS) that ses-events reads: Send,
 * Bounce, Complaint, Delivery, Reject and DeliveryDelay events of the configuration set, and
 * the older notification format.
 * A field of the wrong type reads as absent, so a payload SES never sends cannot throw; the
 * handler decides what an absent field means (ignored, or malformed and logged).
 */
const text = z.string().optional().catch(undefined);
const recipients = z
  .array(z.looseObject({ emailAddress: text }))
  .optional()
  .catch(undefined);

export const sesNotificationSchema = z.looseObject({
  eventType: text,
  notificationType: text,
  mail: z
    .looseObject({
      messageId: text,
      timestamp: text,
      tags: z.record(z.string(), z.array(z.string()).optional().catch(undefined)).optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  bounce: z
    .looseObject({ bounceType: text, bouncedRecipients: recipients, feedbackId: text, timestamp: text })
    .optional()
    .catch(undefined),
  complaint: z
    .looseObject({ complainedRecipients: recipients, feedbackId: text, timestamp: text })
    .optional()
    .catch(undefined),
  delivery: z.looseObject({ timestamp: text }).optional().catch(undefined),
  reject: z.looseObject({ reason: text }).optional().catch(undefined),
  deliveryDelay: z
    .looseObject({ delayType: text, delayedRecipients: recipients, timestamp: text })
    .optional()
    .catch(undefined),
});

export type SesNotification = z.infer<typeof sesNotificationSchema>;

/**
 * An SNS notification as the events queue holds it (the topic's subscription delivers the
 * envelope, not the raw message): the SES event is the JSON text in `Message`.
 */
export const snsEnvelopeSchema = z.looseObject({
  Type: z.literal('Notification'),
  MessageId: text,
  Message: z.string(),
});
