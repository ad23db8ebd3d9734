import { json } from '../http/responses';
import type { Route } from '../http/types';
import { verifySignature } from '../publishing/webhook-signature';
import { PUBLISH_SIGNATURE_HEADER } from './publish-route';

/**
 * How `pushletter digest --send` reaches the running local stack: a signed POST (the webhook
 * secret of `.data/secrets.json`, as `publish` signs) that runs the digest due now in the stack,
 * on its own queues, exactly as its timer would. Only on the local stack.
 */
export const DIGEST_PATH = '/local/digest';

export function digestRoute(runDigest: () => Promise<unknown>, secret: string): Route {
  return {
    method: 'POST',
    path: DIGEST_PATH,
    async handle(request) {
      if (!verifySignature(secret, request.body, request.headers[PUBLISH_SIGNATURE_HEADER])) {
        return json(401, {
          error: 'unauthorized',
          message: "sign the request with the webhook secret in the stack's secrets.json",
        });
      }
      return json(200, await runDigest());
    },
  };
}
