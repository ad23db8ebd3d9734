import { ConfigError } from '../commons/errors';
import { logger } from '../commons/logger';

/** The form field Cloudflare's widget fills with its answer. */
export const CAPTCHA_FIELD = 'cf-turnstile-response';

/** A challenge the form shows and the API checks with its provider. */
export interface CaptchaVerifier {
  /** Public: goes into the page. */
  readonly siteKey: string;
  verify(answer: string, clientIp: string): Promise<boolean>;
}

/**
 * Cloudflare Turnstile's server-side check (siteverify): one POST with the secret key, the
 * widget's answer and the client's IP. Anything but `success: true` is a refusal.
 */
export class TurnstileVerifier implements CaptchaVerifier {
  constructor(private readonly options: { siteKey: string; secret?: string; verifyUrl: string; timeoutMs?: number }) {}

  get siteKey(): string {
    return this.options.siteKey;
  }

  async verify(answer: string, clientIp: string): Promise<boolean> {
    if (this.options.secret === undefined) {
      throw new ConfigError(
        'captchaSiteKey is set but the secret holds no captchaSecret: put the Turnstile secret key in it (README: "Turn on the CAPTCHA")',
      );
    }
    // Turnstile answers are at most 2048 characters; anything else is not one.
    if (answer === '' || answer.length > 2048) return false;
    const response = await fetch(this.options.verifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ secret: this.options.secret, response: answer, remoteip: clientIp }).toString(),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    const result = (await response.json().catch(() => ({}))) as { success?: unknown; 'error-codes'?: unknown };
    if (result.success !== true)
      logger.info('subscriber.signup.captcha_refused', {
        errors: JSON.stringify(result['error-codes'] ?? response.status),
      });
    return result.success === true;
  }
}
