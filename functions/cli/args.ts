import { parseArgs as nodeParseArgs } from 'node:util';
import { InvalidInputError } from '../commons/errors';

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** node:util parseArgs with errors a person can act on. */
export function parseArgs<T extends OptionSpec>(args: string[], options: T, usage: string) {
  try {
    return nodeParseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new InvalidInputError('CLI_USAGE', `${detail}\nusage: pushletter ${usage}`);
  }
}
