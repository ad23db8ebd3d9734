export type SubscriberState = 'pending' | 'active' | 'unsubscribed' | 'bounced' | 'complained';

export interface Consent {
  at: string;
  /** Where the address came from: 'form', 'import', … */
  source: string;
  /** Salted hash of the client IP for form signups; never the IP itself. */
  ipHash?: string;
}

export interface Subscriber {
  /** Opaque, stable id derived from the normalised address; tokens carry this, never the address. */
  id: string;
  email: string;
  state: SubscriberState;
  createdAt: string;
  confirmedAt?: string;
  unsubscribedAt?: string;
  /** When a permanent bounce or a complaint stopped mail to this address. */
  suppressedAt?: string;
  /** Language of the emails and pages this reader signed up in ('en', 'zh-CN', …). */
  lang?: string;
  /** How emails greet them, when an import gave one. */
  name?: string;
  /**
   * The offered topics (category or tag names, as the front matter writes them) this reader
   * chose. Absent or empty: every post.
   */
  topics?: string[];
  /** 'post' (absent means this): an email per post; 'digest': the weekly digest instead. */
  frequency?: Frequency;
  /**
   * When the reader last changed their frequency (a save on the preferences page, a new signup
   * of a stored address); absent: never. Single posts and digests go by the frequency a reader
   * had when each post was sent (delivery/digest-recipients.ts `frequencyAt`).
   */
  frequencyChangedAt?: string;
  consent: Consent;
}

export type Frequency = 'post' | 'digest';

/** What a reader chooses on the preferences page. */
export interface Preferences {
  /** Offered topic names as the settings write them; empty: every post (all ticked, or none offered). */
  topics: string[];
  frequency: Frequency;
  /** The language of the emails' own words (footer, digest, welcome) and of the pages: `en` or `zh-CN`. */
  lang: 'en' | 'zh-CN';
}

/**
 * What a reader chose on the form: topics absent (or empty) means every post, including posts of
 * topics offered later; frequency absent means each post.
 */
export interface ReadingChoices {
  topics?: string[];
  frequency?: Frequency;
}

export interface ActivePage {
  subscribers: Subscriber[];
  /** Opaque cursor for the next page; undefined when this was the last page. */
  cursor?: string;
}

/**
 * The part of the subscriber store the sending pipeline relies on. The subscriber module's
 * DynamoDB implementation provides this and more (subscribe, confirm, import, …).
 */
export interface SubscriberDirectory {
  get(id: string): Promise<Subscriber | undefined>;
  findByEmail(email: string): Promise<Subscriber | undefined>;
  /** Active subscribers in a stable order, a page at a time, without reading inactive ones. */
  pageActive(cursor: string | undefined, limit: number): Promise<ActivePage>;
  /** How many subscribers the active index holds (it is eventually consistent: nearly exact). */
  countActive(): Promise<number>;
  /**
   * Permanent bounce or complaint: never mailed again. Idempotent: answers the state the
   * subscriber left when this call changed it (what the list's counters count), undefined when
   * it changed nothing (suppressed so already, a complainer bouncing, or gone).
   */
  suppress(id: string, state: 'bounced' | 'complained', at: Date): Promise<SubscriberState | undefined>;
}

/** What the subscription flows and the CLI need beyond the sender's view. */
/** A subscriber as an import or the CLI creates one (the store derives the id). */
export interface NewSubscriber extends ReadingChoices {
  email: string;
  state: 'pending' | 'active';
  consent: Consent;
  createdAt?: string;
  lang?: string;
  name?: string;
}

/** A form signup: the address, its consent record, and the reader's language and choices. */
export interface PendingSignup extends ReadingChoices {
  email: string;
  consent: Consent;
  lang?: string;
}

export interface SubscriberStore extends SubscriberDirectory {
  /** The id of an address (normalised first), whether or not it is stored. */
  idFor(email: string): string;
  /**
   * Stores a signup as pending (new, or a new opt-in after unsubscribe or bounce) with its
   * consent record. False, and nothing changes, when the address is active or complained.
   * The signup's choices replace earlier ones: choices left out are removed, not kept; a
   * stored address whose frequency this changes gets `frequencyChangedAt`.
   */
  upsertPending(input: PendingSignup): Promise<{ id: string; stored: boolean }>;
  /** Creates a subscriber only if the address is not stored at all. */
  createIfAbsent(input: NewSubscriber): Promise<{ id: string; created: boolean }>;
  /**
   * Claims the right to send a confirmation email: at most one per `windowMs` per address,
   * decided by one conditional write. Resolves to the claim time, or undefined when refused.
   */
  claimConfirmation(id: string, windowMs: number): Promise<string | undefined>;
  /** Gives a claim back after the email failed to send, so a retry is not blocked. */
  releaseConfirmation(id: string, claimedAt: string): Promise<void>;
  /**
   * pending -> active, in the same write marking a welcome email as owed (unless `owesWelcome`
   * is false: an import) and ending the pending record's expiry and reminder. False when the
   * subscriber was not pending.
   */
  activate(id: string, options?: { owesWelcome: boolean }): Promise<boolean>;
  /**
   * Claims the welcome email an activation left owed, if no one holds it or its holder claimed
   * it before `staleBefore` (a process that died). Otherwise says why not: someone else holds
   * it, or none is owed (sent already, never owed, or the reader is no longer active).
   */
  claimWelcome(id: string, staleBefore: Date): Promise<{ claimedAt: string } | 'held' | 'not-owed'>;
  /** The welcome went out (or cannot): no longer owed. Only the claim's holder can. */
  finishWelcome(id: string, claimedAt: string): Promise<void>;
  /** Gives the claim back after SES provably did not take the email, so a later run retries. */
  releaseWelcome(id: string, claimedAt: string): Promise<void>;
  /**
   * Marks the one confirmation reminder of a pending signup as sent, if it is still pending,
   * unexpired, was not reminded and got its confirmation email before `confirmedBefore`.
   * Resolves to the mark, or undefined.
   */
  claimReminder(id: string, confirmedBefore: Date): Promise<string | undefined>;
  /** Takes the mark back after SES provably did not take the reminder. */
  releaseReminder(id: string, claimedAt: string): Promise<void>;
  /**
   * active or pending -> unsubscribed. Answers the state it replaced (only a reader who was
   * active leaves the active list), undefined when it was neither (or is gone).
   */
  deactivate(id: string): Promise<'active' | 'pending' | undefined>;
  /**
   * Saves what the reader chose on the preferences page (empty topics: every post), in one
   * conditional write, noting `frequencyChangedAt` when the frequency changes. False, and
   * nothing changes, unless the subscriber is active or pending.
   */
  updatePreferences(id: string, preferences: Preferences): Promise<boolean>;
  /** Several subscribers by id in as few reads as possible; ids not stored are absent. */
  getMany(ids: string[]): Promise<Map<string, Subscriber>>;
  /** Erases the item. True when there was one. */
  delete(id: string): Promise<boolean>;
  /** Every subscriber, a page at a time (for export and counts; a full read by design). */
  scanAll(pageSize?: number): AsyncGenerator<Subscriber[]>;
}
