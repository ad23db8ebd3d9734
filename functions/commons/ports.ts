/**
 * The ports handlers depend on. One composition module per environment (AWS Lambda, local
 * stack) builds them; handlers never know which one they run in.
 */

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface RawMessage {
  /** The envelope recipient; the message's own To header must already name them. */
  to: string;
  /** The complete RFC 5322 message, CRLF line endings. */
  data: Uint8Array;
  /**
   * SES message tags (names and values: ASCII letters, digits, `_`, `-`); SES echoes them in
   * bounce and complaint events, which is how an event finds its post and recipient.
   */
  tags?: Record<string, string>;
}

/** Sends complete MIME messages (SES SendRawEmail on AWS and locally). */
export interface Mailer {
  /** Resolves to the provider's message id. Rejects with the provider's error untouched. */
  sendRaw(message: RawMessage): Promise<string>;
}

/** A queue that delivers SQS-shaped batches to one consumer (SQS on AWS, in-process locally). */
export interface Queue<T> {
  /** `delayMs`: delivered no sooner (SQS DelaySeconds, at most 15 minutes). */
  send(messages: T[], options?: { delayMs?: number }): Promise<void>;
}
