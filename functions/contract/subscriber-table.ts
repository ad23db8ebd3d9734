import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** The sparse index the sender pages: only active subscribers carry its partition attribute. */
export const ACTIVE_INDEX = 'active-by-list';

/**
 * Epoch seconds after which DynamoDB deletes the item (TTL, enabled by the CDK stack). Only a
 * pending signup carries it, 7 days after its latest signup (as long as its confirmation link
 * works); confirming removes it. dynalite has no TTL: the local stack sweeps such items instead.
 */
export const SUBSCRIBERS_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The subscriber table, one item per address:
 * - `id` (partition key): keyed hash of the normalised address (see keys.ts), so finding an
 *   address is one GetItem and a second item for the same address cannot exist.
 * - `activeList`: the list name, present only while `state = active`. The index on it is
 *   sparse, so paging the active subscribers of a million-address list is Query pages over
 *   exactly those items, never a scan of pending, unsubscribed or bounced ones. The sort key
 *   `id` gives a stable order for a checkpointed cursor.
 * Every change is a single conditional write (dynalite has no transactions).
 *
 * The local stack creates the table from this; the CDK stack mirrors it (an infra test
 * compares the two). On-demand billing, so no capacity settings here.
 */
export const subscriberTableDefinition: Omit<CreateTableCommandInput, 'TableName'> = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'id', AttributeType: 'S' },
    { AttributeName: 'activeList', AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: ACTIVE_INDEX,
      KeySchema: [
        { AttributeName: 'activeList', KeyType: 'HASH' },
        { AttributeName: 'id', KeyType: 'RANGE' },
      ],
      // The sender needs the address and language of each recipient; projecting everything
      // saves a GetItem per recipient, and items are a few hundred bytes.
      Projection: { ProjectionType: 'ALL' },
    },
  ],
};
