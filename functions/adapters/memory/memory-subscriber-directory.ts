import { type Clock, systemClock } from '../../commons/clock';
import { normaliseAddress } from '../../subscribers/address';
import type {
  ActivePage,
  Frequency,
  PendingSignup,
  Preferences,
  Subscriber,
  SubscriberDirectory,
  SubscriberState,
  SubscriberStore,
} from '../../subscribers/types';

/**
 * The subscriber directory delivery and feedback read, in memory, with the DynamoDB store's
 * answers (test/contract/subscriber-directory.ts): active subscribers paged in id order,
 * suppression that never turns a complaint back into a bounce, addresses found by their id.
 */
export class MemorySubscriberDirectory
  implements SubscriberDirectory, Pick<SubscriberStore, 'updatePreferences' | 'upsertPending' | 'deactivate'>
{
  private readonly subscribers = new Map<string, Subscriber>();

  /** `idFor` maps an address to its id (the DynamoDB store's keyed hash, or any stand-in). */
  constructor(
    private readonly idFor: (email: string) => string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Puts a subscriber as it would be after signing up (tests and the local demo build lists with it). */
  put(subscriber: Subscriber): void {
    this.subscribers.set(subscriber.id, structuredClone(subscriber));
  }

  async get(id: string): Promise<Subscriber | undefined> {
    const subscriber = this.subscribers.get(id);
    return subscriber === undefined ? undefined : structuredClone(subscriber);
  }

  async getMany(ids: string[]): Promise<Map<string, Subscriber>> {
    const found = new Map<string, Subscriber>();
    for (const id of ids) {
      const subscriber = this.subscribers.get(id);
      if (subscriber !== undefined) found.set(id, structuredClone(subscriber));
    }
    return found;
  }

  async findByEmail(email: string): Promise<Subscriber | undefined> {
    return this.get(this.idFor(email));
  }

  async pageActive(cursor: string | undefined, limit: number): Promise<ActivePage> {
    const active = [...this.subscribers.values()]
      .filter((subscriber) => subscriber.state === 'active' && (cursor === undefined || subscriber.id > cursor))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = active.slice(0, limit).map((subscriber) => structuredClone(subscriber));
    return { subscribers: page, cursor: active.length > limit ? page[page.length - 1]?.id : undefined };
  }

  async countActive(): Promise<number> {
    return [...this.subscribers.values()].filter((subscriber) => subscriber.state === 'active').length;
  }

  /** A form signup, with the DynamoDB store's rules: active and complained stay as they are. */
  async upsertPending(input: PendingSignup): Promise<{ id: string; stored: boolean }> {
    const email = normaliseAddress(input.email, { allowTypos: true });
    const id = this.idFor(email);
    const known = this.subscribers.get(id);
    if (known !== undefined && (known.state === 'active' || known.state === 'complained')) return { id, stored: false };
    const subscriber: Subscriber = {
      ...known,
      id,
      email,
      state: 'pending',
      createdAt: known?.createdAt ?? input.consent.at,
      consent: structuredClone(input.consent),
    };
    if (input.lang !== undefined) subscriber.lang = input.lang;
    // The signup's choices replace the earlier ones whole.
    delete subscriber.topics;
    delete subscriber.frequency;
    if (input.topics !== undefined && input.topics.length > 0) subscriber.topics = [...input.topics];
    if (input.frequency !== undefined) subscriber.frequency = input.frequency;
    if (known !== undefined) this.noteFrequencyChange(subscriber, known.frequency);
    this.subscribers.set(id, subscriber);
    return { id, stored: true };
  }

  async suppress(id: string, state: 'bounced' | 'complained', at: Date): Promise<SubscriberState | undefined> {
    const subscriber = this.subscribers.get(id);
    // A complaint outranks a bounce; a forgotten (deleted) person stays deleted.
    if (
      subscriber === undefined ||
      subscriber.state === state ||
      (state === 'bounced' && subscriber.state === 'complained')
    )
      return undefined;
    const left = subscriber.state;
    subscriber.state = state;
    subscriber.suppressedAt = at.toISOString();
    return left;
  }

  async deactivate(id: string): Promise<'active' | 'pending' | undefined> {
    const subscriber = this.subscribers.get(id);
    if (subscriber?.state !== 'active' && subscriber?.state !== 'pending') return undefined;
    const left = subscriber.state;
    subscriber.state = 'unsubscribed';
    subscriber.unsubscribedAt = new Date().toISOString();
    return left;
  }

  async updatePreferences(id: string, { topics, frequency, lang }: Preferences): Promise<boolean> {
    const subscriber = this.subscribers.get(id);
    if (subscriber?.state !== 'active' && subscriber?.state !== 'pending') return false;
    const before = subscriber.frequency;
    Object.assign(subscriber, { frequency, lang, topics: [...topics] });
    if (topics.length === 0) delete subscriber.topics;
    this.noteFrequencyChange(subscriber, before);
    return true;
  }

  /** As the DynamoDB store does: the time of a change of frequency (absent is each post), only of a change. */
  private noteFrequencyChange(subscriber: Subscriber, before: Frequency | undefined): void {
    if ((before ?? 'post') !== (subscriber.frequency ?? 'post'))
      subscriber.frequencyChangedAt = this.clock.now().toISOString();
  }
}
