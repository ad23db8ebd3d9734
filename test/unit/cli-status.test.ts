import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../functions/cli/status-command';
import type { IssueStatus } from '../../functions/delivery/delivery-status';
import type { Issue } from '../../functions/delivery/issues';

const issue = {
  postId: '2024-12-02-welcome',
  title: 'Welcome',
  subject: 'Welcome · 欢迎',
  state: 'dispatched',
  sendAt: '2024-12-02T00:00:00.000Z',
  createdAt: '2024-12-02T00:00:00.000Z',
  cursor: 'done',
  enqueued: 12,
  hasMessage: true,
} as Issue;

function status(counts: Partial<IssueStatus['counts']>): IssueStatus {
  return {
    issue,
    counts: {
      queued: 0,
      sending: 0,
      sent: 0,
      skipped: 0,
      failed: 0,
      unknown: 0,
      bounced: 0,
      complained: 0,
      transientBounces: 0,
      ...counts,
    },
    sendRate: 3.25,
    done: true,
    failures: counts.failed ? [{ reason: 'MessageRejected', count: counts.failed }] : [],
  };
}

/** Where each row's value starts: the column a reader's eye runs down. */
function valueColumns(text: string): number[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => /^ {2}\S.*?\S? {2,}(?=\S)/.exec(line)![0].length);
}

describe('pushletter status output', () => {
  it('puts every value in one column, with and without the optional rows', () => {
    for (const counts of [{ sent: 12 }, { sent: 9, failed: 2, sending: 1, transientBounces: 3, complained: 1 }]) {
      const text = formatStatus(status(counts));
      expect(new Set(valueColumns(text)).size, text).toBe(1);
      expect(text).toMatch(/^ {2}complained +\d/m);
      expect(text).toMatch(/^ {2}send rate +3\.3\/s$/m);
    }
  });
});

describe('pushletter status: readers a post was not for', () => {
  it('says how many and why, in the same column as the other rows', () => {
    const text = formatStatus({ ...status({ sent: 12 }), issue: { ...issue, notFor: { topics: 20, digest: 3 } } });
    expect(text).toMatch(
      /^ {2}not for them +23 {2}\(20 chose topics this post has none of; 3 read the weekly digest, which carries it\)$/m,
    );
    expect(new Set(valueColumns(text)).size, text).toBe(1);
  });

  it('leaves the row out when a dispatch passed nobody over', () => {
    expect(formatStatus(status({ sent: 12 }))).not.toContain('not for them');
  });
});
