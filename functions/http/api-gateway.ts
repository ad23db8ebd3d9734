import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpApp } from './types';
import { bodyLimit, type HttpRequest } from './types';

/** API Gateway HTTP API (payload 2.0) event -> the app's request. */
export function fromApiGateway(event: APIGatewayProxyEventV2): HttpRequest {
  const raw =
    event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  // A named stage prefixes every path (`/prod/subscribe`); routes are written without it.
  const stage = event.requestContext.stage;
  let path = event.rawPath || '/';
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) {
    path = path.slice(stage.length + 1) || '/';
  }
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body: raw.length > bodyLimit(path) ? Buffer.alloc(0) : raw,
    bodyTooLarge: raw.length > bodyLimit(path),
    clientIp: event.requestContext.http.sourceIp,
  };
}

/**
 * Adapts the app to a Lambda handler behind an HTTP API. The app is fetched per call because
 * composing it reads the secret (once, memoised by the composition module).
 */
export function apiGatewayHandler(app: () => Promise<HttpApp>) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const request = fromApiGateway(event);
    const response = await (await app())(request);
    return {
      statusCode: response.status,
      headers: response.headers,
      body: request.method === 'HEAD' ? '' : response.body,
      isBase64Encoded: response.base64 === true && request.method !== 'HEAD',
    };
  };
}
