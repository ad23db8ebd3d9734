import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** DynamoDB deletes items past this epoch-seconds attribute (TTL, enabled by the CDK stack). */
export const LIMITS_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The signup limits and the confirmations waiting for the hourly cap, one table:
 * - `pk = <kind>#<keyed hash>`, `sk = log`: a sliding log of recent hits for one client or
 *   mailbox (`hits`, epoch milliseconds, oldest first), with a `version` for optimistic writes.
 * - `pk = hour`, `sk = <ISO hour>`: how many confirmations went out in that clock hour.
 * - `pk = waiting`, `sk = <queued at>#<subscriber id>`: a confirmation waiting for the cap,
 *   read oldest first.
 * - `pk = followup`, `sk = <due at>#<kind>#<subscriber id>`: a reader's welcome email or
 *   confirmation reminder to look at once it is due (subscribers/follow-ups.ts), read oldest
 *   first; the subscriber item decides, with a conditional write, whether it is still owed.
 * Limit items carry `expiresAt`; dynalite has no TTL, so reads ignore an item past it.
 */
export const limitsTableDefinition: Omit<CreateTableCommandInput, 'TableName'> = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
};
