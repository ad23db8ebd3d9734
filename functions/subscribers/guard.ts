import { createHmac } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { SignupSettings } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { logger, maskAddress } from '../commons/logger';
import { AddressError } from './address';
import { isDisposableDomain, type MailDomainChecker } from './domains';
import { mailboxOf } from './mailbox';
import type { SignupLimits } from './signup-limits';

/** A client made more signups than the per-client limit allows; `retryAt` says when it may again. */
export class SignupLimitError extends InvalidInputError {
  constructor(readonly retryAt: Date) {
    super('SIGNUP_RATE_LIMITED', `Too many signups from your network. Try again after ${retryAt.toISOString()}.`);
    this.name = 'SignupLimitError';
  }
}

/**
 * The client an IP address stands for: an IPv4 address, or an IPv6 /64 (one household or
 * server gets a whole /64 and can pick any address in it). IPv4-mapped IPv6 is IPv4.
 */
export function clientOf(ip: string): string {
  const address = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.padStart(4, '0'))
    .join(':')}::/64`;
}

export interface SignupGuardDeps {
  limits: SignupLimits;
  settings: SignupSettings;
  /** Keys the hashes in limit items, so they name no address or IP. */
  hashKey: Buffer;
  /** Present where domains are checked in DNS (on AWS by default). */
  domains?: MailDomainChecker;
}

/**
 * What stands between the public form and the sender's reputation: per-client and
 * per-mailbox limits, throwaway and dead domains, and the hourly cap on confirmation emails.
 */
export class SignupGuard {
  constructor(private readonly deps: SignupGuardDeps) {}

  get settings(): SignupSettings {
    return this.deps.settings;
  }

  get limits(): SignupLimits {
    return this.deps.limits;
  }

  /** Refuses addresses no confirmation should go to; the message says what to do instead. */
  async checkDomain(email: string): Promise<void> {
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (isDisposableDomain(domain)) {
      logger.info('subscriber.signup.disposable', { domain });
      throw new AddressError(
        `${domain} hands out throwaway addresses that stop working soon. Use the address you read every day.`,
      );
    }
    if (this.deps.domains === undefined) return;
    const answer = await this.deps.domains.canReceiveMail(domain);
    if (answer === 'no') {
      logger.info('subscriber.signup.dead_domain', { domain });
      throw new AddressError(
        `The domain ${domain} cannot receive email (it has no mail server). Check the part after the @.`,
      );
    }
  }

  /** Throws SignupLimitError when `ip` has used up its signups. */
  async admitClient(ip: string): Promise<void> {
    if (!this.deps.settings.limits || ip === '') return;
    const verdict = await this.deps.limits.hit(`client#${this.hash(clientOf(ip))}`, this.deps.settings.perClient);
    if (!verdict.allowed) {
      logger.info('subscriber.signup.client_limited', { retryAt: verdict.retryAt.toISOString() });
      throw new SignupLimitError(verdict.retryAt);
    }
  }

  /** False when this mailbox (however it is spelled) had its confirmations for now. */
  async admitMailbox(email: string): Promise<boolean> {
    if (!this.deps.settings.limits) return true;
    const verdict = await this.deps.limits.hit(`mailbox#${this.hash(mailboxOf(email))}`, this.deps.settings.perMailbox);
    if (!verdict.allowed) logger.info('subscriber.confirmation.mailbox_limited', { address: maskAddress(email) });
    return verdict.allowed;
  }

  /** One of this hour's confirmation emails for the whole list; false: the email must wait. */
  takeHourSlot(): Promise<boolean> {
    return this.deps.limits.takeHourSlot(this.deps.settings.confirmationsPerHour);
  }

  private hash(value: string): string {
    return createHmac('sha256', this.deps.hashKey).update(value, 'utf8').digest().subarray(0, 16).toString('base64url');
  }
}
