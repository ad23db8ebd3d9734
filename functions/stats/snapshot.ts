/**
 * What `pushletter stats --json` prints and `pushletter report` draws: the counters read back as
 * figures an editor understands. Nothing here names or counts one reader.
 */
export interface StatsSnapshot {
  generatedAt: string;
  site: { title: string; language: string };
  tracking: 'off' | 'aggregate';
  /** Whether the open pixel is on; its figure is approximate (mail proxies fetch it too). */
  opens: boolean;
  /** Newest first. */
  posts: PostStats[];
  /** The list, one entry per day (site timezone), oldest first. */
  list: ListDay[];
  rates: Rates;
}

export interface PostStats {
  postId: string;
  title: string;
  /** When its dispatch began. */
  sentAt?: string;
  /** Active subscribers the post was for. */
  recipients: number;
  /** Active subscribers it was not for, by reason (`topics`, `digest`). */
  notFor: Record<string, number>;
  sent: number;
  delivered: number;
  bounced: { permanent: number; transient: number };
  complained: number;
  rejected: number;
  delayed: number;
  /** Unsubscribes through this post's emails. */
  unsubscribed: number;
  /** With tracking `aggregate` only. */
  clicks?: {
    links: LinkStats[];
    /** Requests to the link no person sees: what a scanner does to every email. */
    hiddenLinkFollows: number;
  };
  /** With `opens: true` only; approximate. */
  opens?: number;
}

export interface LinkStats {
  url: string;
  /** Every request counted on the redirect. */
  total: number;
  /** HEAD requests and known scanner user agents. */
  machine: number;
  /** total − machine − what the hidden link shows scanners did, never below 0. */
  estimatedHuman: number;
}

export interface ListDay {
  date: string;
  signups: number;
  confirmations: number;
  unsubscribes: number;
  bounces: number;
  complaints: number;
  /** Active subscribers at the end of the day. */
  active: number;
}

export interface Rates {
  /** Over the last 30 days: permanent bounces / sent, complaints / sent (0 when nothing was sent). */
  bounceRate30d: number;
  complaintRate30d: number;
  sent30d: number;
  /** The levels that matter, as fractions. */
  limits: { sesBounceReview: number; sesComplaintReview: number; gmailSpam: number };
}

/** SES reviews an account at a 5% bounce or 0.1% complaint rate; Gmail's spam limit is 0.3%. */
export const RATE_LIMITS: Rates['limits'] = { sesBounceReview: 0.05, sesComplaintReview: 0.001, gmailSpam: 0.003 };
