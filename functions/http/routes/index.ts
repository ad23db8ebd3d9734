import type { Route } from '../app';
import { confirm, showConfirmPage } from './confirm';
import { githubWebhook } from './github';
import { showSignupPage } from './signup-page';
import { subscribe } from './subscribe';
import { showUnsubscribePage, unsubscribe } from './unsubscribe';

/** Every route of the HTTP API, on API Gateway and locally alike. Add a route with one line. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/', handle: showSignupPage },
  { method: 'POST', path: '/subscribe', handle: subscribe },
  { method: 'GET', path: '/confirm', handle: showConfirmPage },
  { method: 'POST', path: '/confirm', handle: confirm },
  { method: 'GET', path: '/unsubscribe', handle: showUnsubscribePage },
  { method: 'POST', path: '/unsubscribe', handle: unsubscribe },
  { method: 'POST', path: '/hooks/github', handle: githubWebhook },
];
