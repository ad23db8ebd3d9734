import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock } from '../commons/clock';
import type { Mailer } from '../mail/mailer';
import { classifySesError } from '../mail/ses-errors';
import type { RecipientLinks } from '../render/types';
import type { SignupGuard } from './guard';
import type { SubscriberStore } from './types';
import type { WelcomeEmails } from './welcome-email';

/**
 * What follows a signup: one reminder a day later if it is still not confirmed, and one welcome
 * email right after confirming. Each is owed and decided on the subscriber's item with
 * conditional writes (SubscriberStore: activate, claimWelcome, claimReminder); a follow-up
 * item, due at a time, is how a scheduled run finds them without scanning the subscribers.
 */
export type FollowUpKind = 'welcome' | 'reminder';

export interface FollowUp {
  kind: FollowUpKind;
  subscriberId: string;
  /** Opaque position in the store (due time and identity). */
  key: string;
}

/** Follow-ups by due time (adapters/dynamodb/follow-up-store.ts: items in the limits table). */
export interface FollowUps {
  /** Adding the same kind, subscriber and due time twice keeps one. */
  add(kind: FollowUpKind, subscriberId: string, dueAt: Date): Promise<FollowUp>;
  /** Follow-ups due at `now`, oldest first, at most `limit`. */
  due(now: Date, limit: number): Promise<FollowUp[]>;
  remove(followUp: FollowUp): Promise<void>;
}

/** The reminder goes a day after the latest confirmation email, if still unconfirmed. */
export const REMINDER_AFTER_MS = 24 * 60 * 60 * 1000;
/**
 * When a scheduled run looks at a welcome the confirming request should have sent already.
 * That request sends it within seconds (the API function's timeout is 10 s).
 */
export const WELCOME_RETRY_AFTER_MS = 5 * 60 * 1000;
/** A welcome claimed longer ago than this belongs to a process that died before finishing. */
export const WELCOME_CLAIM_STALE_MS = 10 * 60 * 1000;
/** Follow-ups one run reads at a time. */
const BATCH = 25;

export interface FollowUpDependencies {
  store: SubscriberStore;
  followUps: FollowUps;
  mailer: Mailer;
  welcome: WelcomeEmails;
  /** Builds a pending reader's reminder (the confirmation email's layout, a fresh link). */
  confirmations: { reminder(to: string, confirmUrl: string, lang: string, name?: string): Buffer };
  links: {
    confirmUrl(subscriberId: string): string;
    recipientLinks(subscriberId: string): RecipientLinks;
  };
  clock: Clock;
  logger: Logger;
  defaultLanguage: string;
  /** Reminders count against the hourly cap on confirmation emails, when there is one. */
  guard?: SignupGuard;
  /**
   * Counts an email SES took on the day's figures: SES counts welcomes and reminders in the
   * account's bounce and complaint rates, so the rates' denominator must too.
   */
  countSent(): Promise<void>;
}

/** What one run of `sendDue` did. */
export interface FollowUpRun {
  welcomes: number;
  reminders: number;
}

type WelcomeOutcome = 'sent' | 'not-owed' | 'held' | 'retry';

/** The welcome and reminder emails; SubscriptionService calls it, a schedule or timer runs `sendDue`. */
export class ReaderFollowUps {
  constructor(private readonly deps: FollowUpDependencies) {}

  /** A signup was stored as pending: look at its reminder a day from now. */
  async signedUp(subscriberId: string): Promise<void> {
    await this.deps.followUps.add('reminder', subscriberId, this.after(REMINDER_AFTER_MS));
  }

  /**
   * Written before the activation that owes the welcome: if the process dies after activating,
   * a scheduled run finds this and sends the welcome; if it dies before, this finds nothing owed.
   */
  expectWelcome(subscriberId: string): Promise<FollowUp> {
    return this.deps.followUps.add('welcome', subscriberId, this.after(WELCOME_RETRY_AFTER_MS));
  }

  /**
   * Sends the welcome an activation left owed, right away. Never throws: the reader has
   * confirmed whatever happens here, and what did not go is retried from `followUp`.
   */
  async welcomeNow(subscriberId: string, followUp: FollowUp): Promise<void> {
    try {
      const outcome = await this.deliverWelcome(subscriberId);
      if (outcome === 'sent' || outcome === 'not-owed') await this.deps.followUps.remove(followUp);
    } catch (error) {
      this.deps.logger.error('subscriber.welcome_failed', { subscriberId, error: error as Error });
    }
  }

  /**
   * Claims the welcome, builds and sends it, records it sent. An SES error that proves the email
   * did not go gives the claim back for a retry; one that leaves it in doubt (a timeout) counts
   * as sent, so nobody is welcomed twice. A process dying between claim and record leaves a
   * claim that goes stale and is taken over: only a death after SES took the email and before
   * the record (one DynamoDB write) can send a second copy.
   */
  private async deliverWelcome(subscriberId: string): Promise<WelcomeOutcome> {
    const { store, clock, logger } = this.deps;
    const claimed = await store.claimWelcome(subscriberId, new Date(clock.now().getTime() - WELCOME_CLAIM_STALE_MS));
    if (typeof claimed === 'string') return claimed;
    const claim = claimed.claimedAt;
    const subscriber = await store.get(subscriberId);
    if (subscriber === undefined) return 'not-owed';
    let data: Buffer;
    try {
      data = await this.deps.welcome.build(subscriber, this.deps.links.recipientLinks(subscriberId), clock.now());
    } catch (error) {
      await store.releaseWelcome(subscriberId, claim);
      throw error;
    }
    try {
      await this.deps.mailer.sendRaw({ to: subscriber.email, data });
    } catch (error) {
      const { kind, reason } = classifySesError(error);
      if (kind === 'retry') {
        await store.releaseWelcome(subscriberId, claim);
        logger.warn('subscriber.welcome_retry', { subscriberId, reason });
        return 'retry';
      }
      logger.error(kind === 'rejected' ? 'subscriber.welcome_rejected' : 'subscriber.welcome_unknown', {
        subscriberId,
        reason,
      });
      await store.finishWelcome(subscriberId, claim);
      return 'sent';
    }
    await store.finishWelcome(subscriberId, claim);
    await this.deps.countSent();
    logger.info('subscriber.welcome_sent', { subscriberId });
    return 'sent';
  }

  /**
   * Sends the reminder of a pending signup, at most once: the mark is written before the email
   * goes (a crash in between loses the reminder rather than sending two), and given back only
   * when SES provably did not take it.
   */
  private async remind(subscriberId: string): Promise<'sent' | 'not-owed' | 'stop'> {
    const { store, clock, logger, guard } = this.deps;
    const mark = await store.claimReminder(subscriberId, new Date(clock.now().getTime() - REMINDER_AFTER_MS));
    if (mark === undefined) return 'not-owed';
    const subscriber = await store.get(subscriberId);
    if (subscriber === undefined) return 'not-owed';
    if (guard !== undefined && !(await guard.takeHourSlot())) {
      await store.releaseReminder(subscriberId, mark);
      return 'stop';
    }
    try {
      const data = this.deps.confirmations.reminder(
        subscriber.email,
        this.deps.links.confirmUrl(subscriberId),
        subscriber.lang ?? this.deps.defaultLanguage,
        subscriber.name,
      );
      await this.deps.mailer.sendRaw({ to: subscriber.email, data });
    } catch (error) {
      const { kind, reason } = classifySesError(error);
      if (kind !== 'retry') {
        logger.error('subscriber.reminder_failed', { subscriberId, reason });
        return 'not-owed';
      }
      await store.releaseReminder(subscriberId, mark);
      await guard?.limits.giveBackHourSlot();
      logger.warn('subscriber.reminder_retry', { subscriberId, reason });
      return 'stop';
    }
    await this.deps.countSent();
    logger.info('subscriber.reminder_sent', { subscriberId });
    return 'sent';
  }

  /**
   * Sends the welcomes and reminders that are due, oldest first: what the API function does
   * on its 5-minute schedule on AWS and a timer does on the local stack. Running it twice, or
   * two at once, sends nothing twice.
   */
  async sendDue(): Promise<FollowUpRun> {
    const { followUps, clock } = this.deps;
    const run: FollowUpRun = { welcomes: 0, reminders: 0 };
    for (;;) {
      const batch = await followUps.due(clock.now(), BATCH);
      for (const followUp of batch) {
        if (followUp.kind === 'reminder') {
          const outcome = await this.remind(followUp.subscriberId);
          if (outcome === 'stop') return run;
          if (outcome === 'sent') run.reminders++;
        } else {
          const outcome = await this.deliverWelcome(followUp.subscriberId).catch((error: unknown) => {
            this.deps.logger.error('subscriber.welcome_failed', {
              subscriberId: followUp.subscriberId,
              error: error as Error,
            });
            return 'retry' as const;
          });
          if (outcome === 'sent') run.welcomes++;
          // Held by a live request, or not sent for now: look again later.
          if (outcome === 'held' || outcome === 'retry')
            await followUps.add('welcome', followUp.subscriberId, this.after(WELCOME_RETRY_AFTER_MS));
        }
        await followUps.remove(followUp);
      }
      if (batch.length < BATCH) return run;
    }
  }

  private after(milliseconds: number): Date {
    return new Date(this.deps.clock.now().getTime() + milliseconds);
  }
}
