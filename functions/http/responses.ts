import { CAPTCHA_ORIGIN, STYLE_HASH } from './pages';
import type { HttpResponse } from './types';

/**
 * Headers every answer carries. Confirm and unsubscribe URLs hold tokens, so nothing may leak
 * them (no referrer, no caching) and no other site may frame the buttons.
 */
const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=31536000',
  'cache-control': 'no-store',
};

export function withSecurityHeaders(response: HttpResponse): HttpResponse {
  return { ...response, headers: { ...SECURITY_HEADERS, ...response.headers } };
}

/** A page that shows the CAPTCHA widget may load its script and frame from Cloudflare, nothing else. */
export function captchaPolicy(on: boolean): Record<string, string> {
  if (!on) return {};
  return {
    'content-security-policy': `${CONTENT_SECURITY_POLICY}; script-src ${CAPTCHA_ORIGIN}; frame-src ${CAPTCHA_ORIGIN}; connect-src ${CAPTCHA_ORIGIN}`,
  };
}

export function html(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', ...headers }, body };
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

export function text(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body };
}
