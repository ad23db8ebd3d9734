import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../functions/adapters/aws-clients';
import { readLimitsTable } from '../../functions/commons/config';
import { localTables } from '../../functions/local/create-tables';
import { createTable, ensureTables } from '../../functions/local/dynalite-server';

/**
 * Tables are used only once ACTIVE. dynalite here keeps new tables CREATING for 300 ms, as
 * DynamoDB does for seconds: a helper that returned straight after CreateTable would hand out
 * a table whose first write fails with ResourceNotFoundException (a fresh clone's suite did).
 */
let server: Server;
let client: DynamoDBClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 300, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = dynamoClient({ dynamodb: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

afterAll(async () => {
  client?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

describe('creating the local tables', () => {
  it('returns only once every table and index is ACTIVE, so the first write succeeds', async () => {
    const resources = {
      subscribersTable: 'subscribers',
      issuesTable: 'issues',
      deliveriesTable: 'deliveries',
      countersTable: 'counters',
    };
    const limits = readLimitsTable();
    expect(await ensureTables(client, localTables(resources))).toEqual([
      'subscribers',
      'issues',
      'deliveries',
      limits,
      'counters',
    ]);
    for (const name of [...Object.values(resources), limits]) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.TableStatus, name).toBe('ACTIVE');
      for (const index of Table?.GlobalSecondaryIndexes ?? [])
        expect(index.IndexStatus, `${name} ${index.IndexName}`).toBe('ACTIVE');
    }
    const [subscribers] = localTables(resources);
    await createTable(client, { ...subscribers!, name: 'fresh' });
    await expect(
      client.send(new PutItemCommand({ TableName: 'fresh', Item: { id: { S: 'x' } } })),
    ).resolves.toBeDefined();
    // A second start finds them and creates nothing.
    expect(await ensureTables(client, localTables(resources))).toEqual([]);
  });
});
