import { Resolver } from 'node:dns/promises';
import MailChecker from 'mailchecker';
import { logger } from '../commons/logger';

/**
 * Disposable-mail domains, from the mailchecker package's maintained list (tens of thousands of
 * domains; `npm update mailchecker` brings the newest). A subdomain of a listed domain counts.
 */
export function isDisposableDomain(domain: string): boolean {
  const listed = MailChecker.blacklist();
  let candidate = domain.toLowerCase();
  for (;;) {
    if (listed.has(candidate)) return true;
    const dot = candidate.indexOf('.');
    if (dot === -1) return false;
    candidate = candidate.slice(dot + 1);
  }
}

/** `no`: DNS answered that the domain cannot receive mail; `unknown`: DNS did not answer. */
export type MailHostAnswer = 'yes' | 'no' | 'unknown';

/** Whether a domain can receive mail, as DNS says. */
export interface MailDomainChecker {
  canReceiveMail(domain: string): Promise<MailHostAnswer>;
}

/** Answers that mean "the name or the record does not exist", not "DNS failed". */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * MX first, then A/AAAA (RFC 5321 §5.1: with no MX the domain itself is the mail host). A null
 * MX (RFC 7505, `0 .`) says the domain takes no mail. Timeouts, SERVFAIL and refused queries
 * are `unknown`: a broken resolver must never cost a reader their signup.
 */
export class DnsMailDomainChecker implements MailDomainChecker {
  private readonly resolver: Resolver;

  constructor(private readonly options: { timeoutMs: number; servers?: string[] }) {
    this.resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
    if (options.servers !== undefined) this.resolver.setServers(options.servers);
  }

  async canReceiveMail(domain: string): Promise<MailHostAnswer> {
    let timer: NodeJS.Timeout | undefined;
    // The resolver's own timeout is per query and server; this bounds the whole check.
    const deadline = new Promise<MailHostAnswer>((resolve) => {
      timer = setTimeout(() => resolve('unknown'), this.options.timeoutMs * 2);
    });
    try {
      return await Promise.race([this.lookup(domain), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async lookup(domain: string): Promise<MailHostAnswer> {
    const mx = await this.ask(() => this.resolver.resolveMx(domain));
    if (mx === 'unknown') return 'unknown';
    if (mx !== 'absent') return mx.some((record) => record.exchange !== '' && record.exchange !== '.') ? 'yes' : 'no';
    const [a, aaaa] = await Promise.all([
      this.ask(() => this.resolver.resolve4(domain)),
      this.ask(() => this.resolver.resolve6(domain)),
    ]);
    if (Array.isArray(a) && a.length > 0) return 'yes';
    if (Array.isArray(aaaa) && aaaa.length > 0) return 'yes';
    return a === 'unknown' || aaaa === 'unknown' ? 'unknown' : 'no';
  }

  private async ask<T>(query: () => Promise<T[]>): Promise<T[] | 'absent' | 'unknown'> {
    try {
      return await query();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (ABSENT.has(code)) return 'absent';
      logger.info('subscriber.domain_check.unanswered', { code });
      return 'unknown';
    }
  }
}
