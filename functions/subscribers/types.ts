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
  consent: Consent;
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
  /** Permanent bounce or complaint: never mailed again. Idempotent. */
  suppress(id: string, state: 'bounced' | 'complained', at: Date): Promise<void>;
}
