import { type ReaderLanguage, readerLanguage } from '../../templates/reader-strings';
import { InvalidInputError } from '../commons/errors';
import { logger } from '../commons/logger';
import { type ErrorKind, errorPage, errorText } from './pages';
import { wantsJson } from './request';
import { html, json, withSecurityHeaders } from './responses';
import { ROUTES } from './route-table';
import {
  type AppDependencies,
  bodyLimit,
  type HttpApp,
  type HttpRequest,
  type HttpResponse,
  type Route,
  type RouteContext,
} from './types';

const STATUS_KIND: Record<string, { status: number; kind: ErrorKind }> = {
  BODY_MALFORMED: { status: 400, kind: 'badRequest' },
  BODY_UNSUPPORTED_TYPE: { status: 415, kind: 'unsupportedType' },
};

/** 16384 -> "16 KB", 10485760 -> "10 MB". */
function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} KB`;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The path parameters of `path` under a route's `template` (`/r/{post}/{link}`), still
 * percent-encoded, or undefined when it does not match. A parameter is one non-empty segment,
 * as on API Gateway.
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  if (!template.includes('{')) return template === path ? {} : undefined;
  const expected = template.split('/');
  const given = path.split('/');
  if (expected.length !== given.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < expected.length; index++) {
    const name = /^\{(\w+)\}$/.exec(expected[index]!)?.[1];
    if (name === undefined) {
      if (expected[index] !== given[index]) return undefined;
    } else {
      if (given[index] === '') return undefined;
      params[name] = given[index]!;
    }
  }
  return params;
}

/**
 * The HTTP API as one function from request to response: routing, CORS for the blog's origin,
 * error pages and security headers. Bad input never becomes a 5xx; a 5xx means a dependency
 * failed and says so without detail.
 */
export function createHttpApp(dependencies: AppDependencies, routes: readonly Route[] = ROUTES): HttpApp {
  const { settings } = dependencies;
  const siteOrigin = originOf(settings.siteUrl);
  const siteLanguage: ReaderLanguage = readerLanguage(settings.language) ?? 'en';
  const counting =
    settings.tracking === 'aggregate'
      ? settings.opens
        ? ('clicksAndOpens' as const)
        : ('clicks' as const)
      : undefined;

  const context: RouteContext = {
    ...dependencies,
    page(request, fieldLanguage) {
      const lang = readerLanguage(fieldLanguage) ?? readerLanguage(request.query.get('lang')) ?? siteLanguage;
      return { lang, siteTitle: settings.siteTitle, siteUrl: settings.siteUrl, ...(counting ? { counting } : {}) };
    },
    fail(request, status, kind, detail) {
      const page = context.page(request);
      const filled = { limit: sizeText(bodyLimit(request.path)) };
      if (wantsJson(request))
        return json(status, { error: kind, message: detail ?? errorText(page, kind, filled).body });
      return html(status, errorPage(page, kind, filled));
    },
  };

  function corsHeaders(request: HttpRequest): Record<string, string> {
    const origin = request.headers.origin;
    if (origin === undefined || siteOrigin === undefined || origin !== siteOrigin) return {};
    return { 'access-control-allow-origin': origin, vary: 'Origin' };
  }

  async function route(request: HttpRequest): Promise<HttpResponse> {
    const candidates = routes.filter((candidate) => matchPath(candidate.path, request.path) !== undefined);
    if (candidates.length === 0) return context.fail(request, 404, 'notFound');
    const allowed = [...new Set(candidates.map((candidate) => candidate.method))];
    if (request.method === 'OPTIONS') {
      // Preflight: the answer names what the blog's scripts may do; browsers enforce it.
      return {
        status: 204,
        headers: corsHeaders(request)['access-control-allow-origin']
          ? {
              'access-control-allow-methods': [...allowed, 'OPTIONS'].join(', '),
              'access-control-allow-headers': 'Content-Type',
              'access-control-max-age': '86400',
            }
          : {},
        body: '',
      };
    }
    const match =
      candidates.find((candidate) => candidate.method === request.method) ??
      (request.method === 'HEAD' ? candidates.find((candidate) => candidate.method === 'GET') : undefined);
    if (match === undefined) {
      const response = context.fail(request, 405, 'methodNotAllowed');
      return { ...response, headers: { ...response.headers, allow: [...allowed, 'OPTIONS'].join(', ') } };
    }
    if (request.bodyTooLarge) return context.fail(request, 413, 'tooLarge');
    try {
      return await match.handle({ ...request, params: matchPath(match.path, request.path) }, context);
    } catch (error) {
      const mapped = error instanceof InvalidInputError ? STATUS_KIND[error.code] : undefined;
      if (mapped !== undefined) return context.fail(request, mapped.status, mapped.kind, (error as Error).message);
      if (error instanceof InvalidInputError) return context.fail(request, 400, 'badRequest', error.message);
      logger.error('http.request.failed', { path: request.path, method: request.method, error: error as Error });
      return context.fail(request, 500, 'server');
    }
  }

  return async (request) => {
    const response = await route(request);
    return withSecurityHeaders({ ...response, headers: { ...response.headers, ...corsHeaders(request) } });
  };
}
