import type { Claim, Ledger } from '../../delivery/claims';
import type {
  CopyFeedback,
  Delivery,
  DigestRun,
  Issue,
  IssueStore,
  NewIssue,
  NotForCounts,
  PublishedPost,
  SentRecord,
} from '../../delivery/issues';
import { encodeTagValue, isHashedTagValue } from '../../delivery/message-tags';
import type { CompiledMessage } from '../../mail/message';

/**
 * The issue store in memory: the same answers as the DynamoDB store (they share one contract
 * suite, test/contract/issue-store.ts), so the sending rules can be tested in milliseconds.
 * Each method runs without awaiting in between, which is what makes a conditional write
 * atomic here: of two callers only one can win.
 */
export class MemoryIssueStore implements IssueStore {
  private readonly issues = new Map<string, { issue: Issue; message?: string; links?: string[] }>();
  private readonly ledgers = new Map<string, Map<string, Claim>>();
  private readonly records = new Map<string, Map<string, Delivery>>();
  private readonly variants = new Map<string, string>();
  private digestRun: DigestRun | undefined;

  async createIssue(issue: NewIssue, now: Date = new Date()): Promise<'created' | 'exists'> {
    if (this.issues.has(issue.postId)) return 'exists';
    this.put(issue, now);
    return 'created';
  }

  async replaceSkipped(issue: NewIssue, now: Date = new Date()): Promise<'created' | 'exists'> {
    if (this.issues.get(issue.postId)?.issue.state !== 'skipped') return 'exists';
    this.put(issue, now);
    return 'created';
  }

  private put({ message, links, ...fields }: NewIssue, now: Date): void {
    const issue: Issue = {
      ...fields,
      createdAt: now.toISOString(),
      cursor: '',
      enqueued: 0,
      hasMessage: message !== undefined,
    };
    // Stored as JSON, as the DynamoDB store keeps it: what comes back is what a JSON reader gets.
    this.issues.set(fields.postId, {
      issue,
      message: message === undefined ? undefined : JSON.stringify(message),
      ...(links === undefined ? {} : { links: [...links] }),
    });
  }

  async getIssue(postId: string): Promise<Issue | undefined> {
    const stored = this.issues.get(postId);
    return stored === undefined ? undefined : structuredClone(stored.issue);
  }

  async getMessage(postId: string, variant?: string): Promise<CompiledMessage | undefined> {
    const message =
      variant === undefined ? this.issues.get(postId)?.message : this.variants.get(`${postId}\u0000${variant}`);
    return message === undefined ? undefined : (JSON.parse(message) as CompiledMessage);
  }

  async getLinks(postId: string): Promise<string[] | undefined> {
    const links = this.issues.get(postId)?.links;
    return links === undefined ? undefined : [...links];
  }

  async putVariant(postId: string, variant: string, message: CompiledMessage): Promise<void> {
    const key = `${postId}\u0000${variant}`;
    if (!this.variants.has(key)) this.variants.set(key, JSON.stringify(message));
  }

  async publishedBetween(since: Date, until: Date): Promise<PublishedPost[]> {
    const posts: PublishedPost[] = [];
    for (const { issue } of this.issues.values()) {
      const sent = issue.state === 'scheduled' || issue.state === 'dispatching' || issue.state === 'dispatched';
      if (!sent || issue.summary === undefined) continue;
      if (issue.sendAt < since.toISOString() || issue.sendAt >= until.toISOString()) continue;
      const { postId, sendAt, summary, categoriesAndTags = [] } = structuredClone(issue);
      posts.push({ postId, sendAt, summary: summary!, categoriesAndTags });
    }
    return posts.sort((a, b) => a.sendAt.localeCompare(b.sendAt) || a.postId.localeCompare(b.postId));
  }

  async lastDigestRun(): Promise<DigestRun | undefined> {
    return this.digestRun === undefined ? undefined : { ...this.digestRun };
  }

  async recordDigestRun(run: DigestRun): Promise<void> {
    if (this.digestRun === undefined || Date.parse(this.digestRun.until) < Date.parse(run.until))
      this.digestRun = { ...run };
  }

  async startScheduled(postId: string): Promise<boolean> {
    const stored = this.issues.get(postId);
    if (stored?.issue.state !== 'scheduled') return false;
    stored.issue.state = 'dispatching';
    return true;
  }

  async checkpoint(
    postId: string,
    expected: string,
    next: string | undefined,
    enqueued: number,
    now: Date = new Date(),
    notFor?: NotForCounts,
  ): Promise<boolean> {
    const issue = this.issues.get(postId)?.issue;
    if (issue === undefined || issue.cursor !== expected || issue.state !== 'dispatching') return false;
    issue.cursor = next ?? '';
    issue.enqueued += enqueued;
    if (notFor !== undefined && notFor.topics + notFor.digest > 0) {
      issue.notFor = {
        topics: (issue.notFor?.topics ?? 0) + notFor.topics,
        digest: (issue.notFor?.digest ?? 0) + notFor.digest,
      };
    }
    if (next === undefined) {
      issue.state = 'dispatched';
      issue.dispatchedAt = now.toISOString();
    }
    return true;
  }

  async fixClaimBuckets(postId: string, buckets: number): Promise<number> {
    const issue = this.issues.get(postId)?.issue;
    if (issue === undefined) throw new Error(`no issue ${postId} to fix the claim buckets of`);
    issue.claimBuckets ??= buckets;
    return issue.claimBuckets;
  }

  private ledger(ledger: Ledger): Map<string, Claim> {
    const key = `${ledger.postId}\u0000${ledger.bucket}`;
    let claims = this.ledgers.get(key);
    if (claims === undefined) this.ledgers.set(key, (claims = new Map()));
    return claims;
  }

  async claim(ledger: Ledger, subscriberIds: string[], claim: Claim): Promise<boolean> {
    const claims = this.ledger(ledger);
    if (subscriberIds.some((subscriberId) => claims.has(subscriberId))) return false;
    for (const subscriberId of subscriberIds) claims.set(subscriberId, { ...claim });
    return true;
  }

  async readClaims(ledger: Ledger): Promise<Map<string, Claim>> {
    return new Map([...this.ledger(ledger)].map(([subscriberId, claim]) => [subscriberId, { ...claim }]));
  }

  async releaseClaim(ledger: Ledger, subscriberId: string, claim: Claim): Promise<boolean> {
    const claims = this.ledger(ledger);
    const held = claims.get(subscriberId);
    if (held === undefined || !sameClaim(held, claim)) return false;
    claims.delete(subscriberId);
    return true;
  }

  async takeOverClaim(ledger: Ledger, subscriberId: string, held: Claim, next: Claim): Promise<boolean> {
    const claims = this.ledger(ledger);
    const current = claims.get(subscriberId);
    if (current === undefined || !sameClaim(current, held)) return false;
    claims.set(subscriberId, { ...next });
    return true;
  }

  async recordedAmong(postId: string, subscriberIds: string[]): Promise<Set<string>> {
    const records = this.records.get(postId);
    return new Set(subscriberIds.filter((subscriberId) => records?.has(subscriberId)));
  }

  async recordAccepted(
    postId: string,
    subscriberId: string,
    sesMessageId: string,
    acceptedAt: string,
  ): Promise<boolean> {
    const records = this.recordsOf(postId);
    const record = records.get(subscriberId);
    if (record?.state === 'sent') return false;
    const { reason: _reason, ...kept } = record ?? { postId, subscriberId, claimedAt: acceptedAt };
    records.set(subscriberId, {
      ...kept,
      state: 'sent',
      sesMessageId,
      sentAt: record?.sentAt ?? acceptedAt,
      claimedAt: record?.claimedAt ?? acceptedAt,
    });
    return true;
  }

  private recordsOf(postId: string): Map<string, Delivery> {
    let records = this.records.get(postId);
    if (records === undefined) this.records.set(postId, (records = new Map()));
    return records;
  }

  async markSentMany(records: SentRecord[]): Promise<void> {
    for (const record of records) this.recordsOf(record.postId).set(record.subscriberId, { ...record, state: 'sent' });
  }

  async markFailed(
    postId: string,
    subscriberId: string,
    claimedAt: string,
    reason: string,
    now: Date = new Date(),
  ): Promise<void> {
    this.recordsOf(postId).set(subscriberId, {
      postId,
      subscriberId,
      state: 'failed',
      claimedAt,
      reason,
      sentAt: now.toISOString(),
    });
  }

  async recordUnsent(
    postId: string,
    subscriberId: string,
    state: 'skipped' | 'failed',
    reason: string,
    now: Date = new Date(),
  ): Promise<void> {
    const records = this.recordsOf(postId);
    if (!records.has(subscriberId))
      records.set(subscriberId, { postId, subscriberId, state, reason, claimedAt: now.toISOString() });
  }

  async getDelivery(postId: string, subscriberId: string): Promise<Delivery | undefined> {
    const record = this.records.get(postId)?.get(subscriberId);
    return record === undefined ? undefined : structuredClone(record);
  }

  async recordFeedback(postId: string, subscriberId: string, feedback: CopyFeedback): Promise<boolean> {
    const record = this.records.get(postId)?.get(subscriberId);
    if (record === undefined) return false;
    switch (feedback.kind) {
      case 'transient':
        if (record.transientBounces?.includes(feedback.feedbackId)) return false;
        record.transientBounces = [...(record.transientBounces ?? []), feedback.feedbackId];
        return true;
      case 'bounce':
        if (record.bounce !== undefined) return false;
        record.bounce = 'permanent';
        return true;
      case 'complaint':
        return first(record, 'complaint');
      case 'delivery':
        return first(record, 'delivered');
      case 'delay':
        return first(record, 'delayed');
      case 'reject':
        return first(record, 'rejected');
    }
  }

  async postIdOfTag(tag: string): Promise<string | undefined> {
    if (!isHashedTagValue(tag)) return undefined;
    return [...this.issues.keys()].find((postId) => encodeTagValue(postId) === tag);
  }

  async *deliveries(postId: string): AsyncGenerator<Delivery[]> {
    const records = [...(this.records.get(postId)?.values() ?? [])].map((record) => structuredClone(record));
    const recorded = new Set(records.map((record) => record.subscriberId));
    const claimed: Delivery[] = [];
    for (const [key, claims] of this.ledgers) {
      if (!key.startsWith(`${postId}\u0000`)) continue;
      for (const [subscriberId, claim] of claims) {
        if (!recorded.has(subscriberId))
          claimed.push({
            postId,
            subscriberId,
            state: 'sending',
            claimedAt: claim.claimedAt,
            sendEvents: claim.sendEvents,
          });
      }
    }
    const all = [...records, ...claimed];
    if (all.length > 0) yield all;
  }
}

/** Claims are compared as the ledger stores them (encodeClaim): time, token and the Send-events mark. */
function sameClaim(a: Claim, b: Claim): boolean {
  return a.claimedAt === b.claimedAt && a.token === b.token && Boolean(a.sendEvents) === Boolean(b.sendEvents);
}

/** Sets a feedback flag on a record; true when it was not set before. */
function first(record: Delivery, flag: 'complaint' | 'delivered' | 'delayed' | 'rejected'): boolean {
  if (record[flag] === true) return false;
  record[flag] = true;
  return true;
}
