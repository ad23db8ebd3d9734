/**
 * A Lambda container for one function's bundle: imports its handler (cold start), then runs
 * the events it is sent one after another (warm invocations), and reports each outcome and
 * the environment reads the preload saw. Run as `node --import env-recorder.mjs bootstrap.mjs
 * <bundle index.mjs>` with an IPC channel; the parent sends {events, context}.
 */
import { pathToFileURL } from 'node:url';

const [bundle] = process.argv.slice(2);

function serializeError(error) {
  return { name: error?.name ?? 'Error', message: String(error?.message ?? error), stack: String(error?.stack ?? '') };
}

process.once('message', async ({ events, context }) => {
  const outcomes = [];
  let handler;
  try {
    ({ handler } = await import(pathToFileURL(bundle).href));
  } catch (error) {
    outcomes.push({ error: serializeError(error) });
  }
  if (handler) {
    for (const event of events) {
      const deadline = Date.now() + context.timeoutMs;
      const lambdaContext = {
        ...context.fields,
        awsRequestId: crypto.randomUUID(),
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        callbackWaitsForEmptyEventLoop: true,
      };
      try {
        outcomes.push({ result: (await handler(event, lambdaContext)) ?? null });
      } catch (error) {
        outcomes.push({ error: serializeError(error) });
      }
    }
  }
  const reads = [...globalThis.__pushletterEnvReads.entries()].map(([name, origin]) => ({ name, ...origin }));
  process.send({ outcomes, reads }, () => process.exit(0));
});
