import { logger } from '../commons/logger';
import { clickIncrements, openIncrements } from '../stats/clicks';
import type { CounterIncrement } from '../stats/counters';
import { isMachineRequest } from '../stats/scanners';
import { readClickPath, readPixelPath } from '../stats/tracked-links';
import type { HttpResponse, RouteContext, RouteHandler } from './types';

/**
 * Counting is best effort: a reader who clicked gets the page even when the counter store
 * fails, and the miss is logged (one click fewer in the figures, never an error page).
 */
async function count(app: RouteContext, increments: CounterIncrement[], postId: string): Promise<void> {
  const counters = app.tracking?.counters;
  // With tracking off the redirect still answers (links of posts sent while it was on) and counts nothing.
  if (counters === undefined || app.settings.tracking !== 'aggregate') return;
  try {
    await counters.add(increments);
  } catch (error) {
    logger.warn('tracking.count_failed', { postId, error: error as Error });
  }
}

/**
 * GET /r/{post}/{link}: one of the post's own links, counted, then a 302 to it. Anything that
 * is not a link pushletter put in a post (a forged or altered signature, another post's index,
 * an index past the post's links, a post sent without tracking) is a 404, never a redirect.
 * GET and HEAD change nothing but the post's counters, and those name no reader.
 */
export const followLink: RouteHandler = async (request, app) => {
  const tracking = app.tracking;
  const link = readClickPath(request.params?.post ?? '', request.params?.link ?? '');
  if (
    tracking === undefined ||
    link === undefined ||
    !tracking.signer.verifyClick(link.postId, link.index, link.signature)
  )
    return notFound(request, app);
  const target = (await tracking.links(link.postId))?.[link.index];
  if (target === undefined) return notFound(request, app);
  const machine = isMachineRequest(request.method, request.headers['user-agent']);
  await count(app, clickIncrements(link.postId, link.index, machine), link.postId);
  return { status: 302, headers: { location: target }, body: '' };
};

/** A transparent 1×1 GIF. */
const PIXEL_GIF = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

/**
 * GET /o/{post}.{signature}.gif: the open pixel (with `opens: true`). Counted per post only;
 * the figure is approximate: mail proxies (Apple's, Gmail's) load it whether or not anyone reads.
 */
export const servePixel: RouteHandler = async (request, app) => {
  const tracking = app.tracking;
  const pixel = readPixelPath(request.params?.pixel ?? '');
  if (tracking === undefined || pixel === undefined || !tracking.signer.verifyOpen(pixel.postId, pixel.signature))
    return notFound(request, app);
  if (app.settings.opens && request.method === 'GET') await count(app, openIncrements(pixel.postId), pixel.postId);
  return { status: 200, headers: { 'content-type': 'image/gif' }, body: PIXEL_GIF, base64: true };
};

function notFound(request: Parameters<RouteHandler>[0], app: RouteContext): HttpResponse {
  return app.fail(request, 404, 'notFound');
}
