import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The sending pipeline's tables, as CreateTable inputs without a name. The local stack creates
 * them from these and the CDK stack mirrors them, so both agree on keys.
 */
export type TableDefinition = Omit<CreateTableCommandInput, 'TableName'>;

/**
 * One item per post: the idempotency point for every way a post can arrive twice. One more
 * item, under WELCOME_ISSUE_ID (no post id can take it), holds the blog's own welcome email.
 */
export const issuesTableDefinition: TableDefinition = {
  AttributeDefinitions: [{ AttributeName: 'postId', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'postId', KeyType: 'HASH' }],
  BillingMode: 'PAY_PER_REQUEST',
};

/**
 * One record per post and recipient once their copy is sent, failed or skipped, and one claim
 * ledger per post and bucket of recipients (claims.ts; sort key `~claims#…`). The shared
 * send-rate window lives here too, under a partition key no post id can take (see
 * rate-limit.ts); its items carry `expiresAt` for the table's TTL.
 */
export const deliveriesTableDefinition: TableDefinition = {
  AttributeDefinitions: [
    { AttributeName: 'postId', AttributeType: 'S' },
    { AttributeName: 'subscriberId', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'postId', KeyType: 'HASH' },
    { AttributeName: 'subscriberId', KeyType: 'RANGE' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

/** The issues table item of the welcome email read from the blog's `_newsletter/welcome.md`. */
export const WELCOME_ISSUE_ID = 'newsletter:welcome';

/** Attribute the CDK stack enables TTL on for the deliveries table. */
export const DELIVERIES_TTL_ATTRIBUTE = 'expiresAt';
