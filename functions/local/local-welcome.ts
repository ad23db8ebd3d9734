import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, InvalidInputError } from '../commons/errors';
import { logger } from '../commons/logger';
import { WELCOME_FILE } from '../publishing/github-push';
import { ingestWelcome, type WelcomeIngestDependencies } from '../publishing/welcome';
import { gatherIncludesFromFolder } from '../render/includes';
import type { LocalBlog } from './blog';

async function readIfThere(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The local stack's welcome email: the blog folder's `_newsletter/welcome.md` when it has one,
 * rendered like a post and stored where the API part reads it, else the default (a welcome
 * kept from an earlier start with another blog is dropped). Read at start, and again by
 * `refresh` (the stack's timer) when the file changed. A file that cannot be rendered is
 * reported and the default is used: the stack still starts.
 */
export async function watchLocalWelcome(
  blog: LocalBlog | undefined,
  dependencies: WelcomeIngestDependencies,
): Promise<{ refresh(): Promise<void> }> {
  const path = blog === undefined ? undefined : join(blog.root, WELCOME_FILE);
  let loaded: Buffer | undefined;
  const load = async (source: Buffer | undefined) => {
    loaded = source;
    const readAt = dependencies.clock.now().toISOString();
    if (blog === undefined || path === undefined || source === undefined) {
      await ingestWelcome(undefined, readAt, dependencies);
      return;
    }
    const configFile = join(blog.root, '_config.yml');
    const configText = await readIfThere(configFile);
    // The includes it names, from the blog folder, as a push reads them from GitHub.
    const { files: includes } = await gatherIncludesFromFolder(source.toString('utf8'), blog.root);
    try {
      await ingestWelcome(
        {
          source,
          ...(configText === undefined ? {} : { config: { text: configText.toString('utf8'), label: configFile } }),
          origin: path,
          includes,
        },
        readAt,
        dependencies,
      );
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      logger.warn('local.welcome_invalid', { file: path, reason: errorMessage(error), using: 'the default welcome' });
      await ingestWelcome(undefined, readAt, dependencies);
    }
  };
  const read = () => (path === undefined ? Promise.resolve(undefined) : readIfThere(path));
  await load(await read());
  return {
    async refresh() {
      const source = await read();
      const unchanged = source === undefined ? loaded === undefined : loaded?.equals(source) === true;
      if (!unchanged) await load(source);
    },
  };
}
