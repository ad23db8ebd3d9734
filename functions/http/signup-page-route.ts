import { signupPage } from './pages';
import { captchaPolicy, html } from './responses';
import type { RouteHandler } from './types';

/** GET /: the form, in the site's language or `?lang=`. */
export const showSignupPage: RouteHandler = async (request, app) =>
  html(
    200,
    signupPage(app.page(request), undefined, app.captcha?.siteKey, { offered: app.settings.topics }),
    captchaPolicy(app.captcha !== undefined),
  );
