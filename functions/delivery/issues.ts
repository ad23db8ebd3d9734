import type { CompiledMessage } from '../mail/message';
import type { PostSummary } from '../render/types';
import type { Claim, Ledger } from './claims';

/**
 * `scheduled`: waits for its date. `dispatching`: the dispatcher is (or was, before a crash)
 * paging subscribers from `cursor`. `dispatched`: every active subscriber is on the queue.
 * `skipped`: the front matter said not to send. `preview`: a draft sent to the editors only.
 * `failed`: the pushed post cannot be rendered (over a limit, unparseable); `failReason` says why.
 */
export type IssueState = 'scheduled' | 'dispatching' | 'dispatched' | 'skipped' | 'preview' | 'failed';

export interface NewIssue {
  /** Stable across edits and re-pushes (`Post.id`). */
  postId: string;
  title: string;
  subject: string;
  state: IssueState;
  /** ISO time the post goes out (now, or the post's date when scheduled). */
  sendAt: string;
  /** Rendered once; every recipient's copy is personalised from it. Absent for skipped posts. */
  message?: CompiledMessage;
  skipReason?: string;
  /** Why a pushed post could not be rendered, as the editors were told. */
  failReason?: string;
  /** Where the post came from (`webhook`, `publish`), for the editor reading status. */
  source?: string;
  /** Git commit the post was read at, when it came from a push. */
  commit?: string;
  /** The post's categories and tags as its front matter writes them: dispatch routes by topic with them. */
  categoriesAndTags?: string[];
  /**
   * Sent with tracking `aggregate`: what each redirect link leads to, by index (0: the hidden
   * link's target, the post's page; 1…: the post's links). Never changes once written.
   */
  links?: string[];
  /** What a weekly digest shows of the post, kept at ingest so the digest needs no blog at send time. */
  summary?: PostSummary;
  /** Set on a weekly digest's issue (`digest/2026-W49`): its posts and compiled variants. */
  digest?: DigestContents;
}

/**
 * A weekly digest's issue: one email per distinct set of the week's posts and reader language.
 * Readers choose different topics, so each reader gets the variant holding exactly their posts,
 * in their language (the digest's own words; each post stays in its own); the variants
 * are compiled before the first page is dispatched and stored beside the issue
 * (`IssueStore.putVariant`), while claims and deliveries stay keyed by the digest's id alone,
 * so a reader gets at most one variant, whichever it is.
 */
export interface DigestContents {
  /** The week's posts, in the order the email shows them: variants name them by position. */
  posts: DigestPost[];
  /** The topics offered when the digest was built (`Topic.name`), for routing readers alike on every page. */
  offered: string[];
  /** Its own words' language for readers who have none the digest speaks (the site's). */
  lang: 'en' | 'zh-CN';
  /** Every variant compiled for this digest (`digestVariantKey`), the whole week's first. */
  variants: string[];
  /** The window of post send times it covers: `since` ≤ sendAt < `until` (ISO). */
  since: string;
  until: string;
}

export interface DigestPost {
  postId: string;
  /** The post's categories and tags, as routing compares them with a reader's topics. */
  categoriesAndTags: string[];
  /** When it was sent (`sendAt`): a reader gets it here if they took the digest then. Absent on digests built before. */
  sendAt?: string;
}

/**
 * The latest digest run that settled a window of posts, whether it sent a digest or found
 * nothing to send: the next digest's window starts at its `until`, so consecutive digests meet
 * exactly whatever the schedule did in between.
 */
export interface DigestRun {
  /** The digest's id (`digest/2026-W49`): its issue, when one was sent. */
  digestId: string;
  /** The end of its window (ISO). */
  until: string;
  /** The posts in its window (0: none went out). */
  posts: number;
}

/** A sent (or sending) post of a week, as the digest reads it back from the issue store. */
export interface PublishedPost {
  postId: string;
  sendAt: string;
  summary: PostSummary;
  categoriesAndTags: string[];
}

/**
 * Active readers a dispatch did not queue because the post is not for them, by reason: it has
 * none of their topics (`topics`), or they read the weekly digest instead (`digest`).
 */
export type NotForCounts = {
  topics: number;
  digest: number;
};

export interface Issue extends Omit<NewIssue, 'message' | 'links'> {
  createdAt: string;
  /** Dispatch checkpoint: '' before the first page, the next page's cursor after each page. */
  cursor: string;
  /** Recipients put on the send queue, counted once per checkpointed page. */
  enqueued: number;
  dispatchedAt?: string;
  hasMessage: boolean;
  /** Claim buckets of this post's recipients (claims.ts), fixed before its first page. */
  claimBuckets?: number;
  /** Readers passed over, counted with each checkpointed page like `enqueued`; absent while none. */
  notFor?: NotForCounts;
}

export type DeliveryState = 'sending' | 'sent' | 'failed' | 'skipped';

/** A recipient's record, or (`sending`) their claim in a ledger while nothing is recorded. */
export interface Delivery {
  postId: string;
  subscriberId: string;
  state: DeliveryState;
  /** When the claim was taken; a `sending` claim that old is a crash after SES (unknown). */
  claimedAt: string;
  sentAt?: string;
  sesMessageId?: string;
  /** SES error code and message for `failed`; why for `skipped`. */
  reason?: string;
  /** Permanent bounce or complaint reported by SES for this copy. */
  bounce?: 'permanent';
  complaint?: boolean;
  /** SES feedback ids of transient bounces (a set, so an event redelivered counts once). */
  transientBounces?: string[];
  /** SES reported the copy delivered, delayed on its way, or refused after accepting it (a Reject event). */
  delivered?: boolean;
  delayed?: boolean;
  rejected?: boolean;
  /** `sending` only: its copy can be decided from SES's Send events (see claims.ts). */
  sendEvents?: boolean;
}

export interface SendingTables {
  issuesTable: string;
  deliveriesTable: string;
}

/** A copy recorded as sent, written in batches by the worker that holds its claim. */
export interface SentRecord {
  postId: string;
  subscriberId: string;
  claimedAt: string;
  sesMessageId: string;
  sentAt: string;
}

/**
 * SES feedback on one copy: a permanent bounce, a complaint, a transient bounce (each feedback
 * id once), a delivery, a delay, a rejection after SES accepted it.
 */
export type CopyFeedback =
  | { kind: 'bounce' }
  | { kind: 'complaint' }
  | { kind: 'transient'; feedbackId: string }
  | { kind: 'delivery' }
  | { kind: 'delay' }
  | { kind: 'reject' };

/**
 * Issues (one per post) and deliveries (one per post and recipient), with the claim ledgers
 * that decide who sends. Publishing, delivery, feedback and status rely on this; DynamoDB
 * implements it (adapters/dynamodb/issue-store.ts), and so does an in-memory store for the
 * sending rules' unit tests. Every method that decides who sends is atomic: of two callers
 * only one wins.
 */
export interface IssueStore {
  /** The idempotency point: only the first write for a post id wins. */
  createIssue(issue: NewIssue, now?: Date): Promise<'created' | 'exists'>;
  /** Replaces a post's record only while it is still `skipped` ('exists' otherwise). */
  replaceSkipped(issue: NewIssue, now?: Date): Promise<'created' | 'exists'>;
  getIssue(postId: string): Promise<Issue | undefined>;
  /**
   * The rendered message; read once per batch by the worker, not per recipient. `variant`: one
   * of a digest's compiled variants (`putVariant`).
   */
  getMessage(postId: string, variant?: string): Promise<CompiledMessage | undefined>;
  /** Stores a digest's variant unless one is stored under that key already (it is the same email). */
  putVariant(postId: string, variant: string, message: CompiledMessage): Promise<void>;
  /**
   * The posts (not drafts, previews or digests) that went out, or are going out, with a send
   * time in [since, until), and a summary recorded at ingest; oldest first.
   */
  publishedBetween(since: Date, until: Date): Promise<PublishedPost[]>;
  /** The latest digest run recorded (`recordDigestRun`), if any. */
  lastDigestRun(): Promise<DigestRun | undefined>;
  /** Records a digest run, unless one whose window ends as late or later is recorded already. */
  recordDigestRun(run: DigestRun): Promise<void>;
  /** The targets of the post's redirect links (`NewIssue.links`); undefined when it was sent without tracking. */
  getLinks(postId: string): Promise<string[] | undefined>;
  /** A scheduled issue whose time has come starts dispatching; false if it was not scheduled. */
  startScheduled(postId: string): Promise<boolean>;
  /**
   * Moves the dispatch cursor from `expected` to `next` (undefined: the last page is queued)
   * and counts the page's recipients, and the readers it passed over (`notFor`), in the same
   * write; false when another dispatcher moved it first.
   */
  checkpoint(
    postId: string,
    expected: string,
    next: string | undefined,
    enqueued: number,
    now?: Date,
    notFor?: NotForCounts,
  ): Promise<boolean>;
  /** Fixes the post's claim bucket count unless it is fixed already; answers the stored count. */
  fixClaimBuckets(postId: string, buckets: number): Promise<number>;
  /** Claims all of `subscriberIds` (one bucket) at once, or none (false) if any was claimed before. */
  claim(ledger: Ledger, subscriberIds: string[], claim: Claim): Promise<boolean>;
  /** Every claim in a bucket's ledger, by subscriber id. */
  readClaims(ledger: Ledger): Promise<Map<string, Claim>>;
  /** Gives a claim back; only its holder (the same token) can. */
  releaseClaim(ledger: Ledger, subscriberId: string, claim: Claim): Promise<boolean>;
  /** Takes over the claim `held` of a sender that died, as `next`, only while the ledger still holds `held`. */
  takeOverClaim(ledger: Ledger, subscriberId: string, held: Claim, next: Claim): Promise<boolean>;
  /** Which of `subscriberIds` (at most 100) have a record for the post. */
  recordedAmong(postId: string, subscriberIds: string[]): Promise<Set<string>>;
  /** SES accepted this copy (a Send event): it is `sent`; false when it was already recorded sent. */
  recordAccepted(postId: string, subscriberId: string, sesMessageId: string, acceptedAt: string): Promise<boolean>;
  /** Records copies as sent, for claims the caller holds. */
  markSentMany(records: SentRecord[]): Promise<void>;
  /** Records a copy that cannot go, for a claim the caller holds (the claim stays). */
  markFailed(postId: string, subscriberId: string, claimedAt: string, reason: string, now?: Date): Promise<void>;
  /** Records a recipient not sent to, without a claim, only if nothing was recorded yet. */
  recordUnsent(
    postId: string,
    subscriberId: string,
    state: 'skipped' | 'failed',
    reason: string,
    now?: Date,
  ): Promise<void>;
  getDelivery(postId: string, subscriberId: string): Promise<Delivery | undefined>;
  /**
   * SES feedback on a recorded copy. True only for its first report: false when it was noted
   * before (SNS delivered the event again) or there is no record. What counts SES events
   * counts on true, so each is counted once.
   */
  recordFeedback(postId: string, subscriberId: string, feedback: CopyFeedback): Promise<boolean>;
  /** The post id a hashed SES tag stands for, or undefined when no issue of ours has that tag. */
  postIdOfTag(tag: string): Promise<string | undefined>;
  /** Every delivery of a post, a page at a time; claimed recipients without a record come as `sending`. */
  deliveries(postId: string): AsyncGenerator<Delivery[]>;
}

/** The rendered email does not fit the store's record: the post must be shortened. */
export class MessageTooLargeError extends Error {
  readonly code = 'ISSUE_MESSAGE_TOO_LARGE';
  constructor(postId: string, bytes: number, limit: number) {
    super(
      `The email for ${postId} is ${bytes} bytes compressed; shorten the post or move images out of it (limit ${limit}).`,
    );
  }
}
