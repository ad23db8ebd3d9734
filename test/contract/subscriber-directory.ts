import { describe, expect, it } from 'vitest';
import type { SubscriberDirectory, SubscriberStore } from '../../functions/subscribers/types';

export interface DirectoryUnderTest {
  directory: SubscriberDirectory & Pick<SubscriberStore, 'updatePreferences' | 'deactivate'>;
  /** Stores an address in a state, as signup or an import would; answers its id. */
  add(email: string, state: 'active' | 'pending'): Promise<string>;
  /** Moves the store's clock. */
  setNow(at: Date): void;
}

/** What delivery and feedback rely on of a subscriber directory, for DynamoDB and memory alike. */
export function describeSubscriberDirectory(name: string, make: () => Promise<DirectoryUnderTest>): void {
  describe(`${name}: subscriber directory`, () => {
    it('pages every active subscriber once, in a stable order, and counts them', async () => {
      const { directory, add } = await make();
      const active = await Promise.all(
        Array.from({ length: 7 }, (_, index) => add(`reader${index}@example.com`, 'active')),
      );
      await add('pending@example.com', 'pending');
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await directory.pageActive(cursor, 3);
        seen.push(...page.subscribers.map((subscriber) => subscriber.id));
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect(seen).toEqual([...active].sort());
      expect(await directory.countActive()).toBe(7);
    });

    it('finds a subscriber by address and by id', async () => {
      const { directory, add } = await make();
      const id = await add('Ada@Example.com', 'active');
      expect((await directory.findByEmail('ada@example.com'))?.id).toBe(id);
      expect((await directory.get(id))?.state).toBe('active');
      expect(await directory.findByEmail('nobody@example.com')).toBeUndefined();
    });

    it('suppresses for good: out of the active pages, and a later bounce leaves a complaint as it is', async () => {
      const { directory, add } = await make();
      const id = await add('grace@example.com', 'active');
      expect(await directory.suppress(id, 'complained', new Date('2026-06-01T10:00:00Z'))).toBe('active');
      expect(await directory.suppress(id, 'complained', new Date('2026-06-01T11:00:00Z'))).toBeUndefined();
      expect(await directory.suppress(id, 'bounced', new Date('2026-06-02T10:00:00Z'))).toBeUndefined();
      expect(await directory.get(id)).toMatchObject({ state: 'complained', suppressedAt: '2026-06-01T10:00:00.000Z' });
      expect((await directory.pageActive(undefined, 10)).subscribers).toEqual([]);
    });

    it('unsubscribes an active or a pending reader once, and says which it was (only the active leave the list)', async () => {
      const { directory, add } = await make();
      const active = await add('leaving@example.com', 'active');
      const pending = await add('never-confirmed@example.com', 'pending');
      expect(await directory.deactivate(active)).toBe('active');
      expect(await directory.deactivate(pending)).toBe('pending');
      expect(await directory.deactivate(active)).toBeUndefined();
      expect(await directory.get(pending)).toMatchObject({ state: 'unsubscribed' });
      const bounced = await add('bounced-leaver@example.com', 'active');
      await directory.suppress(bounced, 'bounced', new Date('2026-06-01T10:00:00Z'));
      expect(await directory.deactivate(bounced)).toBeUndefined();
      expect(await directory.get(bounced)).toMatchObject({ state: 'bounced' });
      expect(await directory.countActive()).toBe(0);
    });

    it('saves a reader\'s preferences, and "every post" again as no topics', async () => {
      const { directory, add } = await make();
      const id = await add('li.lei@example.com', 'active');
      expect(
        await directory.updatePreferences(id, { topics: ['旅行', 'rust'], frequency: 'digest', lang: 'zh-CN' }),
      ).toBe(true);
      expect(await directory.get(id)).toMatchObject({
        state: 'active',
        topics: ['旅行', 'rust'],
        frequency: 'digest',
        lang: 'zh-CN',
      });
      expect(await directory.updatePreferences(id, { topics: [], frequency: 'post', lang: 'en' })).toBe(true);
      const saved = await directory.get(id);
      expect(saved).toMatchObject({ frequency: 'post', lang: 'en' });
      expect(saved?.topics ?? []).toEqual([]);
      const pending = await add('pending-prefs@example.com', 'pending');
      expect(await directory.updatePreferences(pending, { topics: [], frequency: 'digest', lang: 'en' })).toBe(true);
      expect(await directory.get(pending)).toMatchObject({ state: 'pending', frequency: 'digest' });
    });

    it('notes when the frequency changes, and only then', async () => {
      const { directory, add, setNow } = await make();
      const id = await add('switch@example.com', 'active');
      setNow(new Date('2026-06-02T09:00:00Z'));
      await directory.updatePreferences(id, { topics: ['rust'], frequency: 'post', lang: 'en' });
      // Each post is what no frequency means: no change.
      expect(await directory.get(id)).not.toHaveProperty('frequencyChangedAt');
      setNow(new Date('2026-06-03T09:00:00Z'));
      await directory.updatePreferences(id, { topics: [], frequency: 'digest', lang: 'en' });
      expect(await directory.get(id)).toMatchObject({
        frequency: 'digest',
        frequencyChangedAt: '2026-06-03T09:00:00.000Z',
      });
      setNow(new Date('2026-06-04T09:00:00Z'));
      await directory.updatePreferences(id, { topics: ['旅行'], frequency: 'digest', lang: 'zh-CN' });
      expect(await directory.get(id)).toMatchObject({
        topics: ['旅行'],
        lang: 'zh-CN',
        frequencyChangedAt: '2026-06-03T09:00:00.000Z',
      });
      setNow(new Date('2026-06-05T09:00:00Z'));
      await directory.updatePreferences(id, { topics: [], frequency: 'post', lang: 'en' });
      const back = await directory.get(id);
      expect(back).toMatchObject({ frequency: 'post', frequencyChangedAt: '2026-06-05T09:00:00.000Z' });
      expect(back?.topics ?? []).toEqual([]);
      // The active pages carry it to dispatch and the digest.
      const [listed] = (await directory.pageActive(undefined, 10)).subscribers;
      expect(listed).toMatchObject({ id, frequencyChangedAt: '2026-06-05T09:00:00.000Z' });
    });

    it('saves no preferences for a reader who is no longer mailed, or was never stored', async () => {
      const { directory, add } = await make();
      const id = await add('bounced-prefs@example.com', 'active');
      await directory.suppress(id, 'bounced', new Date('2026-06-01T10:00:00Z'));
      expect(await directory.updatePreferences(id, { topics: [], frequency: 'digest', lang: 'zh-CN' })).toBe(false);
      expect(await directory.get(id)).not.toHaveProperty('frequency');
      // Another id of the same shape, of an address never stored.
      const unknown = id.replace(/^./, (first) => (first === 'A' ? 'B' : 'A'));
      expect(await directory.updatePreferences(unknown, { topics: [], frequency: 'digest', lang: 'en' })).toBe(false);
      expect(await directory.get(unknown)).toBeUndefined();
    });
  });
}

export interface SignupStoreUnderTest {
  store: Pick<SubscriberStore, 'upsertPending' | 'get' | 'pageActive'>;
  /** Moves a stored subscriber to a state, as confirming or leaving would. */
  setState(id: string, state: 'active' | 'unsubscribed'): Promise<void>;
  /** Moves the store's clock. */
  setNow(at: Date): void;
}

/** What the form's topics and frequency rely on of upsertPending and the active pages, for DynamoDB and memory alike. */
export function describeSignupChoices(name: string, make: () => Promise<SignupStoreUnderTest>): void {
  describe(`${name}: a signup's topics and frequency`, () => {
    const consent = { at: '2026-06-01T10:00:00.000Z', source: 'form' };

    it('keeps the chosen topics and frequency, and the active pages carry them to dispatch', async () => {
      const { store, setState } = await make();
      const { id } = await store.upsertPending({
        email: 'li.lei@example.com',
        consent,
        lang: 'zh-CN',
        topics: ['旅行', 'rust'],
        frequency: 'digest',
      });
      expect(await store.get(id)).toMatchObject({ state: 'pending', topics: ['旅行', 'rust'], frequency: 'digest' });
      await setState(id, 'active');
      const [listed] = (await store.pageActive(undefined, 10)).subscribers;
      expect(listed).toMatchObject({ id, topics: ['旅行', 'rust'], frequency: 'digest' });
    });

    it('stores no topics for a signup without them (every post)', async () => {
      const { store } = await make();
      const { id } = await store.upsertPending({ email: 'ada@example.com', consent, topics: [] });
      const stored = await store.get(id);
      expect(stored?.topics).toBeUndefined();
      expect(stored?.frequency).toBeUndefined();
    });

    it('a new signup of a pending or unsubscribed address takes its new choices whole', async () => {
      const { store, setState } = await make();
      const { id } = await store.upsertPending({
        email: 'grace@example.com',
        consent,
        topics: ['rust'],
        frequency: 'digest',
      });
      await store.upsertPending({ email: 'grace@example.com', consent, topics: ['旅行'] });
      expect(await store.get(id)).toMatchObject({ state: 'pending', topics: ['旅行'] });
      expect((await store.get(id))?.frequency).toBeUndefined();

      await setState(id, 'unsubscribed');
      expect((await store.upsertPending({ email: 'grace@example.com', consent, frequency: 'post' })).stored).toBe(true);
      const back = await store.get(id);
      expect(back).toMatchObject({ state: 'pending', frequency: 'post' });
      expect(back?.topics).toBeUndefined();
    });

    it('notes when a new signup of a stored address changes its frequency, not for a first signup', async () => {
      const { store, setState, setNow } = await make();
      setNow(new Date('2026-06-01T10:00:00Z'));
      const { id } = await store.upsertPending({ email: 'again@example.com', consent, frequency: 'digest' });
      expect(await store.get(id)).not.toHaveProperty('frequencyChangedAt');
      setNow(new Date('2026-06-02T10:00:00Z'));
      await store.upsertPending({ email: 'again@example.com', consent, frequency: 'digest', topics: ['rust'] });
      expect(await store.get(id)).not.toHaveProperty('frequencyChangedAt');
      await setState(id, 'unsubscribed');
      setNow(new Date('2026-06-03T10:00:00Z'));
      expect((await store.upsertPending({ email: 'again@example.com', consent })).stored).toBe(true);
      expect(await store.get(id)).toMatchObject({
        state: 'pending',
        frequencyChangedAt: '2026-06-03T10:00:00.000Z',
      });
      expect((await store.get(id))?.frequency).toBeUndefined();
    });

    it('an active reader signing up again keeps the choices they have', async () => {
      const { store, setState } = await make();
      const { id } = await store.upsertPending({ email: 'active@example.com', consent, topics: ['rust'] });
      await setState(id, 'active');
      expect((await store.upsertPending({ email: 'active@example.com', consent, topics: ['旅行'] })).stored).toBe(
        false,
      );
      expect(await store.get(id)).toMatchObject({ state: 'active', topics: ['rust'] });
    });
  });
}
