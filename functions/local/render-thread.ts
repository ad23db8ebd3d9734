import { parentPort } from 'node:worker_threads';
import { renderPostFile } from '../publishing/ingest-post';
import type { RenderRequest } from './render-worker';

/** The render worker's side (see render-worker.ts): one request at a time, one reply each. */
parentPort!.on('message', async (request: RenderRequest) => {
  try {
    parentPort!.postMessage({
      ok: true,
      result: await renderPostFile(request.file, request.settings, request.now, request.options),
    });
  } catch (error) {
    const { name, message, code } = error as { name?: string; message?: string; code?: string };
    parentPort!.postMessage({ ok: false, error: { name: String(name), message: String(message ?? error), code } });
  }
});
