import { describe, expect, it } from 'vitest';
import { mailboxOf } from '../../functions/subscribers/mailbox';
import { retryTime } from '../../functions/subscribers/signup-limits';

describe('the mailbox of an address (for limits)', () => {
  it('folds sub-addresses, and dots where Gmail ignores them', () => {
    expect(mailboxOf('me+1@example.com')).toBe('me@example.com');
    expect(mailboxOf('me+news+x@example.com')).toBe('me@example.com');
    expect(mailboxOf('m.e+x@gmail.com')).toBe('me@gmail.com');
    expect(mailboxOf('M.E@googlemail.com')).toBe('me@gmail.com');
    expect(mailboxOf('me-shop@yahoo.com')).toBe('me@yahoo.com');
  });

  it('keeps what makes a different mailbox elsewhere', () => {
    expect(mailboxOf('first.last@example.com')).toBe('first.last@example.com');
    expect(mailboxOf('first-last@example.com')).toBe('first-last@example.com');
    expect(mailboxOf('+only@example.com')).toBe('+only@example.com');
  });
});

describe('a sliding window', () => {
  const rules = [
    { limit: 2, windowMs: 10 },
    { limit: 3, windowMs: 100 },
  ];
  it('allows while every rule has room, and says when the oldest hit in the way leaves', () => {
    expect(retryTime([], rules, 50)).toBeUndefined();
    expect(retryTime([45], rules, 50)).toBeUndefined();
    expect(retryTime([44, 48], rules, 50)).toBe(54);
    expect(retryTime([10, 30, 48], rules, 50)).toBe(110);
    expect(retryTime([10, 30, 48], rules, 111)).toBeUndefined();
  });
});
