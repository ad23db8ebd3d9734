/**
 * What sending an email needs from the outside world: a mailer that takes a complete message
 * and a limiter that spaces sends to the account's rate. Delivery and the subscriber flows
 * declare their needs with these; adapters/ implements them (SES, a DynamoDB-held window).
 */

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

/** Waits until one more email may go out without exceeding the send rate. */
export interface SendRateLimiter {
  acquire(): Promise<void>;
}
