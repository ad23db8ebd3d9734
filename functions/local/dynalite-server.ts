import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { PushletterError } from '../commons/errors';
import { logger } from '../commons/logger';
import type { LocalTable } from './create-tables';
import { close, listen } from './listen';

export interface LocalDynamo {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * dynalite in this process, persisted under `path` (in memory without one). Tables are created
 * instantly (`createTableMs: 0`) so the first request after start never sees CREATING.
 */
export async function startDynalite(options: { path?: string; port: number; setting: string }): Promise<LocalDynamo> {
  if (options.path) await mkdir(options.path, { recursive: true });
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  const port = await listen(server, options.port, options.setting);
  return { endpoint: `http://127.0.0.1:${port}`, port, stop: () => close(server) };
}

async function tableExists(client: DynamoDBClient, name: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as { name?: string }).name === 'ResourceNotFoundException')
      return false;
    throw error;
  }
}

/** How long a new table may stay CREATING before giving up; dynalite takes milliseconds. */
const TABLE_ACTIVE_TIMEOUT_MS = 30_000;

/**
 * Creates a table and returns once it is ACTIVE. CreateTable answers while the table is still
 * CREATING (dynalite too, for a timer tick even with `createTableMs: 0`), and a write in that
 * window fails with ResourceNotFoundException: on a busy machine the first write after start
 * did. Tests and benchmarks create their tables through this as well.
 */
export async function createTable(client: DynamoDBClient, table: LocalTable): Promise<void> {
  await client.send(new CreateTableCommand({ ...table.definition, TableName: table.name }));
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (let delayMs = 5; ; delayMs = Math.min(delayMs * 2, 200)) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new PushletterError(
        'LOCAL_TABLE_NOT_ACTIVE',
        `DynamoDB table ${table.name} is still ${Table?.TableStatus ?? 'missing'} after ${TABLE_ACTIVE_TIMEOUT_MS / 1000} s; is the DynamoDB endpoint overloaded?`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

/** Creates the tables that do not exist yet; existing ones (and their data) are left alone. */
export async function ensureTables(client: DynamoDBClient, tables: LocalTable[]): Promise<string[]> {
  const created: string[] = [];
  for (const table of tables) {
    if (await tableExists(client, table.name)) continue;
    await createTable(client, table);
    created.push(table.name);
    logger.info('local.table.created', { table: table.name });
  }
  return created;
}
