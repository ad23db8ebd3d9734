/**
 * Every route of the HTTP API: the app answers them (functions/http/route-table.ts gives each
 * its handler) and API Gateway routes exactly these to the API function (infra/constructs/api.ts);
 * anything else gets API Gateway's 404 without a Lambda call. A `{name}` segment is a path
 * parameter, as API Gateway writes it: it matches one whole segment (no `/`).
 */
export const ROUTES = [
  { method: 'GET', path: '/' },
  { method: 'POST', path: '/subscribe' },
  { method: 'GET', path: '/confirm' },
  { method: 'POST', path: '/confirm' },
  { method: 'GET', path: '/unsubscribe' },
  { method: 'POST', path: '/unsubscribe' },
  { method: 'GET', path: '/preferences' },
  { method: 'POST', path: '/preferences' },
  { method: 'POST', path: '/hooks/github' },
  // Aggregate tracking (README "Tracking"): answered whatever the setting, so links in emails
  // sent while it was on keep working after it is turned off; counted only while it is on.
  { method: 'GET', path: '/r/{post}/{link}' },
  { method: 'GET', path: '/o/{pixel}' },
  // Link scanners ask with HEAD, which the redirect counts as a machine's click. The app
  // answers HEAD through a GET route, but API Gateway routes each method on its own: without
  // these, a HEAD would get its 404 on AWS and never be counted.
  { method: 'HEAD', path: '/r/{post}/{link}' },
  { method: 'HEAD', path: '/o/{pixel}' },
] as const satisfies readonly { method: 'GET' | 'POST' | 'HEAD'; path: string }[];

/** `GET /confirm`, as the route table keys its handlers. */
export type RouteKey = KeyOf<(typeof ROUTES)[number]>;

type KeyOf<Route> = Route extends { method: infer Method extends string; path: infer Path extends string }
  ? `${Method} ${Path}`
  : never;
