import { describe, expect, it } from 'vitest';
import type { IssueStore, NewIssue } from '../../functions/delivery/issues';
import { encodeTagValue } from '../../functions/delivery/message-tags';
import type { CompiledMessage } from '../../functions/mail/message';

/**
 * What every issue store must answer alike: the DynamoDB store (on dynalite) and the in-memory
 * one run this suite, so unit tests of the sending rules against the memory store say what the
 * Lambdas do. `make` gives each test an empty store.
 */
export function describeIssueStore(
  name: string,
  make: () => Promise<IssueStore>,
  message: () => CompiledMessage,
): void {
  const NOW = new Date('2026-06-01T10:00:00Z');
  const issue = (postId: string, fields: Partial<NewIssue> = {}): NewIssue => ({
    postId,
    title: 'Title',
    subject: 'Subject',
    state: 'dispatching',
    sendAt: NOW.toISOString(),
    ...fields,
  });
  const ledger = (postId: string, bucket = 0) => ({ postId, bucket, buckets: 2 });

  describe(`${name}: issues`, () => {
    it('records a post once: a second create answers exists and changes nothing', async () => {
      const store = await make();
      expect(await store.createIssue(issue('p1', { title: 'First', message: message() }), NOW)).toBe('created');
      expect(await store.createIssue(issue('p1', { title: 'Second' }), NOW)).toBe('exists');
      expect(await store.getIssue('p1')).toMatchObject({
        postId: 'p1',
        title: 'First',
        cursor: '',
        enqueued: 0,
        hasMessage: true,
        createdAt: NOW.toISOString(),
      });
      expect(await store.getMessage('p1')).toEqual(message());
      expect(await store.getIssue('missing')).toBeUndefined();
    });

    it("keeps a tracked post's link list as written, apart from the issue it reads back", async () => {
      const store = await make();
      const links = ['https://blog.example.org/p/', 'https://example.org/%E5%8C%97?q=1#a'];
      await store.createIssue(issue('tracked', { message: message(), links }), NOW);
      await store.createIssue(issue('untracked', { message: message() }), NOW);
      expect(await store.getLinks('tracked')).toEqual(links);
      expect(await store.getLinks('untracked')).toBeUndefined();
      expect(await store.getLinks('missing')).toBeUndefined();
      expect(await store.getIssue('tracked')).not.toHaveProperty('links');
    });

    it('replaces a post only while it is skipped', async () => {
      const store = await make();
      expect(await store.replaceSkipped(issue('absent'), NOW)).toBe('exists');
      await store.createIssue(issue('p2', { state: 'skipped', skipReason: 'published: false' }), NOW);
      expect(await store.replaceSkipped(issue('p2', { state: 'dispatching' }), NOW)).toBe('created');
      expect(await store.replaceSkipped(issue('p2', { state: 'dispatching', title: 'Again' }), NOW)).toBe('exists');
      expect((await store.getIssue('p2'))?.state).toBe('dispatching');
    });

    it('starts a scheduled post once and moves the dispatch cursor only from where it was', async () => {
      const store = await make();
      await store.createIssue(issue('p3', { state: 'scheduled' }), NOW);
      expect(await store.startScheduled('p3')).toBe(true);
      expect(await store.startScheduled('p3')).toBe(false);
      expect(await store.checkpoint('p3', 'elsewhere', 'c1', 5, NOW)).toBe(false);
      expect(await store.checkpoint('p3', '', 'c1', 5, NOW)).toBe(true);
      expect(await store.checkpoint('p3', '', 'c1', 5, NOW)).toBe(false);
      expect(await store.checkpoint('p3', 'c1', undefined, 3, NOW)).toBe(true);
      expect(await store.getIssue('p3')).toMatchObject({
        state: 'dispatched',
        cursor: '',
        enqueued: 8,
        dispatchedAt: NOW.toISOString(),
      });
      expect(await store.checkpoint('p3', '', 'c2', 1, NOW)).toBe(false);
    });

    it("keeps the post's categories and tags, and counts the readers passed over only with a checkpoint that moves", async () => {
      const store = await make();
      await store.createIssue(issue('p5', { categoriesAndTags: ['旅行', 'Rust'] }), NOW);
      expect((await store.getIssue('p5'))?.categoriesAndTags).toEqual(['旅行', 'Rust']);
      expect((await store.getIssue('p5'))?.notFor).toBeUndefined();
      expect(await store.checkpoint('p5', '', 'c1', 2, NOW, { topics: 0, digest: 0 })).toBe(true);
      expect((await store.getIssue('p5'))?.notFor).toBeUndefined();
      expect(await store.checkpoint('p5', 'c1', 'c2', 2, NOW, { topics: 4, digest: 1 })).toBe(true);
      // The same page again, as a dispatcher resumed from an older read would: nothing is counted twice.
      expect(await store.checkpoint('p5', 'c1', 'c2', 2, NOW, { topics: 4, digest: 1 })).toBe(false);
      expect(await store.checkpoint('p5', 'c2', undefined, 1, NOW, { topics: 3, digest: 0 })).toBe(true);
      expect(await store.getIssue('p5')).toMatchObject({ enqueued: 5, notFor: { topics: 7, digest: 1 } });
    });

    it('keeps the first claim bucket count a post is given', async () => {
      const store = await make();
      await store.createIssue(issue('p4'), NOW);
      expect(await store.fixClaimBuckets('p4', 3)).toBe(3);
      expect(await store.fixClaimBuckets('p4', 9)).toBe(3);
      expect((await store.getIssue('p4'))?.claimBuckets).toBe(3);
    });

    it('finds the post a hashed SES tag stands for, and nothing for a tag that is not hashed', async () => {
      const store = await make();
      const longId = `/2026/06/01/${'很长的标题'.repeat(20)}/`;
      await store.createIssue(issue(longId), NOW);
      expect(await store.postIdOfTag(encodeTagValue(longId))).toBe(longId);
      expect(await store.postIdOfTag(encodeTagValue('short'))).toBeUndefined();
    });
  });

  describe(`${name}: digests`, () => {
    const summary = (title: string) => ({
      title,
      date: NOW.toISOString(),
      url: `https://blog.example.com/${title}/`,
      lang: 'zh-CN',
      excerptHtml: '<p>第一段。</p>',
      excerptText: '第一段。',
    });

    it("lists the week's sent posts with their summaries, oldest first, and nothing else", async () => {
      const store = await make();
      const at = (iso: string, fields: Partial<NewIssue>) =>
        store.createIssue(issue(fields.postId!, { sendAt: iso, ...fields }), NOW);
      await at('2026-06-02T10:00:00.000Z', {
        postId: 'later',
        summary: summary('later'),
        categoriesAndTags: ['旅行'],
      });
      await at('2026-06-01T10:00:00.000Z', {
        postId: 'earlier',
        state: 'dispatched',
        summary: summary('earlier'),
        categoriesAndTags: ['rust'],
      });
      await at('2026-06-03T10:00:00.000Z', { postId: 'scheduled', state: 'scheduled', summary: summary('scheduled') });
      // Not posts of the week: skipped, failed, without a summary, outside the window.
      await at('2026-06-02T10:00:00.000Z', { postId: 'skipped', state: 'skipped', summary: summary('skipped') });
      await at('2026-06-02T10:00:00.000Z', { postId: 'failed', state: 'failed', summary: summary('failed') });
      await at('2026-06-02T10:00:00.000Z', { postId: 'preview:draft:abc', state: 'preview' });
      await at('2026-06-08T00:00:00.000Z', { postId: 'next-week', summary: summary('next-week') });
      await at('2026-05-31T23:59:59.999Z', { postId: 'last-week', summary: summary('last-week') });
      const posts = await store.publishedBetween(new Date('2026-06-01T00:00:00Z'), new Date('2026-06-08T00:00:00Z'));
      expect(posts).toEqual([
        {
          postId: 'earlier',
          sendAt: '2026-06-01T10:00:00.000Z',
          summary: summary('earlier'),
          categoriesAndTags: ['rust'],
        },
        {
          postId: 'later',
          sendAt: '2026-06-02T10:00:00.000Z',
          summary: summary('later'),
          categoriesAndTags: ['旅行'],
        },
        {
          postId: 'scheduled',
          sendAt: '2026-06-03T10:00:00.000Z',
          summary: summary('scheduled'),
          categoriesAndTags: [],
        },
      ]);
    });

    it("keeps a digest's variants beside its issue, the first stored of each, and its contents on the issue", async () => {
      const store = await make();
      const digest = {
        posts: [{ postId: 'a', categoriesAndTags: ['旅行'] }],
        offered: ['旅行'],
        lang: 'zh-CN' as const,
        variants: ['zh-CN:0'],
        since: '2026-06-01T00:00:00.000Z',
        until: '2026-06-08T00:00:00.000Z',
      };
      await store.createIssue(issue('digest/2026-W23', { digest }), NOW);
      await store.putVariant('digest/2026-W23', 'zh-CN:0', message());
      await store.putVariant('digest/2026-W23', 'zh-CN:0', {
        ...message(),
        head: 'From: someone-else@example.com\r\n',
      });
      expect(await store.getMessage('digest/2026-W23', 'zh-CN:0')).toEqual(message());
      expect(await store.getMessage('digest/2026-W23', 'en:0')).toBeUndefined();
      expect(await store.getMessage('digest/2026-W23')).toBeUndefined();
      expect((await store.getIssue('digest/2026-W23'))?.digest).toEqual(digest);
      // Variants are no posts of any week.
      expect(await store.publishedBetween(new Date(0), new Date('2100-01-01T00:00:00Z'))).toEqual([]);
    });

    it('keeps the digest run whose window ends latest, and it is no post of any week', async () => {
      const store = await make();
      expect(await store.lastDigestRun()).toBeUndefined();
      const run = { digestId: 'digest/2026-W23', until: '2026-06-01T08:00:00.000Z', posts: 3 };
      await store.recordDigestRun(run);
      expect(await store.lastDigestRun()).toEqual(run);
      // An earlier window, or the same one again, leaves it as it is.
      await store.recordDigestRun({ digestId: 'digest/2026-W22', until: '2026-05-25T08:00:00.000Z', posts: 1 });
      await store.recordDigestRun({ ...run, posts: 0 });
      expect(await store.lastDigestRun()).toEqual(run);
      const later = { digestId: 'digest/2026-W24', until: '2026-06-10T08:00:00.000Z', posts: 0 };
      await store.recordDigestRun(later);
      expect(await store.lastDigestRun()).toEqual(later);
      expect(await store.getIssue(later.digestId)).toBeUndefined();
      expect(await store.publishedBetween(new Date(0), new Date('2100-01-01T00:00:00Z'))).toEqual([]);
    });
  });

  describe(`${name}: claims and records`, () => {
    it('claims a group all or nothing, and only the holder gives a claim back', async () => {
      const store = await make();
      const mine = { claimedAt: NOW.toISOString(), token: 'mine' };
      const theirs = { claimedAt: NOW.toISOString(), token: 'theirs' };
      expect(await store.claim(ledger('p5'), ['a', 'b'], mine)).toBe(true);
      expect(await store.claim(ledger('p5'), ['b', 'c'], theirs)).toBe(false);
      expect([...(await store.readClaims(ledger('p5'))).keys()].sort()).toEqual(['a', 'b']);
      expect(await store.claim(ledger('p5'), ['c'], theirs)).toBe(true);
      expect(await store.claim(ledger('p5', 1), ['a'], theirs)).toBe(true);
      expect(await store.releaseClaim(ledger('p5'), 'a', theirs)).toBe(false);
      expect(await store.releaseClaim(ledger('p5'), 'a', mine)).toBe(true);
      expect((await store.readClaims(ledger('p5'))).get('c')).toEqual(theirs);
      expect((await store.readClaims(ledger('p5'))).has('a')).toBe(false);
    });

    it('records sent and failed copies, and an unsent recipient only when nothing is recorded yet', async () => {
      const store = await make();
      const claimedAt = NOW.toISOString();
      await store.markSentMany([
        { postId: 'p6', subscriberId: 'a', claimedAt, sesMessageId: 'ses-1', sentAt: claimedAt },
      ]);
      await store.markFailed('p6', 'b', claimedAt, 'MessageRejected: no', NOW);
      await store.recordUnsent('p6', 'a', 'skipped', 'subscriber unsubscribed', NOW);
      await store.recordUnsent('p6', 'c', 'failed', 'DeadLettered', NOW);
      expect(await store.getDelivery('p6', 'a')).toMatchObject({ state: 'sent', sesMessageId: 'ses-1' });
      expect(await store.getDelivery('p6', 'b')).toMatchObject({ state: 'failed', reason: 'MessageRejected: no' });
      expect(await store.getDelivery('p6', 'c')).toMatchObject({ state: 'failed', reason: 'DeadLettered' });
      expect(await store.getDelivery('p6', 'd')).toBeUndefined();
    });

    it('notes SES feedback on a recorded copy only, answering true for its first report alone', async () => {
      const store = await make();
      const claimedAt = NOW.toISOString();
      expect(await store.recordFeedback('p7', 'a', { kind: 'bounce' })).toBe(false);
      expect(await store.recordFeedback('p7', 'a', { kind: 'delivery' })).toBe(false);
      await store.markSentMany([
        { postId: 'p7', subscriberId: 'a', claimedAt, sesMessageId: 'ses-1', sentAt: claimedAt },
      ]);
      expect(await store.recordFeedback('p7', 'a', { kind: 'transient', feedbackId: 'f1' })).toBe(true);
      expect(await store.recordFeedback('p7', 'a', { kind: 'transient', feedbackId: 'f1' })).toBe(false);
      expect(await store.recordFeedback('p7', 'a', { kind: 'transient', feedbackId: 'f2' })).toBe(true);
      for (const kind of ['complaint', 'bounce', 'delivery', 'delay', 'reject'] as const) {
        expect(await store.recordFeedback('p7', 'a', { kind }), kind).toBe(true);
        expect(await store.recordFeedback('p7', 'a', { kind }), `${kind} again`).toBe(false);
      }
      const noted = await store.getDelivery('p7', 'a');
      expect(noted).toMatchObject({
        state: 'sent',
        bounce: 'permanent',
        complaint: true,
        delivered: true,
        delayed: true,
        rejected: true,
      });
      expect(noted?.transientBounces?.sort()).toEqual(['f1', 'f2']);
    });

    it("lists a post's deliveries, a claimed recipient without a record as sending", async () => {
      const store = await make();
      await store.createIssue(issue('p8'), NOW);
      const claim = { claimedAt: NOW.toISOString(), token: 't' };
      await store.claim({ postId: 'p8', bucket: 0, buckets: 1 }, ['AAAA', 'BBBB'], claim);
      await store.markSentMany([
        {
          postId: 'p8',
          subscriberId: 'AAAA',
          claimedAt: claim.claimedAt,
          sesMessageId: 'ses',
          sentAt: claim.claimedAt,
        },
      ]);
      await store.recordUnsent('p8', 'CCCC', 'skipped', 'subscriber unsubscribed', NOW);
      const all = [];
      for await (const page of store.deliveries('p8')) all.push(...page);
      expect(all.map((delivery) => `${delivery.subscriberId} ${delivery.state}`).sort()).toEqual([
        'AAAA sent',
        'BBBB sending',
        'CCCC skipped',
      ]);
    });
  });
}
