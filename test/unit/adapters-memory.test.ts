import { MemoryCounterStore } from '../../functions/adapters/memory/memory-counter-store';
import { MemoryIssueStore } from '../../functions/adapters/memory/memory-issue-store';
import { MemorySubscriberDirectory } from '../../functions/adapters/memory/memory-subscriber-directory';
import { normaliseAddress } from '../../functions/subscribers/address';
import { deriveKeys, subscriberId } from '../../functions/subscribers/keys';
import { describeCounterStore } from '../contract/counter-store';
import { describeIssueStore } from '../contract/issue-store';
import { describeSignupChoices, describeSubscriberDirectory } from '../contract/subscriber-directory';
import { sendingWorld } from './delivery-world';

const keys = deriveKeys(Buffer.from('memory-adapter-test-master-key-01234', 'utf8'));

const { message } = sendingWorld();

describeIssueStore(
  'in-memory issue store',
  async () => new MemoryIssueStore(),
  () => message,
);

/** A clock the contract moves. */
function movableClock() {
  const now = { value: new Date('2026-06-01T10:00:00Z') };
  return { clock: { now: () => now.value }, setNow: (at: Date) => void (now.value = at) };
}

describeSubscriberDirectory('in-memory subscriber directory', async () => {
  const idFor = (email: string) => subscriberId(keys.idKey, normaliseAddress(email, { allowTypos: true }));
  const { clock, setNow } = movableClock();
  const directory = new MemorySubscriberDirectory(idFor, clock);
  return {
    directory,
    setNow,
    add: async (email, state) => {
      const id = idFor(email);
      directory.put({
        id,
        email,
        state,
        createdAt: '2026-06-01T00:00:00.000Z',
        consent: { at: '2026-06-01T00:00:00.000Z', source: 'import' },
      });
      return id;
    },
  };
});

describeSignupChoices('in-memory subscriber directory', async () => {
  const idFor = (email: string) => subscriberId(keys.idKey, normaliseAddress(email, { allowTypos: true }));
  const { clock, setNow } = movableClock();
  const store = new MemorySubscriberDirectory(idFor, clock);
  return {
    store,
    setNow,
    setState: async (id, state) => store.put({ ...(await store.get(id))!, state }),
  };
});

describeCounterStore('in-memory counter store', async () => new MemoryCounterStore());
