import { type SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { PushletterError } from '../commons/errors';
import type { Mailer, RawMessage } from '../mail/mailer';

/** The Mailer interface on SES v1 SendRawEmail (AWS and aws-ses-v2-local alike). */
export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESClient,
    /** Bounce and complaint events are published through it; unset locally. */
    private readonly configurationSet?: string,
  ) {}

  async sendRaw(message: RawMessage): Promise<string> {
    const tags = Object.entries(message.tags ?? {}).map(([Name, Value]) => ({ Name, Value }));
    const result = await this.client.send(
      new SendRawEmailCommand({
        Destinations: [message.to],
        RawMessage: { Data: message.data },
        ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
        ...(tags.length > 0 ? { Tags: tags } : {}),
      }),
    );
    if (!result.MessageId)
      throw new PushletterError('SES_NO_MESSAGE_ID', 'SES accepted the message but returned no message id');
    return result.MessageId;
  }
}
