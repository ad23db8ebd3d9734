import { BatchGetItemCommand, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { COUNTER_KEY_ATTRIBUTE } from '../../contract/counters-table';
import type { CounterIncrement, CounterStore } from '../../stats/counters';
import { untilProcessed } from './requests';

/**
 * Shards per scope. At 500 emails/s a post's additions spread to ~30 writes/s per item, far
 * under a partition's 1,000; reading a scope stays one BatchGetItem (at most 100 keys). Never
 * lower it on a table in use: counts in the shards above the new number would no longer be read.
 */
export const COUNTER_SHARDS = 16;

/** UpdateItem allows 4 KB of expression; a scope's names beyond this go in a second write. */
const NAMES_PER_WRITE = 50;

/**
 * Counters in DynamoDB (contract/counters-table.ts). `add` first merges the increments it is
 * given, so a caller that gathers an invocation's increments and adds them once (the delivery
 * worker per batch, ses-events per batch of events) costs one UpdateItem `ADD` per scope,
 * whatever the number of events: 40 copies sent are one write of `sent = 40`.
 */
export class DynamoCounterStore implements CounterStore {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
    private readonly shards = COUNTER_SHARDS,
    private readonly pickShard: (shards: number) => number = (shards) => Math.floor(Math.random() * shards),
  ) {}

  async add(increments: readonly CounterIncrement[]): Promise<void> {
    const merged = new Map<string, Map<string, number>>();
    for (const { scope, name, by = 1 } of increments) {
      if (by === 0) continue;
      const counters = merged.get(scope) ?? new Map<string, number>();
      counters.set(name, (counters.get(name) ?? 0) + by);
      merged.set(scope, counters);
    }
    const writes: Promise<unknown>[] = [];
    for (const [scope, counters] of merged) {
      const entries = [...counters].filter(([, by]) => by !== 0);
      for (let start = 0; start < entries.length; start += NAMES_PER_WRITE)
        writes.push(this.write(scope, entries.slice(start, start + NAMES_PER_WRITE)));
    }
    await Promise.all(writes);
  }

  private write(scope: string, entries: [string, number][]): Promise<unknown> {
    const names: Record<string, string> = {};
    const values: Record<string, { N: string }> = {};
    const additions = entries.map(([name, by], index) => {
      names[`#n${index}`] = name;
      values[`:v${index}`] = { N: String(by) };
      return `#n${index} :v${index}`;
    });
    return this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [COUNTER_KEY_ATTRIBUTE]: { S: shardKey(scope, this.pickShard(this.shards)) } },
        UpdateExpression: `ADD ${additions.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async read(scope: string): Promise<Record<string, number>> {
    const totals: Record<string, number> = {};
    const keys = Array.from({ length: this.shards }, (_, shard) => ({
      [COUNTER_KEY_ATTRIBUTE]: { S: shardKey(scope, shard) },
    }));
    await untilProcessed(
      keys,
      async (left) => {
        const result = await this.dynamo.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: left } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? [])
          for (const [name, value] of Object.entries(item))
            if (name !== COUNTER_KEY_ATTRIBUTE && value.N !== undefined)
              totals[name] = (totals[name] ?? 0) + Number(value.N);
        return result.UnprocessedKeys?.[this.tableName]?.Keys as typeof left | undefined;
      },
      { firstMs: 25, maxMs: 1_000 },
    );
    return totals;
  }
}

function shardKey(scope: string, shard: number): string {
  return `${scope}|${shard}`;
}
