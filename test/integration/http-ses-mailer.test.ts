import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sesClient } from '../../functions/adapters/aws-clients';
import { SesMailer } from '../../functions/adapters/ses-mailer';

/**
 * SesMailer speaks SES v1 SendRawEmail. A small SES-compatible endpoint records what arrives
 * (the emulator drops configuration sets and tags, which bounce handling depends on) and can
 * answer with the errors SES sends.
 */
let server: Server;
let endpoint: string;
const received: URLSearchParams[] = [];
let reject: string | undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(new URLSearchParams(Buffer.concat(chunks).toString()));
      if (reject !== undefined) {
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>MessageRejected</Code><Message>${reject}</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`,
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(
        '<SendRawEmailResponse><SendRawEmailResult><MessageId>0100-ses-id</MessageId></SendRawEmailResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></SendRawEmailResponse>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const MESSAGE = Buffer.from('From: a@example.com\r\nTo: reader@example.com\r\nSubject: hi\r\n\r\nbody\r\n');

describe('SesMailer', () => {
  it('sends the raw message to the envelope recipient with the configuration set and tags', async () => {
    received.length = 0;
    const mailer = new SesMailer(sesClient({ ses: endpoint }), 'pushletter-events');
    const id = await mailer.sendRaw({
      to: 'reader@example.com',
      data: MESSAGE,
      tags: { post: '2026-11-20-welcome', subscriber: 'abc_123' },
    });
    expect(id).toBe('0100-ses-id');
    const params = received[0]!;
    expect(params.get('Action')).toBe('SendRawEmail');
    expect(params.get('Destinations.member.1')).toBe('reader@example.com');
    expect(Buffer.from(params.get('RawMessage.Data')!, 'base64').equals(MESSAGE)).toBe(true);
    expect(params.get('ConfigurationSetName')).toBe('pushletter-events');
    expect([params.get('Tags.member.1.Name'), params.get('Tags.member.1.Value')]).toEqual([
      'post',
      '2026-11-20-welcome',
    ]);
    expect([params.get('Tags.member.2.Name'), params.get('Tags.member.2.Value')]).toEqual(['subscriber', 'abc_123']);
  });

  it('sends no configuration set when none is configured (the local stack)', async () => {
    received.length = 0;
    await new SesMailer(sesClient({ ses: endpoint })).sendRaw({ to: 'reader@example.com', data: MESSAGE });
    expect(received[0]!.has('ConfigurationSetName')).toBe(false);
    expect(received[0]!.has('Tags.member.1.Name')).toBe(false);
  });

  it("passes SES's rejection through untouched, so the sender can classify it", async () => {
    reject = 'Email address is not verified.';
    try {
      const sending = new SesMailer(sesClient({ ses: endpoint })).sendRaw({ to: 'reader@example.com', data: MESSAGE });
      await expect(sending).rejects.toMatchObject({
        name: 'MessageRejected',
        message: 'Email address is not verified.',
      });
    } finally {
      reject = undefined;
    }
  });
});
