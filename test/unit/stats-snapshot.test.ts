import { describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../../functions/adapters/memory/memory-counter-store';
import { formatStats } from '../../functions/cli/stats-command';
import { buildStatsSnapshot, PostNotFoundError, type StatsSources } from '../../functions/stats/build-snapshot';
import { DAY_COUNTER, dayScope, POST_COUNTER, POSTS_SCOPE, postEntry, postScope } from '../../functions/stats/counted';

const NOW = new Date('2026-06-30T20:00:00Z');
const TIME_ZONE = 'Asia/Shanghai';

function sources(counters: MemoryCounterStore, postIds: string[], active: number): StatsSources {
  return {
    counters,
    issues: {
      getIssue: async (postId) =>
        postIds.includes(postId)
          ? { title: `Title of ${postId}`, sendAt: '2026-06-01T00:00:00.000Z', enqueued: 40 }
          : undefined,
    },
    subscribers: { countActive: async () => active },
    site: { title: 'Field Notes', language: 'zh-CN', timezone: TIME_ZONE },
    now: NOW,
  };
}

describe('the stats snapshot', () => {
  it('lists the ten newest posts sent, newest first', async () => {
    const counters = new MemoryCounterStore();
    const ids = Array.from({ length: 12 }, (_, index) => `post-${String(index).padStart(2, '0')}`);
    await counters.add(
      ids.map((id, index) => ({
        scope: POSTS_SCOPE,
        name: postEntry(`2026-06-${String(index + 1).padStart(2, '0')}T08:00:00.000Z`, id),
      })),
    );
    const snapshot = await buildStatsSnapshot(sources(counters, ids, 0));
    expect(snapshot.posts.map((post) => post.postId)).toEqual(ids.slice(2).reverse());
    expect(snapshot.site).toEqual({ title: 'Field Notes', language: 'zh-CN' });
    expect(snapshot.tracking).toBe('off');
  });

  it("ends each day of the list with its active total, derived back from today's count, days in the site's zone", async () => {
    const counters = new MemoryCounterStore();
    // 20:00 UTC on June 30 is July 1 in Shanghai.
    await counters.add([
      { scope: dayScope('2026-07-01'), name: DAY_COUNTER.joined, by: 5 },
      { scope: dayScope('2026-07-01'), name: DAY_COUNTER.confirmations, by: 5 },
      { scope: dayScope('2026-06-30'), name: DAY_COUNTER.left, by: 2 },
      { scope: dayScope('2026-06-30'), name: DAY_COUNTER.unsubscribes, by: 2 },
    ]);
    const { list } = await buildStatsSnapshot(sources(counters, [], 100));
    expect(list).toHaveLength(30);
    expect(list.at(-1)).toMatchObject({ date: '2026-07-01', confirmations: 5, active: 100 });
    expect(list.at(-2)).toMatchObject({ date: '2026-06-30', unsubscribes: 2, active: 95 });
    expect(list.at(-3)).toMatchObject({ date: '2026-06-29', active: 97 });
    expect(list[0]!.date).toBe('2026-06-02');
  });

  it('rates bounces and complaints over the last 30 days against the emails sent, and marks one above its limit', async () => {
    const counters = new MemoryCounterStore();
    await counters.add([
      { scope: dayScope('2026-06-20'), name: DAY_COUNTER.sent, by: 900 },
      { scope: dayScope('2026-07-01'), name: DAY_COUNTER.sent, by: 100 },
      { scope: dayScope('2026-06-20'), name: DAY_COUNTER.bounces, by: 60 },
      { scope: dayScope('2026-07-01'), name: DAY_COUNTER.complaints, by: 2 },
      // 31 days back: outside the window.
      { scope: dayScope('2026-05-31'), name: DAY_COUNTER.sent, by: 5_000 },
      { scope: POSTS_SCOPE, name: postEntry('2026-06-20T01:00:00.000Z', 'p') },
      { scope: postScope('p'), name: POST_COUNTER.sent, by: 1_000 },
      { scope: postScope('p'), name: POST_COUNTER.bouncedPermanent, by: 60 },
    ]);
    const snapshot = await buildStatsSnapshot(sources(counters, ['p'], 10));
    expect(snapshot.rates).toEqual({
      bounceRate30d: 0.06,
      complaintRate30d: 0.002,
      sent30d: 1000,
      limits: { sesBounceReview: 0.05, sesComplaintReview: 0.001, gmailSpam: 0.003 },
    });
    const text = formatStats(snapshot, TIME_ZONE);
    expect(text).toMatch(/^ {2}bounce rate {5}6\.00% {3}SES reviews an account at 5% {2}ABOVE$/m);
    expect(text).toMatch(
      /^ {2}complaint rate {2}0\.20% {3}SES reviews at 0\.1%; Gmail's spam limit is 0\.3% {2}ABOVE$/m,
    );
    expect(text).toMatch(/bounce rate 6\.00% \(SES reviews at 5%\) {2}ABOVE$/m);
  });

  it('refuses a post that has no issue, saying what to do', async () => {
    const promise = buildStatsSnapshot(sources(new MemoryCounterStore(), [], 0), { postId: 'typo' });
    await expect(promise).rejects.toBeInstanceOf(PostNotFoundError);
    await expect(promise).rejects.toThrow(/no issue for post "typo": it has not been published/);
  });
});
