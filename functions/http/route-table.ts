import { ROUTES as ROUTE_CONTRACT, type RouteKey } from '../contract/routes';
import { confirm, showConfirmPage } from './confirm-route';
import { githubWebhook } from './github-route';
import { savePreferences, showPreferencesPage } from './preferences-route';
import { showSignupPage } from './signup-page-route';
import { subscribe } from './subscribe-route';
import { followLink, servePixel } from './tracking-routes';
import type { Route, RouteHandler } from './types';
import { showUnsubscribePage, unsubscribe } from './unsubscribe-route';

/** The handler of every route in the contract (functions/contract/routes.ts); add a route there first. */
const HANDLERS: Record<RouteKey, RouteHandler> = {
  'GET /': showSignupPage,
  'POST /subscribe': subscribe,
  'GET /confirm': showConfirmPage,
  'POST /confirm': confirm,
  'GET /unsubscribe': showUnsubscribePage,
  'POST /unsubscribe': unsubscribe,
  'GET /preferences': showPreferencesPage,
  'POST /preferences': savePreferences,
  'POST /hooks/github': githubWebhook,
  'GET /r/{post}/{link}': followLink,
  'GET /o/{pixel}': servePixel,
  'HEAD /r/{post}/{link}': followLink,
  'HEAD /o/{pixel}': servePixel,
};

/** Every route of the HTTP API, on API Gateway and locally alike. */
export const ROUTES: readonly Route[] = ROUTE_CONTRACT.map((route) => ({
  ...route,
  handle: HANDLERS[`${route.method} ${route.path}` as RouteKey],
}));
