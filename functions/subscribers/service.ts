import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock } from '../commons/clock';
import { errorMessage, InvalidInputError } from '../commons/errors';
import { logger as defaultLogger, maskAddress } from '../commons/logger';
import { type CountedEvent, countEvents } from '../commons/metrics';
import { PREFERENCES_URL_PLACEHOLDER, type RecipientLinks, UNSUBSCRIBE_URL_PLACEHOLDER } from '../render/types';
import { DAY_COUNTER, dayOf, dayScope, POST_COUNTER, postReferenceScope } from '../stats/counted';
import type { CounterIncrement, CounterStore } from '../stats/counters';
import { normaliseAddress } from './address';
import { type FollowUpDependencies, type FollowUpRun, ReaderFollowUps } from './follow-ups';
import type { SignupGuard } from './guard';
import { hashIp, type SubscriberKeys } from './keys';
import { SubscriberTokens, type TokenPurpose } from './tokens';
import type { Consent, Preferences, ReadingChoices, Subscriber, SubscriberState, SubscriberStore } from './types';

/** Sends the double opt-in email (the HTTP side builds it from its MJML template, SES sends it). */
export interface ConfirmationSender {
  /** `name` greets the reader when an import gave one. */
  sendConfirmation(to: string, confirmUrl: string, lang: string, name?: string): Promise<void>;
}

/** Nobody can mail-bomb an address through the form: one confirmation email per window. */
export const CONFIRMATION_WINDOW_MS = 10 * 60 * 1000;

export interface SubscriptionServiceDeps {
  store: SubscriberStore;
  keys: SubscriberKeys;
  mailer: ConfirmationSender;
  clock: Clock;
  /** Base URL of the HTTP API, without a trailing slash needed. */
  publicUrl: string;
  /** Language of the confirmation email when the signup did not say. */
  defaultLanguage?: string;
  logger?: Logger;
  /** Limits, domain checks and the hourly cap for form signups; without it, none apply. */
  guard?: SignupGuard;
  /** The welcome after confirming and the reminder of a pending signup; without them, neither. */
  followUps?: Pick<FollowUpDependencies, 'followUps' | 'mailer' | 'welcome' | 'confirmations'>;
  /** Where signups, confirmations and unsubscribes are counted per day; without it, nothing is. */
  counters?: CounterStore;
  /** The site's time zone: the day a change counts on. */
  timeZone?: string;
}

/** `topics` and `frequency` as checked against the offered topics (choices.ts). */
export interface SubscribeRequest extends ReadingChoices {
  email: string;
  /** Where the signup came from: 'form', 'import', 'api', … */
  source: string;
  /** Client IP; only its salted hash is stored. Form signups from one client are limited. */
  ip?: string;
  lang?: string;
}

/**
 * Until a process has timed a few confirmation emails, an accepted signup answers no sooner
 * than this: about what an SES call takes from Lambda, so the first answers of a fresh
 * process do not tell a sent email from none.
 */
export const ANSWER_FLOOR_MS = 200;

/** Waiting confirmations one run sends at most (the hourly cap usually stops it first). */
const WAITING_BATCH = 25;

export type ConfirmResult = 'confirmed' | 'already-confirmed';
export type UnsubscribeResult = 'unsubscribed' | 'already-unsubscribed';

const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}$/;

/**
 * The reader-facing flows: double opt-in signup, confirmation and leaving. Outward results do
 * not depend on whether an address is known, so nobody can probe the list through the form.
 */
export class SubscriptionService {
  private readonly store: SubscriberStore;
  private readonly tokens: SubscriberTokens;
  private readonly keys: SubscriberKeys;
  private readonly mailer: ConfirmationSender;
  private readonly clock: Clock;
  private readonly publicUrl: string;
  private readonly defaultLanguage: string;
  private readonly logger: Logger;
  private readonly guard: SignupGuard | undefined;
  private readonly sendMillis: RunningAverage;
  private readonly followUps: ReaderFollowUps | undefined;
  private readonly counters: CounterStore | undefined;
  private readonly timeZone: string;

  constructor(deps: SubscriptionServiceDeps) {
    this.store = deps.store;
    this.keys = deps.keys;
    this.tokens = new SubscriberTokens(deps.keys.tokenKey, deps.clock);
    this.mailer = deps.mailer;
    this.clock = deps.clock;
    this.publicUrl = deps.publicUrl.replace(/\/+$/, '');
    this.defaultLanguage = deps.defaultLanguage ?? 'en';
    this.logger = deps.logger ?? defaultLogger;
    this.guard = deps.guard;
    this.sendMillis = new RunningAverage(ANSWER_FLOOR_MS);
    this.followUps =
      deps.followUps &&
      new ReaderFollowUps({
        ...deps.followUps,
        store: this.store,
        links: this,
        clock: this.clock,
        logger: this.logger,
        defaultLanguage: this.defaultLanguage,
        guard: this.guard,
        countSent: () => this.count(undefined, [DAY_COUNTER.sent]),
      });
    this.counters = deps.counters;
    this.timeZone = deps.timeZone ?? 'UTC';
  }

  /**
   * Counts a change of the list on today's figures. A counter that cannot be written is logged
   * and left out: a reader's signup or unsubscribe never fails for a figure.
   */
  private async count(metric: CountedEvent | undefined, names: string[], more: CounterIncrement[] = []): Promise<void> {
    if (metric !== undefined) countEvents(metric);
    if (this.counters === undefined) return;
    const scope = this.today();
    try {
      await this.counters.add([...names.map((name) => ({ scope, name })), ...more]);
    } catch (error) {
      this.logger.error('counters.lost', { names: names.join(','), error: errorMessage(error) });
    }
  }

  private today(): string {
    return dayScope(dayOf(this.clock.now(), this.timeZone));
  }

  /**
   * Readers an import made active joined the list today, though nobody signed up or confirmed:
   * counted, so the days before the import do not show them as active.
   */
  async countImported(active: number): Promise<void> {
    if (active > 0) await this.count(undefined, [], [{ scope: this.today(), name: DAY_COUNTER.joined, by: active }]);
  }

  /**
   * Erases a reader's record (`subscribers forget`): true when there was one. An active reader
   * leaves today's active count, as an unsubscribe would, so earlier days keep theirs.
   */
  async forget(email: string): Promise<boolean> {
    const id = this.store.idFor(email);
    const known = await this.store.get(id);
    if (!(await this.store.delete(id))) return false;
    if (known?.state === 'active') await this.count(undefined, [DAY_COUNTER.left]);
    return true;
  }

  /**
   * Records a signup and sends the confirmation email. Resolves the same way for a new, pending
   * or active address (no enumeration); throws AddressError (ADDRESS_INVALID) for an address
   * that cannot be right.
   *
   * - new, pending, unsubscribed or bounced: stored as pending with this consent record, and a
   *   confirmation is sent unless one went out in the last 10 minutes. An unsubscribed or
   *   bounced reader may come back, but only through a new opt-in: the click proves the
   *   mailbox works and wants mail again.
   * - active: nothing changes and no email is sent.
   * - with the guard: throwaway and dead domains throw AddressError, a client over its limit
   *   SignupLimitError; a mailbox over its limit gets no email, and past the hourly cap the
   *   email waits for `sendWaitingConfirmations`. All of these answer like any other signup.
   * - complained: nothing changes and no email is sent, ever. A complaint tells the provider
   *   this mail is unwanted, and mailing that mailbox again (even a confirmation request) hurts
   *   the sender's reputation. An editor can `pushletter subscribers forget` the address if the
   *   person really wants back in.
   */
  async subscribe(request: SubscribeRequest): Promise<void> {
    const email = normaliseAddress(request.email);
    await this.guard?.checkDomain(email);
    if (request.ip !== undefined) await this.guard?.admitClient(request.ip);
    // Sending an email takes longer than not sending one, which would tell a prober that an
    // address is already subscribed (or rate-limited). Every accepted signup answers at the
    // same moment: when a typical send would have finished, or when this one did.
    const answerAt = performance.now() + this.sendMillis.typical();
    await this.recordSignup(email, request);
    await sleep(answerAt - performance.now());
  }

  private async recordSignup(email: string, request: SubscribeRequest): Promise<void> {
    const source =
      typeof request.source === 'string' && request.source.trim() ? request.source.trim().slice(0, 64) : 'unknown';
    const lang = this.language(request.lang);
    const consent: Consent = { at: this.clock.now().toISOString(), source };
    if (request.ip) consent.ipHash = hashIp(this.keys.ipKey, request.ip);
    const { id, stored } = await this.store.upsertPending({
      email,
      consent,
      lang,
      topics: request.topics,
      frequency: request.frequency,
    });
    if (!stored) {
      this.logger.info('subscriber.signup_ignored', { subscriberId: id, source, reason: 'active or complained' });
      return;
    }
    this.logger.info('subscriber.signup', { subscriberId: id, source, address: maskAddress(email) });
    await this.followUps?.signedUp(id);
    await this.count('signups', [DAY_COUNTER.signups]);
    // The mailbox however spelled, then this exact address, then the list's hourly budget.
    if (this.guard !== undefined && !(await this.guard.admitMailbox(email))) return;
    await this.requestConfirmation(id, email, lang, { hourly: true });
  }

  /**
   * Sends a confirmation email to a pending subscriber unless one was sent within the window.
   * True when this call sent it. If the send fails the claim is released, so the reader can try
   * again at once instead of waiting out the window.
   */
  async requestConfirmation(
    id: string,
    email: string,
    lang: string = this.defaultLanguage,
    options: { hourly?: boolean; name?: string } = {},
  ): Promise<boolean> {
    const claimedAt = await this.store.claimConfirmation(id, CONFIRMATION_WINDOW_MS);
    if (claimedAt === undefined) {
      this.logger.info('subscriber.confirmation_rate_limited', { subscriberId: id });
      return false;
    }
    const hourly = options.hourly === true && this.guard !== undefined;
    if (hourly && !(await this.guard!.takeHourSlot())) {
      // Stored and in line: sent by sendWaitingConfirmations when the hour allows.
      await this.guard!.limits.enqueue(id);
      this.logger.info('subscriber.confirmation_waiting', { subscriberId: id });
      return false;
    }
    try {
      await this.timedSend(email, id, lang, options.name);
    } catch (error) {
      await this.store.releaseConfirmation(id, claimedAt);
      if (hourly) await this.guard!.limits.giveBackHourSlot();
      this.logger.error('subscriber.confirmation_failed', { subscriberId: id, error: error as Error });
      throw error;
    }
    this.logger.info('subscriber.confirmation_sent', { subscriberId: id });
    return true;
  }

  private async timedSend(email: string, id: string, lang: string, name?: string): Promise<void> {
    const started = performance.now();
    await this.mailer.sendConfirmation(email, this.confirmUrl(id), lang, name);
    // SES counts confirmation emails in the account's bounce and complaint rates; so do the
    // figures. Inside the timed part, so an answer that sent an email takes no longer than one that did not.
    await this.count(undefined, [DAY_COUNTER.sent]);
    this.sendMillis.add(performance.now() - started);
  }

  /**
   * Sends confirmations that waited for the hourly cap, oldest first, as far as this hour's
   * budget allows; the rest stay in line. Runs on a schedule (AWS) or a timer (local stack).
   * Resolves to how many were sent.
   */
  async sendWaitingConfirmations(): Promise<number> {
    const guard = this.guard;
    if (guard === undefined) return 0;
    let sent = 0;
    for (;;) {
      const batch = await guard.limits.waiting(WAITING_BATCH);
      let progressed = false;
      for (const waiting of batch) {
        if (!(await guard.limits.claim(waiting))) continue;
        progressed = true;
        const subscriber = await this.store.get(waiting.subscriberId);
        // Confirmed (an earlier link), unsubscribed or forgotten meanwhile: nothing to send.
        if (subscriber?.state !== 'pending') {
          await guard.limits.remove(waiting);
          continue;
        }
        if (!(await guard.takeHourSlot())) {
          await guard.limits.release(waiting);
          return sent;
        }
        try {
          await this.timedSend(
            subscriber.email,
            subscriber.id,
            subscriber.lang ?? this.defaultLanguage,
            subscriber.name,
          );
        } catch (error) {
          await guard.limits.giveBackHourSlot();
          await guard.limits.release(waiting);
          this.logger.error('subscriber.confirmation_failed', { subscriberId: subscriber.id, error: error as Error });
          return sent;
        }
        await guard.limits.remove(waiting);
        this.logger.info('subscriber.confirmation_sent', { subscriberId: subscriber.id, waited: true });
        sent++;
      }
      if (!progressed || batch.length < WAITING_BATCH) return sent;
    }
  }

  /**
   * For the page behind the email's link: what pressing its button would do, changing nothing
   * (mail scanners open every link). Throws InvalidInputError like `confirm`.
   */
  async checkConfirmToken(token: string): Promise<'pending' | 'already-confirmed'> {
    const { subscriberId } = this.tokens.verify(token, 'confirm');
    const subscriber = await this.store.get(subscriberId);
    if (subscriber?.state === 'active') return 'already-confirmed';
    if (subscriber?.state === 'pending') return 'pending';
    return this.supersededOrMissing(subscriber);
  }

  /** Confirms a signup (the page's button). A bad, expired or other-purpose token throws InvalidInputError and changes nothing. */
  async confirm(token: string): Promise<ConfirmResult> {
    const { subscriberId } = this.tokens.verify(token, 'confirm');
    // Activation owes the welcome (one write); what finds it after a crash is written first.
    const welcome =
      this.followUps && (await this.store.get(subscriberId))?.state === 'pending'
        ? await this.followUps.expectWelcome(subscriberId)
        : undefined;
    if (await this.store.activate(subscriberId)) {
      this.logger.info('subscriber.confirmed', { subscriberId });
      await this.count('confirmations', [DAY_COUNTER.confirmations, DAY_COUNTER.joined]);
      if (welcome !== undefined) await this.followUps!.welcomeNow(subscriberId, welcome);
      return 'confirmed';
    }
    const subscriber = await this.store.get(subscriberId);
    if (subscriber?.state === 'active') return 'already-confirmed';
    return this.supersededOrMissing(subscriber);
  }

  private supersededOrMissing(subscriber: { state: SubscriberState } | undefined): never {
    if (subscriber === undefined) {
      throw new InvalidInputError(
        'SUBSCRIBER_NOT_FOUND',
        'This address is no longer on the list. Sign up again to subscribe.',
      );
    }
    // Unsubscribed, bounced or complained after this link was sent: the later choice wins, and
    // an old confirmation link must not undo an unsubscribe.
    throw new InvalidInputError(
      'CONFIRMATION_SUPERSEDED',
      'This confirmation link is from before you unsubscribed. To subscribe again, sign up with the form.',
    );
  }

  /** Validates an unsubscribe token for the page that shows the button; changes nothing. */
  async checkUnsubscribeToken(token: string): Promise<{ subscriberId: string; subscribed: boolean }> {
    const { subscriberId } = this.tokens.verify(token, 'unsubscribe');
    const state: SubscriberState | undefined = (await this.store.get(subscriberId))?.state;
    return { subscriberId, subscribed: state === 'active' || state === 'pending' };
  }

  /**
   * Unsubscribes with one conditional UpdateItem (RFC 8058 one-click must answer fast); the
   * preferences page's "unsubscribe from everything" does the same with its own link.
   * Idempotent: a second click, or a subscriber already suppressed or forgotten, is
   * 'already-unsubscribed'. `postReference` (the link's `post`, see stats/post-reference.ts)
   * counts the unsubscribe on the post whose email it came from, once, like the day's figure,
   * when the reader was active.
   */
  async unsubscribe(
    token: string,
    link: Extract<TokenPurpose, 'unsubscribe' | 'preferences'> = 'unsubscribe',
    postReference?: string,
  ): Promise<UnsubscribeResult> {
    const { subscriberId } = this.tokens.verify(token, link);
    const replaced = await this.store.deactivate(subscriberId);
    if (replaced !== undefined) {
      this.logger.info('subscriber.unsubscribed', { subscriberId });
      // A pending reader was never on the active list, and an old post's link in their hands
      // is from an earlier subscription: only an active reader leaves the list and the post.
      const wasActive = replaced === 'active';
      const fromPost =
        wasActive && postReference !== undefined
          ? [{ scope: postReferenceScope(postReference), name: POST_COUNTER.unsubscribed }]
          : [];
      await this.count(
        'unsubscribes',
        wasActive ? [DAY_COUNTER.unsubscribes, DAY_COUNTER.left] : [DAY_COUNTER.unsubscribes],
        fromPost,
      );
      return 'unsubscribed';
    }
    return 'already-unsubscribed';
  }

  /**
   * For the preferences page: the reader the link is for, as stored (undefined once forgotten).
   * Changes nothing: mail scanners open every link. Throws InvalidInputError for a bad link.
   */
  async preferencesOf(token: string): Promise<Subscriber | undefined> {
    const { subscriberId } = this.tokens.verify(token, 'preferences');
    return this.store.get(subscriberId);
  }

  /**
   * Saves the page's choices for an active or pending reader (a pending one reached the page
   * from an email of an earlier subscription; the choices apply once they confirm). False, and
   * nothing changes, for a reader who left, bounced, complained or was forgotten.
   */
  async savePreferences(token: string, preferences: Preferences): Promise<boolean> {
    const { subscriberId } = this.tokens.verify(token, 'preferences');
    const saved = await this.store.updatePreferences(subscriberId, preferences);
    this.logger.info(saved ? 'subscriber.preferences_saved' : 'subscriber.preferences_refused', {
      subscriberId,
      frequency: preferences.frequency,
      topics: preferences.topics.length,
      lang: preferences.lang,
    });
    return saved;
  }

  /** The link in every newsletter; one HMAC, no I/O, so the sender can call it per recipient. */
  unsubscribeUrl(subscriberId: string): string {
    return `${this.publicUrl}/unsubscribe?token=${this.tokens.issue('unsubscribe', subscriberId)}`;
  }

  /** The "Manage your subscription" link in every email. */
  preferencesUrl(subscriberId: string): string {
    return `${this.publicUrl}/preferences?token=${this.tokens.issue('preferences', subscriberId)}`;
  }

  /** A recipient's own links, by the placeholder each fills in an email; two HMACs, no I/O. */
  recipientLinks(subscriberId: string): RecipientLinks {
    return {
      [UNSUBSCRIBE_URL_PLACEHOLDER]: this.unsubscribeUrl(subscriberId),
      [PREFERENCES_URL_PLACEHOLDER]: this.preferencesUrl(subscriberId),
    };
  }

  confirmUrl(subscriberId: string): string {
    return `${this.publicUrl}/confirm?token=${this.tokens.issue('confirm', subscriberId)}`;
  }

  /**
   * Sends the welcomes and confirmation reminders that are due (subscribers/follow-ups.ts).
   * Runs on the API function's schedule (AWS) or a timer (local stack).
   */
  sendDueFollowUps(): Promise<FollowUpRun> {
    return this.followUps?.sendDue() ?? Promise.resolve({ welcomes: 0, reminders: 0 });
  }

  private language(requested: string | undefined): string {
    return typeof requested === 'string' && LANGUAGE_TAG.test(requested) ? requested : this.defaultLanguage;
  }
}

/**
 * How long a confirmation send takes here: an exponentially weighted average of recent sends,
 * never below `floorMs` and capped so a stuck send cannot stall every signup.
 */
class RunningAverage {
  private value: number | undefined;
  constructor(private readonly floorMs: number) {}
  add(sample: number): void {
    this.value = this.value === undefined ? sample : this.value * 0.9 + sample * 0.1;
  }
  typical(): number {
    // Half again the average covers most sends; the jitter blurs what is left.
    const typical = Math.max(this.floorMs, 1.5 * (this.value ?? 0));
    return Math.min(typical, 2_000) * (0.9 + Math.random() * 0.2);
  }
}

function sleep(milliseconds: number): Promise<void> {
  return milliseconds <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, milliseconds));
}
