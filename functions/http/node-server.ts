import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { logger } from '../commons/logger';
import type { HttpApp } from './types';
import { bodyLimit, type HttpRequest } from './types';

class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection before sending the whole request');
  }
}

function headersOf(incoming: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Reads at most the route's body limit and discards the rest, so a huge upload costs
 * bandwidth but no memory; the app answers 413 when `bodyTooLarge` is set.
 */
function readBody(incoming: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const declared = Number(incoming.headers['content-length'] ?? 0);
    if (declared > limit) {
      incoming.resume();
      resolve({ body: Buffer.alloc(0), tooLarge: true });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    incoming.on('end', () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    incoming.on('error', reject);
    // A client that hangs up mid-body: nobody is left to answer.
    incoming.on('close', () => {
      if (!incoming.complete) reject(new ClientGoneError());
    });
  });
}

export async function fromNodeRequest(incoming: IncomingMessage): Promise<HttpRequest> {
  // Concatenated, not resolved: a request line like `//host/x` must stay a path.
  const url = new URL(`http://localhost${(incoming.url ?? '/').startsWith('/') ? incoming.url : '/'}`);
  const { body, tooLarge } = await readBody(incoming, bodyLimit(url.pathname));
  return {
    method: (incoming.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers: headersOf(incoming),
    body,
    bodyTooLarge: tooLarge,
    clientIp: incoming.socket.remoteAddress ?? '',
  };
}

/**
 * Answers a request outside the app (the local stack's blog pages, which serve files) and
 * says so, or returns false to leave it to the app.
 */
export type NodeHandler = (incoming: IncomingMessage, outgoing: ServerResponse) => Promise<boolean>;

/** The same app on node:http, for the local stack, tests and benchmarks. */
export function createNodeServer(app: HttpApp, first?: NodeHandler): Server {
  return createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    void (async () => {
      try {
        if (first !== undefined && (await first(incoming, outgoing))) return;
        const request = await fromNodeRequest(incoming);
        const response = await app(request);
        // After a refused upload the connection may still carry the rest of it: do not reuse it.
        if (request.bodyTooLarge) outgoing.setHeader('connection', 'close');
        outgoing.writeHead(response.status, response.headers);
        if (request.method === 'HEAD') outgoing.end();
        else outgoing.end(response.base64 === true ? Buffer.from(response.body, 'base64') : response.body);
      } catch (error) {
        if (error instanceof ClientGoneError || incoming.destroyed) {
          logger.info('http.request.aborted', { path: incoming.url?.split('?')[0] });
          return;
        }
        logger.error('http.server.failed', { error: error as Error });
        if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        outgoing.end('Internal error\n');
      }
    })();
  });
}
