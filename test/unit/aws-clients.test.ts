import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { GetSendQuotaCommand } from '@aws-sdk/client-ses';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, secretsClient, sesClient, sqsClient } from '../../functions/adapters/aws-clients';
import { lambdaClient, schedulerClient } from '../../functions/adapters/lambda-scheduler-clients';

/** Records the headers of every request, answering each with an empty JSON body. */
let server: Server;
let url: string;
const requests: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.headers);
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  requests.length = 0;
});

/** The region a request was signed for, from its SigV4 credential scope. */
function signedRegion(headers: IncomingHttpHeaders): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(headers.authorization ?? '')?.[1];
}

async function call(send: () => Promise<unknown>): Promise<void> {
  // Only the request matters here; the empty answer may not parse for every service.
  await send().catch(() => undefined);
}

describe('AWS clients', () => {
  it("take region and endpoint from the SDK's own settings, as Lambda and the CLI set them: AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>", async () => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    const services: Array<[string, () => Promise<unknown>]> = [
      ['DYNAMODB', () => dynamoClient().send(new ListTablesCommand({}))],
      ['SES', () => sesClient().send(new GetSendQuotaCommand({}))],
      ['SECRETS_MANAGER', () => secretsClient().send(new ListSecretsCommand({}))],
      ['SQS', () => sqsClient().send(new ListQueuesCommand({}))],
      ['LAMBDA', () => lambdaClient().send(new ListFunctionsCommand({}))],
      ['SCHEDULER', () => schedulerClient().send(new ListSchedulesCommand({}))],
    ];
    for (const [service, send] of services) {
      process.env[`AWS_ENDPOINT_URL_${service}`] = url;
      const before = requests.length;
      await call(send);
      expect(requests.length, service).toBeGreaterThan(before);
      // Never us-east-1 when the runtime says eu-west-1: the tables and grants are there.
      expect(signedRegion(requests.at(-1)!), service).toBe('eu-west-1');
    }
  });

  it('give a region only with a local endpoint, so the local stack needs no AWS settings at all', async () => {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    await call(() => dynamoClient({ dynamodb: url }).send(new ListTablesCommand({})));
    await call(() => sesClient({ ses: url }).send(new GetSendQuotaCommand({})));
    expect(requests).toHaveLength(2);
    for (const headers of requests) expect(headers.authorization).toMatch(/Credential=local\//);
  });
});
