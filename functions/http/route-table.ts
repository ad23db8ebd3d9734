import type { Route } from './types';
import { confirm } from './confirm-route';
import { githubWebhook } from './github-route';
import { showSignupPage } from './signup-page-route';
import { subscribe } from './subscribe-route';
import { showUnsubscribePage, unsubscribe } from './unsubscribe-route';

/** Every route of the HTTP API, on API Gateway and locally alike. Add a route with one line. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/', handle: showSignupPage },
  { method: 'POST', path: '/subscribe', handle: subscribe },
  { method: 'GET', path: '/confirm', handle: confirm },
  { method: 'GET', path: '/unsubscribe', handle: showUnsubscribePage },
  { method: 'POST', path: '/unsubscribe', handle: unsubscribe },
  { method: 'POST', path: '/hooks/github', handle: githubWebhook },
];
