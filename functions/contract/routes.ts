/**
 * Every route of the HTTP API: the app answers them (functions/http/route-table.ts gives each
 * its handler) and API Gateway routes exactly these to the API function (infra/constructs/api.ts);
 * anything else gets API Gateway's 404 without a Lambda call.
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
] as const satisfies readonly { method: 'GET' | 'POST'; path: string }[];

/** `GET /confirm`, as the route table keys its handlers. */
export type RouteKey = KeyOf<(typeof ROUTES)[number]>;

type KeyOf<Route> = Route extends { method: infer Method extends string; path: infer Path extends string }
  ? `${Method} ${Path}`
  : never;
