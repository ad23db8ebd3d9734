import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { InvalidInputError } from '../commons/errors';
import { json } from '../http/responses';
import type { Route } from '../http/types';
import { type IngestDependencies, type IngestOutcome, ingestPost, type PostFile } from '../publishing/ingest-post';
import { verifySignature } from '../publishing/webhook-signature';
import { gatherIncludesFromFolder, type IncludedFiles } from '../render/includes';
import { findSiteRoot } from '../render/site';

/**
 * How `pushletter publish` reaches the running local stack: it reads the post (and its
 * `_config.yml`) from disk and POSTs them to this endpoint of the dev server, which ingests
 * them exactly as the ingest worker ingests a pushed post and hands the issue to its own
 * in-process dispatch and send queues. The send therefore runs in the stack, as a push's
 * would; the CLI only follows it in DynamoDB for its progress bar. Going through the server
 * rather than writing the issue from the CLI keeps one writer of issues and one owner of the
 * queues and timers, so two concurrent publishes meet at the conditional write.
 *
 * The route exists only on the local stack (never on API Gateway), and the body must be
 * signed with the stack's webhook secret from `.data/secrets.json`: only someone who can read
 * the stack's data folder can publish through it.
 */
export const PUBLISH_PATH = '/local/publish';
export const PUBLISH_SIGNATURE_HEADER = 'x-pushletter-signature';

export interface PublishRequest {
  path: string;
  /** The file's bytes, base64: the renderer, not the transport, judges the encoding. */
  source: string;
  config?: { text: string; label: string };
  kind: 'post' | 'draft';
  /** Send a one-off test here instead of publishing. */
  test?: string;
  /** The site's `_includes/` files the post names, by name. */
  includes?: IncludedFiles;
}

/** A post on disk with its site's `_config.yml`, as the ingest expects it. */
export async function readLocalPost(postPath: string, siteDir?: string): Promise<PostFile> {
  const absolute = resolve(postPath);
  if (!existsSync(absolute)) throw new InvalidInputError('POST_NOT_FOUND', `${postPath}: no such file`);
  const root = siteDir !== undefined ? resolve(siteDir) : findSiteRoot(absolute);
  if (siteDir !== undefined && !existsSync(root!))
    throw new InvalidInputError('SITE_NOT_FOUND', `--site ${siteDir}: no such folder`);
  const configPath = root === undefined ? undefined : join(root, '_config.yml');
  const config =
    configPath !== undefined && existsSync(configPath)
      ? { text: await readFile(configPath, 'utf8'), label: configPath }
      : undefined;
  // Inside the site the path reads like the repository's (`_posts/…`); outside, the file's own.
  const inside = root !== undefined && absolute.startsWith(root + sep);
  const path = inside ? relative(root, absolute).split(sep).join('/') : absolute;
  const kind = path.split('/').includes('_drafts') ? 'draft' : 'post';
  const source = await readFile(absolute);
  const includes =
    root === undefined ? undefined : (await gatherIncludesFromFolder(source.toString('utf8'), root)).files;
  return {
    path,
    source,
    config,
    kind,
    origin: 'publish',
    ...(includes !== undefined && Object.keys(includes).length > 0 ? { includes } : {}),
  };
}

export function publishRequest(file: PostFile, test?: string): PublishRequest {
  return {
    path: file.path,
    source: Buffer.from(file.source).toString('base64'),
    config: file.config,
    kind: file.kind,
    ...(test !== undefined ? { test } : {}),
    ...(file.includes !== undefined ? { includes: file.includes } : {}),
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks every field: the body is signed, but a signature proves who sent it, not that an
 * older or hand-made client sent the shape the ingest expects. Each problem is a 400 naming it.
 */
function parsePublishRequest(body: Buffer): PublishRequest {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidInputError('BODY_MALFORMED', 'the publish request is not JSON');
  }
  const malformed = (reason: string) => new InvalidInputError('BODY_MALFORMED', `the publish request ${reason}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed('must be a JSON object');
  const { path, source, config, kind, test, includes } = value as Record<string, unknown>;
  if (typeof path !== 'string' || path.trim() === '') throw malformed("needs path: the post's path as text");
  if (typeof source !== 'string' || !BASE64.test(source)) throw malformed("needs source: the post's bytes in base64");
  if (kind !== 'post' && kind !== 'draft') throw malformed('needs kind: "post" or "draft"');
  if (test !== undefined && typeof test !== 'string') throw malformed('has a test address that is not text');
  if (config !== undefined) {
    if (config === null || typeof config !== 'object' || Array.isArray(config))
      throw malformed('has a config that is not an object with text and label');
    const { text, label } = config as Record<string, unknown>;
    if (typeof text !== 'string') throw malformed('has a config without text: the _config.yml contents as text');
    if (typeof label !== 'string') throw malformed('has a config without label: the _config.yml path as text');
  }
  if (includes !== undefined) {
    if (includes === null || typeof includes !== 'object' || Array.isArray(includes))
      throw malformed('has includes that are not an object of file names to texts');
    if (Object.values(includes).some((text) => typeof text !== 'string'))
      throw malformed('has an include whose contents are not text');
  }
  return {
    path,
    source,
    kind,
    ...(config !== undefined ? { config: config as PublishRequest['config'] } : {}),
    ...(test !== undefined ? { test: test as string } : {}),
    ...(includes !== undefined ? { includes: includes as IncludedFiles } : {}),
  };
}

export function publishRoute(ports: IngestDependencies, secret: string): Route {
  return {
    method: 'POST',
    path: PUBLISH_PATH,
    async handle(request) {
      if (!verifySignature(secret, request.body, request.headers[PUBLISH_SIGNATURE_HEADER])) {
        return json(401, {
          error: 'unauthorized',
          message: "sign the request with the webhook secret in the stack's secrets.json",
        });
      }
      const publish = parsePublishRequest(request.body);
      const outcome: IngestOutcome = await ingestPost(
        {
          path: publish.path,
          source: Buffer.from(publish.source, 'base64'),
          config: publish.config,
          kind: publish.kind,
          origin: 'publish',
          includes: publish.includes,
        },
        ports,
        // The editor asked for this post by name: one recorded as skipped goes if it now may.
        { testAddress: publish.test, sendSkipped: true },
      );
      return json(200, outcome);
    },
  };
}
