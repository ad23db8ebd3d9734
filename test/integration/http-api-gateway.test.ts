import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGatewayHandler } from '../../functions/http/api-gateway';
import { createHttpApp } from '../../functions/http/app';
import { deriveKeys, hashIp } from '../../functions/subscribers/keys';
import { confirmLink, heading, inbox, startTestStack, type TestStack, uniqueAddress } from './http-helpers';

/**
 * The same app behind API Gateway's HTTP API (payload 2.0): events shaped as API Gateway sends
 * them, handled against dynalite and the SES emulator.
 */
let stack: TestStack;
let handler: ReturnType<typeof apiGatewayHandler>;

beforeAll(async () => {
  stack = await startTestStack();
  const app = createHttpApp(stack.composition.http);
  handler = apiGatewayHandler(async () => app);
});

afterAll(async () => {
  await stack?.dispose();
});

function event(
  method: string,
  rawPath: string,
  options: {
    query?: string;
    headers?: Record<string, string>;
    body?: string;
    base64?: boolean;
    stage?: string;
    sourceIp?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const body =
    options.body === undefined
      ? undefined
      : options.base64
        ? Buffer.from(options.body).toString('base64')
        : options.body;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: options.query ?? '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', ...options.headers },
    body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? '203.0.113.7',
        userAgent: 'test',
      },
      requestId: 'request-1',
      routeKey: '$default',
      stage: options.stage ?? '$default',
      time: '26/Nov/2026:04:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
    },
  } as APIGatewayProxyEventV2;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the API Lambda handler', () => {
  it('serves the signup page with the security headers', async () => {
    const result = await handler(event('GET', '/'));
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toMatch(/^text\/html/);
    expect(result.headers?.['referrer-policy']).toBe('no-referrer');
    expect(heading(String(result.body))).toBe('Subscribe to Example Blog');
  });

  it('subscribes from a base64 form body and hashes the source IP from the request context', async () => {
    const address = uniqueAddress('lambda');
    const result = await handler(
      event('POST', '/subscribe', {
        headers: FORM,
        body: `email=${encodeURIComponent(address)}`,
        base64: true,
        sourceIp: '198.51.100.23',
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(heading(String(result.body))).toBe('Check your inbox');
    const subscriber = await stack.composition.subscribers.findByEmail(address);
    expect(subscriber?.state).toBe('pending');
    const { ipKey } = deriveKeys(Buffer.from(stack.composition.secrets.tokenKey, 'base64'));
    expect(subscriber?.consent.ipHash).toBe(hashIp(ipKey, '198.51.100.23'));

    const link = new URL(await confirmLink(stack, address));
    const shown = await handler(event('GET', '/confirm', { query: link.search.slice(1) }));
    expect(heading(String(shown.body))).toBe('Confirm your subscription to Example Blog');
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('pending');
    const confirmed = await handler(
      event('POST', '/confirm', { query: link.search.slice(1), headers: FORM, body: '' }),
    );
    expect(heading(String(confirmed.body))).toBe('You are subscribed');
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('active');
  });

  it('routes under a named stage as under $default', async () => {
    const address = uniqueAddress('stage');
    const result = await handler(
      event('POST', '/prod/subscribe', {
        stage: 'prod',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: address }),
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(String(result.body))).toMatchObject({ status: 'check-inbox' });
    expect(await inbox(stack, address)).toHaveLength(1);
  });

  it('unsubscribes with one-click and answers bad input with 4xx', async () => {
    const address = uniqueAddress('lambda-leave');
    await handler(event('POST', '/subscribe', { headers: FORM, body: `email=${encodeURIComponent(address)}` }));
    const subscriber = await stack.composition.subscribers.findByEmail(address);
    const query = new URL(stack.composition.subscriptions.unsubscribeUrl(subscriber!.id)).search.slice(1);
    const result = await handler(
      event('POST', '/unsubscribe', { query, headers: FORM, body: 'List-Unsubscribe=One-Click' }),
    );
    expect(result.statusCode).toBe(200);
    expect((await stack.composition.subscribers.findByEmail(address))?.state).toBe('unsubscribed');

    expect(
      (await handler(event('POST', '/subscribe', { headers: FORM, body: 'x'.repeat(20_000), base64: true })))
        .statusCode,
    ).toBe(413);
    expect(
      (await handler(event('POST', '/subscribe', { headers: { 'content-type': 'application/json' }, body: '{' })))
        .statusCode,
    ).toBe(400);
    expect((await handler(event('GET', '/missing'))).statusCode).toBe(404);
    expect((await handler(event('PUT', '/'))).statusCode).toBe(405);
  });
});
