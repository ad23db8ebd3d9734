/**
 * `pushletter dev` in a process of its own, so a test can kill it with SIGKILL in the middle of
 * a send, the way a laptop's dev server dies. Mail goes to the test's SES emulator, which
 * outlives this process, or (no `sesEndpoint`) to the stack's own, whose inbox is kept in the
 * data folder. Prints one JSON line once its work is handed to the stack's queues.
 * Run as `node --import tsx local-stack-child.ts '<json>'`.
 */
import { readFileSync } from 'node:fs';
import { readSettings } from '../../functions/commons/config';
import { readLocalPost } from '../../functions/local/publish-route';
import { startLocalStack } from '../../functions/local/stack';
import { ingestPost } from '../../functions/publishing/ingest-post';

export interface LocalStackChildTask {
  dataDir: string;
  sesEndpoint?: string;
  maxSendRate: number;
  /** Subscribers to create before publishing. */
  subscribers?: { email: string; state: 'active' | 'pending' }[];
  /** More of them, as a JSON file (thousands do not fit in one argument). */
  subscribersFile?: string;
  /** A post file to publish as `pushletter publish` does; none: only start (and resume). */
  post?: string;
}

const task = JSON.parse(process.argv[2]!) as LocalStackChildTask;
const stack = await startLocalStack({
  dataDir: task.dataDir,
  ports: { http: 0, ses: 0, dynamodb: 0 },
  settings: { ...readSettings({}), maxSendRate: task.maxSendRate },
  sesEndpoint: task.sesEndpoint,
});
const consent = { at: new Date().toISOString(), source: 'import' };
const subscribers: { email: string; state: 'active' | 'pending' }[] = [
  ...(task.subscribers ?? []),
  ...(task.subscribersFile === undefined ? [] : JSON.parse(readFileSync(task.subscribersFile, 'utf8'))),
];
let next = 0;
const worker = async () => {
  while (next < subscribers.length) {
    const subscriber = subscribers[next++]!;
    await stack.composition.subscribers.createIfAbsent({ ...subscriber, consent });
  }
};
await Promise.all(Array.from({ length: 16 }, worker));
const outcome =
  task.post === undefined
    ? { status: 'started' }
    : await ingestPost(await readLocalPost(task.post), stack.ingest.ports);
process.stdout.write(`${JSON.stringify({ ...outcome, ports: stack.ports })}\n`);
// The stack keeps running (its servers hold the event loop) until the test kills it.
