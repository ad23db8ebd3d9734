import type { Clock } from '../commons/clock';
import type { Settings } from '../commons/config';
import type { Queue } from '../commons/queue';
import type { IngestMessage } from '../contract/messages';
import type { CounterStore } from '../stats/counters';
import type { LinkSigner } from '../stats/tracked-links';
import type { CaptchaVerifier } from '../subscribers/captcha';
import type { SubscriptionService } from '../subscribers/service';
import type { ErrorKind, PageContext } from './pages';

/**
 * The HTTP app speaks these two shapes only; the API Gateway and Node server adapters
 * translate to and from them, so every route runs unchanged in both places.
 */
export interface HttpRequest {
  /** Upper case. HEAD is answered by its own route, or else by the GET route. */
  method: string;
  /** Path without query string, e.g. `/subscribe`. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The raw body, at most MAX_BODY_BYTES; see `bodyTooLarge`. */
  body: Buffer;
  /** Set by the adapter when the body exceeded MAX_BODY_BYTES (the rest was discarded). */
  bodyTooLarge: boolean;
  /** The connecting client's address: only hashed into the consent record, never stored. */
  clientIp: string;
  /** Set by the app for a route with `{name}` segments: each still percent-encoded. */
  params?: Readonly<Record<string, string>>;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Text; binary (the open pixel) as base64 with `base64: true`. */
  body: string;
  base64?: boolean;
}

/** Nothing a reader legitimately sends to this API comes close; the rest is abuse. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Routes that carry documents rather than form fields get more room: GitHub push payloads
 * grow with the commits pushed (GitHub caps them at 25 MB, API Gateway at 10 MB), and the
 * local stack's publish endpoint carries a post (at most 1 MB) with its `_config.yml`.
 */
const LARGER_BODY_LIMITS: Record<string, number> = {
  '/hooks/github': 10 * 1024 * 1024,
  '/local/publish': 4 * 1024 * 1024,
};

export function bodyLimit(path: string): number {
  return LARGER_BODY_LIMITS[path] ?? MAX_BODY_BYTES;
}

/**
 * What routes may use. The composition modules (compose/lambda.ts, compose/local.ts) build
 * it; a route that needs a new port adds an optional field here and the composition fills it.
 */
export interface AppDependencies {
  settings: Settings;
  clock: Clock;
  subscriptions: Pick<
    SubscriptionService,
    | 'subscribe'
    | 'checkConfirmToken'
    | 'confirm'
    | 'unsubscribe'
    | 'checkUnsubscribeToken'
    | 'preferencesOf'
    | 'savePreferences'
  >;
  /** The signup form's challenge, when the deployment turned one on. */
  captcha?: CaptchaVerifier;
  /** `POST /hooks/github`: the webhook secret (read lazily: a secret store call) and the ingest queue. */
  github?: { webhookSecret: () => Promise<string | undefined>; ingestQueue: Queue<IngestMessage> };
  /** `GET /r/…` and `GET /o/…` (aggregate tracking); without it they answer 404. */
  tracking?: TrackingDependencies;
}

/** What the click redirect and the open pixel need. */
export interface TrackingDependencies {
  signer: LinkSigner;
  /** The targets of a post's redirect links (IssueStore.getLinks), cached: they never change. */
  links: (postId: string) => Promise<string[] | undefined>;
  /** Where clicks and opens are counted (the routes count only while tracking is `aggregate`). */
  counters?: Pick<CounterStore, 'add'>;
}

export type RouteHandler = (request: HttpRequest, app: RouteContext) => Promise<HttpResponse>;

export interface Route {
  method: 'GET' | 'POST' | 'HEAD';
  path: string;
  handle: RouteHandler;
}

/** Per-request helpers every route gets beside the dependencies. */
export interface RouteContext extends AppDependencies {
  /** Page language from a `lang` field or `?lang=`, else the site's. */
  page(request: HttpRequest, fieldLanguage?: string): PageContext;
  /** A localised error answer: a page for people, JSON for JSON clients; `{limit}` in it is the route's body limit. */
  fail(request: HttpRequest, status: number, kind: ErrorKind, detail?: string): HttpResponse;
}

export type HttpApp = (request: HttpRequest) => Promise<HttpResponse>;
