import { resolve } from 'node:path';
import { readDataDir, readLocalPorts, readSettings } from '../commons/config';
import { startLocalStack, type LocalStack } from '../local/stack';
import { parseArgs } from './args';

const USAGE = 'dev [--demo]';

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
    `  DynamoDB     ${stack.urls.dynamodb}/   (data and secrets in ${resolve(dataDir)})`,
    'Move them with PORT, SES_PORT, DYNAMODB_PORT. Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

/** `pushletter dev`: the local stack in the foreground until Ctrl-C or SIGTERM. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs(args, { demo: { type: 'boolean' } }, USAGE);
  const dataDir = readDataDir();
  const stack = await startLocalStack({ dataDir, ports: readLocalPorts(), settings: readSettings() });
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
