/**
 * Claim buckets: the exactly-once point of a send, one DynamoDB item per bucket of recipients.
 *
 * A recipient may reach the sender more than once (SQS redelivery, a dispatcher that resumes
 * a page, a local restart re-dispatching a post), so before SES is called the recipient is
 * claimed with a conditional write that only one sender can win. Claiming one recipient per
 * write costs a DynamoDB request per email; instead each post's recipients are split into
 * buckets by subscriber id, and a sender claims a group of one bucket's recipients with one
 * conditional update of the bucket's ledger item (one attribute per recipient, written only if
 * none of them exists yet).
 *
 * A recipient must map to the same ledger however they reach the sender, so the bucket is a
 * function of the subscriber id alone and of the post's bucket count, fixed on the issue
 * record before the first page is queued. Buckets are ranges of the active index's sort order,
 * so the dispatcher's pages fall into whole runs of buckets and a queue message holds one.
 */

/** Subscribers per bucket the count is chosen for; a queue message carries about one bucket. */
export const RECIPIENTS_PER_BUCKET = 40;

/** Sort-key prefix of ledger items in the deliveries table; subscriber ids never start with '~'. */
export const LEDGER_PREFIX = '~claims#';

/** Base64url characters in the order DynamoDB sorts them (by code point). */
const SORTED_ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const RANK = new Map([...SORTED_ALPHABET].map((character, index) => [character, index]));
/** Leading id characters that decide the bucket: 8 × 6 bits, exact in a double. */
const SIGNIFICANT_CHARACTERS = 8;
const SPACE = 64 ** SIGNIFICANT_CHARACTERS;

/** Buckets for a list of `activeSubscribers`: at least one, about RECIPIENTS_PER_BUCKET each. */
export function bucketCountFor(activeSubscribers: number): number {
  return Math.max(1, Math.ceil(activeSubscribers / RECIPIENTS_PER_BUCKET));
}

/**
 * The bucket (0 … buckets − 1) of a subscriber id. Never decreases along the index's sort
 * order, so consecutive ids share a bucket and a page is a run of buckets.
 */
export function bucketOf(subscriberId: string, buckets: number): number {
  let position = 0;
  for (let index = 0; index < SIGNIFICANT_CHARACTERS; index++) {
    position = position * 64 + (RANK.get(subscriberId[index] ?? '') ?? 0);
  }
  return Math.min(buckets - 1, Math.floor((position / SPACE) * buckets));
}

/** The ledger item's sort key: zero-padded so ledgers sort in bucket order. */
export function ledgerKey(bucket: number): string {
  return `${LEDGER_PREFIX}${String(bucket).padStart(10, '0')}`;
}

/** A ledger attribute per claimed recipient; the prefix keeps them apart from the item's keys. */
export function claimAttribute(subscriberId: string): string {
  return `c.${subscriberId}`;
}

export function subscriberOfClaimAttribute(attribute: string): string | undefined {
  return attribute.startsWith('c.') ? attribute.slice(2) : undefined;
}

/** A claim's value: when it was taken and a token private to the sender that took it. */
export interface Claim {
  claimedAt: string;
  token: string;
  /**
   * Taken while SES published Send events for our copies (SendEventsResolution in send.ts): if
   * its sender dies, the copy can be decided later from those events. Claims taken without them
   * (before they were configured, or against an SES stand-in that publishes none) stay `unknown`.
   */
  sendEvents?: boolean;
}

/** Marks a claim whose copy SES reports with a Send event; older claims have two fields only. */
const SEND_EVENTS_MARK = 'e';

export function encodeClaim(claim: Claim): string {
  return `${claim.claimedAt} ${claim.token}${claim.sendEvents ? ` ${SEND_EVENTS_MARK}` : ''}`;
}

export function decodeClaim(value: string): Claim {
  const [claimedAt = '', token = '', mark] = value.split(' ');
  return mark === SEND_EVENTS_MARK ? { claimedAt, token, sendEvents: true } : { claimedAt, token };
}

/** One bucket of one post: where its recipients' claims are kept. */
export interface Ledger {
  postId: string;
  bucket: number;
  /** The post's bucket count (fixed on its issue record). */
  buckets: number;
}
