import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The counters table (functions/stats/counters.ts): one item per scope and shard, keyed
 * `<scope>|<shard>` (`post#/2024/12/02/welcome/|7`), each counter of the scope an attribute of
 * its own (`sent`, `bounced.permanent`, …). A write adds to one shard picked at random, so a
 * 500/s send spreads its additions over every shard's partition instead of one hot item;
 * reading a scope is one BatchGetItem of its shards, summed. On-demand billing, no index, no
 * TTL: counters are a few items per post and per day and are kept.
 */
export const countersTableDefinition: Omit<CreateTableCommandInput, 'TableName'> = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
};

/** The key attribute, which every item has beside its counters. */
export const COUNTER_KEY_ATTRIBUTE = 'key';
