import { BatchWriteItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { InvalidInputError } from '../../functions/commons/errors';
import { ACTIVE_INDEX } from '../../functions/contract/subscriber-table';
import type { SubscriberState } from '../../functions/subscribers/types';
import { createSubscriberTable, ManualClock, type RunningDynamo, startDynamo, testKeys } from './subscribers-harness';

let dynamo: RunningDynamo;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});

async function newStore(
  listName = 'newsletter',
): Promise<{ store: DynamoSubscriberStore; tableName: string; clock: ManualClock }> {
  const tableName = await createSubscriberTable(dynamo.client);
  const clock = new ManualClock();
  return {
    store: new DynamoSubscriberStore({ client: dynamo.client, tableName, idKey: testKeys.idKey, listName, clock }),
    tableName,
    clock,
  };
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof InvalidInputError ? error.code : String(error);
  }
}

describe('paging active subscribers for the sender', () => {
  it('returns each of 2,500 mixed-state subscribers that is active exactly once, and nobody else', async () => {
    const { store, tableName, clock } = await newStore();
    const consent = { at: clock.now().toISOString(), source: 'test' };
    const states = new Map<string, SubscriberState>();
    // Most of the list is loaded in bulk, in the item shape the store writes, to keep the test
    // quick on a busy machine; the last 300 go through every store transition.
    const bulk = Array.from({ length: 2200 }, (_, index) => `bulk${index}@example.com`);
    const cycle: SubscriberState[] = ['active', 'pending', 'unsubscribed', 'active', 'bounced', 'complained'];
    for (let start = 0; start < bulk.length; start += 25) {
      const items = bulk.slice(start, start + 25).map((email, offset) => {
        const state = cycle[(start + offset) % cycle.length]!;
        states.set(email, state);
        return {
          PutRequest: {
            Item: marshall({
              id: store.idFor(email),
              email,
              list: 'newsletter',
              state,
              createdAt: consent.at,
              consent,
              ...(state === 'active' ? { activeList: 'newsletter' } : {}),
            }),
          },
        };
      });
      await dynamo.client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: items } }));
    }
    const flows = Array.from({ length: 300 }, (_, index) => `reader${index}@example.com`);
    await inParallel(flows, 8, async (email) => {
      const index = Number(email.slice(6, email.indexOf('@')));
      const kind = index % 6;
      const { id } = await store.createIfAbsent({
        email,
        state: kind === 1 || kind === 5 ? 'pending' : 'active',
        consent,
      });
      let state: SubscriberState = kind === 1 || kind === 5 ? 'pending' : 'active';
      if (kind === 2 && (await store.deactivate(id))) state = 'unsubscribed';
      if (kind === 3) {
        state = index % 12 === 3 ? 'bounced' : 'complained';
        await store.suppress(id, state, clock.now());
      }
      if (kind === 5 && (await store.activate(id))) state = 'active';
      states.set(email, state);
    });
    const expected = [...states]
      .filter(([, state]) => state === 'active')
      .map(([email]) => email)
      .sort();
    // 2 of every 6 bulk rows (734) and 3 of every 6 flow rows (150) end active.
    expect(expected.length).toBe(734 + 150);

    for (const pageSize of [1000, 97]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.pageActive(cursor, pageSize);
        expect(page.subscribers.length).toBeLessThanOrEqual(pageSize);
        for (const subscriber of page.subscribers) expect(subscriber.state).toBe('active');
        seen.push(...page.subscribers.map((subscriber) => subscriber.email));
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      expect(seen.length).toBe(expected.length);
      expect([...seen].sort()).toEqual(expected);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / pageSize));
    }

    // The index is sparse: it holds the active subscribers and nothing else, so a send to a
    // big list reads only the people it mails.
    const indexed = await dynamo.client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: ACTIVE_INDEX,
        KeyConditionExpression: 'activeList = :list',
        ExpressionAttributeValues: { ':list': { S: 'newsletter' } },
        Select: 'COUNT',
      }),
    );
    expect(indexed.Count).toBe(expected.length);

    const counts = await store.countByState();
    expect(counts).toEqual({
      active: expected.length,
      pending: [...states.values()].filter((state) => state === 'pending').length,
      unsubscribed: [...states.values()].filter((state) => state === 'unsubscribed').length,
      bounced: [...states.values()].filter((state) => state === 'bounced').length,
      complained: [...states.values()].filter((state) => state === 'complained').length,
    });
  });

  it('resumes from a checkpointed cursor even when that subscriber left in between', async () => {
    const { store, clock } = await newStore();
    const consent = { at: clock.now().toISOString(), source: 'test' };
    for (let index = 0; index < 10; index++)
      await store.createIfAbsent({ email: `r${index}@example.com`, state: 'active', consent });
    const first = await store.pageActive(undefined, 4);
    const lastOfFirst = first.subscribers[3]!;
    const nextOfFirst = (await store.pageActive(first.cursor, 1)).subscribers[0]!;
    await store.deactivate(lastOfFirst.id);
    await store.deactivate(nextOfFirst.id);
    const rest: string[] = [];
    let cursor = first.cursor;
    while (cursor !== undefined) {
      const page = await store.pageActive(cursor, 4);
      rest.push(...page.subscribers.map((subscriber) => subscriber.id));
      cursor = page.cursor;
    }
    expect(rest).toHaveLength(5);
    expect(rest).not.toContain(nextOfFirst.id);
    expect(new Set([...first.subscribers.map((subscriber) => subscriber.id), ...rest]).size).toBe(9);
  });

  it('refuses damaged cursors, cursors of another list and impossible page sizes', async () => {
    const { store, clock } = await newStore();
    const consent = { at: clock.now().toISOString(), source: 'test' };
    for (let index = 0; index < 3; index++)
      await store.createIfAbsent({ email: `r${index}@example.com`, state: 'active', consent });
    const { cursor } = await store.pageActive(undefined, 1);
    expect(cursor).toBeDefined();
    const other = new DynamoSubscriberStore({
      client: dynamo.client,
      tableName: 'unused',
      idKey: testKeys.idKey,
      listName: 'another-list',
      clock,
    });
    expect(await codeOf(other.pageActive(cursor, 10))).toBe('CURSOR_INVALID');
    for (const bad of [
      '',
      'not a cursor!',
      Buffer.from('{"l":"newsletter","i":"x"}').toString('base64url'),
      Buffer.from('[1,2]').toString('base64url'),
      `${cursor}AAAA`,
    ]) {
      expect(await codeOf(store.pageActive(bad, 10)), bad).toBe('CURSOR_INVALID');
    }
    for (const size of [0, -1, 1.5, 1001, Number.NaN]) {
      expect(await codeOf(store.pageActive(undefined, size)), String(size)).toBe('PAGE_SIZE_INVALID');
    }
  });
});

describe('store state changes', () => {
  it('keeps one item per address whatever its spelling, and forgets it completely', async () => {
    const { store, clock } = await newStore();
    const consent = { at: clock.now().toISOString(), source: 'test' };
    expect((await store.createIfAbsent({ email: 'Jane@Example.org', state: 'pending', consent })).created).toBe(true);
    expect((await store.createIfAbsent({ email: ' jane@EXAMPLE.org ', state: 'active', consent })).created).toBe(false);
    expect(await store.findByEmail('JANE@example.org')).toMatchObject({ email: 'jane@example.org', state: 'pending' });
    expect(await store.delete(store.idFor('jane@example.org'))).toBe(true);
    expect(await store.findByEmail('jane@example.org')).toBeUndefined();
    expect(await store.delete(store.idFor('jane@example.org'))).toBe(false);
    // A bounce or an unsubscribe for someone forgotten must not recreate a record.
    await store.suppress(store.idFor('jane@example.org'), 'bounced', clock.now());
    expect(await store.deactivate(store.idFor('jane@example.org'))).toBeUndefined();
    expect(await store.get(store.idFor('jane@example.org'))).toBeUndefined();
  });

  it('answers lookups for ids that cannot exist without touching the table', async () => {
    const { store } = await newStore();
    expect(await store.get('../../etc/passwd')).toBeUndefined();
    expect(await store.activate('nope')).toBe(false);
  });
});
