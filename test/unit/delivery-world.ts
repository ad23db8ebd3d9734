import { MemoryCounterStore } from '../../functions/adapters/memory/memory-counter-store';
import { MemoryIssueStore } from '../../functions/adapters/memory/memory-issue-store';
import { MemorySubscriberDirectory } from '../../functions/adapters/memory/memory-subscriber-directory';
import type { Clock } from '../../functions/commons/clock';
import type { DispatchJob, SendJob } from '../../functions/contract/messages';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../../functions/delivery/delivery-worker';
import type { Mailer, RawMessage } from '../../functions/mail/mailer';
import { type CompiledMessage, compileMessage } from '../../functions/mail/message';
import { UNSUBSCRIBE_URL_PLACEHOLDER } from '../../functions/render/types';
import { seededBytes } from '../seeded-random';

/**
 * The sending pipeline on in-memory adapters: the issue store and ledgers, a subscriber
 * directory, queues that only collect, a mailer that records (or fails as told) and a rate
 * limiter that counts. The rules run exactly as on AWS, in milliseconds.
 */
export function sendingWorld(options: { subscribers?: number; seed?: number } = {}) {
  const random = seededBytes(options.seed ?? 7);
  const now = { value: new Date('2026-06-01T10:00:00Z') };
  const clock: Clock = { now: () => now.value };
  const idFor = (email: string) => `id-${email}`;
  const directory = new MemorySubscriberDirectory(idFor, clock);
  const people = Array.from({ length: options.subscribers ?? 0 }, () => {
    const id = random(16).toString('base64url');
    const person = {
      id,
      email: `${id.slice(0, 8).toLowerCase()}@example.com`,
      state: 'active' as const,
      createdAt: now.value.toISOString(),
      consent: { at: now.value.toISOString(), source: 'import' },
    };
    directory.put(person);
    return person;
  });
  const issues = new MemoryIssueStore();
  const counters = new MemoryCounterStore();
  const sent: RawMessage[] = [];
  const mailer: Mailer & { failWith?: (message: RawMessage) => unknown } = {
    async sendRaw(message) {
      const failure = mailer.failWith?.(message);
      if (failure !== undefined) throw failure;
      sent.push(message);
      return `ses-${sent.length}`;
    },
  };
  const rate = { acquired: 0 };
  const sendJobs: SendJob[] = [];
  const dispatchJobs: DispatchJob[] = [];
  const message: CompiledMessage = compileMessage(
    {
      subject: 'Hello · 你好',
      html: `<p>Hi <a href="${UNSUBSCRIBE_URL_PLACEHOLDER}">leave</a></p>`,
      text: `Hi ${UNSUBSCRIBE_URL_PLACEHOLDER}`,
      lang: 'en',
    },
    { fromAddress: 'newsletter@example.com', fromName: 'pushletter' },
    {
      listId: 'newsletter.example.com',
      listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE_URL_PLACEHOLDER },
      placeholders: [UNSUBSCRIBE_URL_PLACEHOLDER],
    },
  );
  const worker = (workerOptions: DeliveryWorkerOptions = {}) =>
    new DeliveryWorker(
      {
        issues,
        subscribers: directory,
        recipientLinks: (id) => ({ [UNSUBSCRIBE_URL_PLACEHOLDER]: `https://newsletter.test/unsubscribe?id=${id}` }),
        mailer,
        rateLimiter: { acquire: async () => void rate.acquired++ },
        clock,
        counters,
      },
      { concurrency: 4, backoffMs: 1, sleep: async () => undefined, ...workerOptions },
    );
  return {
    now,
    clock,
    directory,
    people,
    issues,
    counters,
    sent,
    mailer,
    rate,
    message,
    worker,
    sendJobs,
    dispatchJobs,
    dispatch: {
      issues,
      subscribers: directory,
      sendQueue: { send: async (jobs: SendJob[]) => void sendJobs.push(...jobs) },
      dispatchQueue: { send: async (jobs: DispatchJob[]) => void dispatchJobs.push(...jobs) },
      clock,
      counters,
    },
  };
}
