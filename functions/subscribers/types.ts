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
  /** Permanent bounce or complaint: never mailed again. Idempotent. */
  suppress(id: string, state: 'bounced' | 'complained', at: Date): Promise<void>;
}

/** What the subscription flows and the CLI need beyond the sender's view. */
/** A subscriber as an import or the CLI creates one (the store derives the id). */
export interface NewSubscriber {
  email: string;
  state: 'pending' | 'active';
  consent: Consent;
  createdAt?: string;
  lang?: string;
  name?: string;
}

export interface SubscriberStore extends SubscriberDirectory {
  /** The id of an address (normalised first), whether or not it is stored. */
  idFor(email: string): string;
  /**
   * Stores a signup as pending (new, or a new opt-in after unsubscribe or bounce) with its
   * consent record. False, and nothing changes, when the address is active or complained.
   */
  upsertPending(input: { email: string; consent: Consent; lang?: string }): Promise<{ id: string; stored: boolean }>;
  /** Creates a subscriber only if the address is not stored at all. */
  createIfAbsent(input: NewSubscriber): Promise<{ id: string; created: boolean }>;
  /**
   * Claims the right to send a confirmation email: at most one per `windowMs` per address,
   * decided by one conditional write. Resolves to the claim time, or undefined when refused.
   */
  claimConfirmation(id: string, windowMs: number): Promise<string | undefined>;
  /** Gives a claim back after the email failed to send, so a retry is not blocked. */
  releaseConfirmation(id: string, claimedAt: string): Promise<void>;
  /** pending -> active. False when the subscriber was not pending. */
  activate(id: string): Promise<boolean>;
  /** active or pending -> unsubscribed. False when it was neither (or is gone). */
  deactivate(id: string): Promise<boolean>;
  /**
   * Saves what the reader chose on the preferences page (empty topics: every post), in one
   * conditional write. False, and nothing changes, unless the subscriber is active or pending.
   */
  updatePreferences(id: string, preferences: Preferences): Promise<boolean>;
  /** Several subscribers by id in as few reads as possible; ids not stored are absent. */
  getMany(ids: string[]): Promise<Map<string, Subscriber>>;
  /** Erases the item. True when there was one. */
  delete(id: string): Promise<boolean>;
  /** Every subscriber, a page at a time (for export and counts; a full read by design). */
  scanAll(pageSize?: number): AsyncGenerator<Subscriber[]>;
}
