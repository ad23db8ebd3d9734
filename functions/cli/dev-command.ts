import { isAbsolute, relative, resolve } from 'node:path';
import { readDataDir, readLocalPorts, readSettings } from '../commons/config';
import { openLocalBlog } from '../local/blog';
import { projectPath } from '../local/project-root';
import { type LocalStack, startLocalStack } from '../local/stack';
import { parseArgs } from './args';

const USAGE = 'dev [--site <blog folder>] [--demo]';

/** A folder as the editor would type it from here: `./examples/blog`, or absolute when outside. */
function relativeFolder(folder: string): string {
  const path = relative(process.cwd(), folder);
  return path === '' ? '.' : path.startsWith('..') || isAbsolute(path) ? folder : `./${path}`;
}

/** The blog served and sent when no --site is given: the example in this repository. */
export const EXAMPLE_BLOG = projectPath('examples/blog');

/** `--demo` hands the running stack to the demo (subscribers, a post), loaded only then. */
async function runDemo(stack: LocalStack): Promise<void> {
  const demo = await import('../local/demo');
  await demo.runDemo(stack);
}

function banner(stack: LocalStack, dataDir: string): string {
  return [
    '',
    'pushletter is running locally:',
    `  signup form  ${stack.urls.app}/`,
    `  inbox        ${stack.urls.inbox}/`,
    ...(stack.blog === undefined
      ? []
      : [`  blog         ${stack.urls.blog}   (${stack.blog.site.title}, from ${relativeFolder(stack.blog.root)})`]),
    `  DynamoDB     ${stack.urls.dynamodb}/   (data and secrets in ${resolve(dataDir)})`,
    'Move them with PORT, SES_PORT, DYNAMODB_PORT. Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

/** `pushletter dev`: the local stack in the foreground until Ctrl-C or SIGTERM. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs(args, { demo: { type: 'boolean' }, site: { type: 'string' } }, USAGE);
  const dataDir = readDataDir();
  const settings = readSettings();
  // Checked before anything starts: a wrong folder is one clear line, not a half-started stack.
  const blog = await openLocalBlog(values.site ?? EXAMPLE_BLOG, settings);
  const stack = await startLocalStack({ dataDir, ports: readLocalPorts(), settings, blog });
  console.log(banner(stack, dataDir));

  const stopped = new Promise<void>((resolveStopped) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        console.error(`\n${signal} again: exiting without waiting.`);
        process.exit(130);
      }
      stopping = true;
      console.log('\nstopping…');
      void stack.stop().then(resolveStopped);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

  if (values.demo) {
    try {
      await runDemo(stack);
    } catch (error) {
      // The stack stays up: the form and inbox are still useful without the demo content.
      console.error(`pushletter dev: the demo failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  await stopped;
  console.log('stopped.');
  return 0;
}
