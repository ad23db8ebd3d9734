import { DynamoSignupLimits } from '../adapters/dynamodb/signup-limit-store';
import { readLimitsTable } from '../commons/config';
import { TurnstileVerifier } from '../subscribers/captcha';
import { DnsMailDomainChecker } from '../subscribers/domains';
import { SignupGuard } from '../subscribers/guard';
import type { CoreInputs, SignupProtection } from './core-services';

/**
 * What guards the public form: limits (in the limits table), domain checks (the disposable
 * list is ~1 MB), the hourly cap and the CAPTCHA. Only the API entry and the local stack
 * import this module, so the other Lambda bundles do not carry the list.
 */
export function signupProtection(inputs: CoreInputs, hashKey: Buffer): SignupProtection {
  const signup = inputs.settings.signup;
  const limits = new DynamoSignupLimits(inputs.dynamo, inputs.limitsTable ?? readLimitsTable(), inputs.clock);
  const guard = new SignupGuard({
    limits,
    settings: signup,
    hashKey,
    domains: signup.checkDomainDns
      ? new DnsMailDomainChecker({ timeoutMs: signup.dnsTimeoutMs, servers: signup.dnsServers })
      : undefined,
  });
  const captcha = signup.captcha && new TurnstileVerifier({ ...signup.captcha, secret: inputs.secrets.captchaSecret });
  return { guard, limits, ...(captcha ? { captcha } : {}) };
}
