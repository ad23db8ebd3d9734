import { describe, expect, it } from 'vitest';
import { bucketCountFor, bucketOf, decodeClaim, encodeClaim, ledgerKey } from '../../functions/delivery/claims';
import { seededBytes } from '../seeded-random';

/** Ids from a fixed seed: the same on every run. */
const randomBytes = seededBytes(10);

const ids = (count: number) => Array.from({ length: count }, () => randomBytes(16).toString('base64url'));

describe('claim buckets', () => {
  it('never decrease along the order DynamoDB sorts ids in, so a page of the index is a run of buckets', () => {
    // Sorted by code point, as DynamoDB sorts strings (not by localeCompare).
    const sorted = ids(5_000).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const buckets of [1, 7, 125, 100_000]) {
      const order = sorted.map((id) => bucketOf(id, buckets));
      for (let index = 1; index < order.length; index++)
        expect(order[index]!).toBeGreaterThanOrEqual(order[index - 1]!);
      expect(Math.min(...order)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...order)).toBeLessThan(buckets);
    }
  });

  it('hold about RECIPIENTS_PER_BUCKET subscribers each, and none holds several times that', () => {
    const list = ids(20_000);
    const buckets = bucketCountFor(list.length);
    expect(buckets).toBe(500);
    const sizes = new Map<number, number>();
    for (const id of list) sizes.set(bucketOf(id, buckets), (sizes.get(bucketOf(id, buckets)) ?? 0) + 1);
    expect(sizes.size).toBeGreaterThan(495);
    expect(Math.max(...sizes.values())).toBeLessThan(100);
  });

  it('give even an empty list one bucket, and ledger keys sort in bucket order', () => {
    expect(bucketCountFor(0)).toBe(1);
    expect(bucketOf('AAAAAAAAAAAAAAAAAAAAAA', 1)).toBe(0);
    expect(bucketOf('zzzzzzzzzzzzzzzzzzzzzz', 1)).toBe(0);
    const keys = [3, 20, 100, 9].map(ledgerKey);
    expect([...keys].sort()).toEqual([3, 9, 20, 100].map(ledgerKey));
  });
});

describe('claim values', () => {
  it('keep whether Send events can decide them, and read claims written before that as undecidable', () => {
    const watched = { claimedAt: '2026-12-01T10:00:00.000Z', token: 'a1b2', sendEvents: true };
    expect(decodeClaim(encodeClaim(watched))).toEqual(watched);
    const unwatched = { claimedAt: '2026-12-01T10:00:00.000Z', token: 'a1b2' };
    expect(encodeClaim(unwatched)).toBe('2026-12-01T10:00:00.000Z a1b2');
    expect(decodeClaim('2026-12-01T10:00:00.000Z a1b2')).toEqual(unwatched);
  });
});
