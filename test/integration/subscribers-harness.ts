import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../../functions/adapters/aws-clients';
import type { Clock } from '../../functions/commons/clock';
import { subscriberTableDefinition } from '../../functions/contract/subscriber-table';
import { createTable } from '../../functions/local/dynalite-server';
import { deriveKeys } from '../../functions/subscribers/keys';
import type { ConfirmationSender } from '../../functions/subscribers/service';

// dynalite ships no type declarations; this is the slice of its API the tests use.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}) => Server;

export interface RunningDynamo {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** dynalite in this process on a free port, reached through the real SDK client over HTTP. */
export async function startDynamo(): Promise<RunningDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = dynamoClient({ dynamodb: endpoint });
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let tables = 0;

/** A fresh subscriber table per test, created from the definition the stacks use. */
export async function createSubscriberTable(client: DynamoDBClient): Promise<string> {
  const tableName = `subscribers-${process.pid}-${++tables}`;
  await createTable(client, { name: tableName, definition: subscriberTableDefinition });
  return tableName;
}

/** A clock a test moves by hand, for the 7-day and 10-minute windows. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-03-01T09:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(milliseconds: number): void {
    this.current = new Date(this.current.getTime() + milliseconds);
  }
}

export const testKeys = deriveKeys(Buffer.from('integration-test-master-key-0123456789', 'utf8'));

/** Records confirmation emails instead of sending them; `failNext` injects a provider outage. */
export class RecordingConfirmationSender implements ConfirmationSender {
  readonly sent: { to: string; confirmUrl: string; lang: string }[] = [];
  failNext = false;
  async sendConfirmation(to: string, confirmUrl: string, lang: string): Promise<void> {
    // A real send takes a moment; concurrent callers must overlap here, not serialise by luck.
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('simulated provider outage');
    }
    this.sent.push({ to, confirmUrl, lang });
  }
}

export function tokenFrom(url: string): string {
  const token = new URL(url).searchParams.get('token');
  if (!token) throw new Error(`no token in ${url}`);
  return token;
}

/** Tests assert on state, not log lines; keep their output readable. */
export const quietLogger = new Logger({ serviceName: 'pushletter-test', logLevel: 'SILENT' });
