import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { DynamoCounterStore } from '../../functions/adapters/dynamodb/counter-store';
import { DynamoIssueStore } from '../../functions/adapters/dynamodb/issue-store';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { countersTableDefinition } from '../../functions/contract/counters-table';
import { deliveriesTableDefinition, issuesTableDefinition } from '../../functions/contract/delivery-tables';
import { describeCounterStore } from '../contract/counter-store';
import { describeIssueStore } from '../contract/issue-store';
import { describeSignupChoices, describeSubscriberDirectory } from '../contract/subscriber-directory';
import { testMessage } from './delivery-harness';
import { createSubscriberTable, type RunningDynamo, startDynamo, testKeys } from './subscribers-harness';

/** The DynamoDB adapters on dynalite pass the contract the in-memory ones pass (test/unit/adapters-memory.test.ts). */
let dynamo: RunningDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});

afterAll(async () => {
  await dynamo?.stop();
});

const message = testMessage();

describeIssueStore(
  'DynamoDB issue store',
  async () => {
    const suffix = `${process.pid}-${++tables}`;
    const names = { issuesTable: `issues-${suffix}`, deliveriesTable: `deliveries-${suffix}` };
    await dynamo.client.send(new CreateTableCommand({ ...issuesTableDefinition, TableName: names.issuesTable }));
    await dynamo.client.send(
      new CreateTableCommand({ ...deliveriesTableDefinition, TableName: names.deliveriesTable }),
    );
    return new DynamoIssueStore(dynamo.client, names);
  },
  () => message,
);

/** A subscriber store on a table of its own, with a clock the contract moves. */
async function subscriberStore(): Promise<{ store: DynamoSubscriberStore; setNow: (at: Date) => void }> {
  const now = { value: new Date('2026-06-01T10:00:00Z') };
  const store = new DynamoSubscriberStore({
    client: dynamo.client,
    tableName: await createSubscriberTable(dynamo.client),
    idKey: testKeys.idKey,
    listName: 'newsletter',
    clock: { now: () => now.value },
  });
  return { store, setNow: (at) => void (now.value = at) };
}

describeSubscriberDirectory('DynamoDB subscriber store', async () => {
  const { store: directory, setNow } = await subscriberStore();
  return {
    directory,
    setNow,
    add: async (email, state) =>
      (await directory.createIfAbsent({ email, state, consent: { at: '2026-06-01T10:00:00.000Z', source: 'import' } }))
        .id,
  };
});

describeSignupChoices('DynamoDB subscriber store', async () => {
  const { store, setNow } = await subscriberStore();
  return {
    store,
    setNow,
    setState: async (id, state) => {
      if (state === 'active') await store.activate(id);
      else await store.deactivate(id);
    },
  };
});

describeCounterStore('DynamoDB counter store', async () => {
  const tableName = `counters-${process.pid}-${++tables}`;
  await dynamo.client.send(new CreateTableCommand({ ...countersTableDefinition, TableName: tableName }));
  return new DynamoCounterStore(dynamo.client, tableName);
});
