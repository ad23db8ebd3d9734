import { PushletterError } from '../commons/errors';

/**
 * Each command lives in its own module and is imported only when run, so `pushletter count`
 * never pays for loading mjml.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  render: {
    summary: 'render <post.md | folder>... [--site <dir>] [--out <dir>] [--strict]',
    load: () => import('./render-command'),
  },
  dev: { summary: 'dev [--demo]   start the local stack (form, inbox, DynamoDB)', load: () => import('./dev-command') },
  publish: {
    summary: 'publish <post.md> [--site <dir>] [--test <address>]   (local stack; on AWS, push the post)',
    load: () => import('./publish-command'),
  },
  subscribers: {
    summary: 'subscribers import <csv> [--confirmed] | export | count | forget <email>',
    load: () => import('./subscribers-command'),
  },
  digest: {
    summary: 'digest [--site <dir>] [--since <date>] [--out <dir>] | digest --send   preview or send the weekly digest',
    load: () => import('./digest-command'),
  },
  status: { summary: 'status <post>', load: () => import('./status-command') },
  stats: {
    summary: 'stats [post] [--json] [--aws]   what was sent, delivered, bounced; the list per day; the rates',
    load: () => import('./stats-command'),
  },
  report: {
    summary: 'report [--out report.html] [--aws]   the same figures as one HTML page with charts',
    load: () => import('./report-command'),
  },
  doctor: {
    summary: 'doctor --aws [--stack NAME] [--wait SECONDS]   check the deployed stack (SES, webhook, alarms, bounces)',
    load: () => import('./doctor-command'),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([, command]) => `  pushletter ${command.summary}`);
  return ['usage:', ...lines].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`pushletter: unknown command "${name}"\n${usage()}`);
    return 1;
  }
  try {
    const module = await command.load();
    return await module.run(args);
  } catch (error) {
    // Expected failures print one line; anything else is a bug and keeps its stack.
    if (error instanceof PushletterError) {
      console.error(`pushletter ${name}: ${error.message}`);
    } else {
      console.error(error);
    }
    return 1;
  }
}
