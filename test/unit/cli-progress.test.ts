import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Progress } from '../../functions/cli/progress';

const savedCi = process.env.CI;

afterEach(() => {
  if (savedCi === undefined) delete process.env.CI;
  else process.env.CI = savedCi;
});

/** What a progress bar prints while it counts to 10, to a terminal unless told otherwise. */
function printedOnTerminal(isTTY = true, options: { linesOffTerminal?: boolean } = {}): string {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let printed = '';
  stream.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  const progress = new Progress('importing', 10, stream as unknown as NodeJS.WriteStream, options);
  for (let done = 1; done <= 10; done++) progress.update(done);
  progress.finish();
  return printed;
}

describe('the CLI progress bar', () => {
  it('redraws one line on a terminal, and prints plain lines when CI says so', () => {
    delete process.env.CI;
    expect(printedOnTerminal()).toMatch(/^\r\x1b\[2Kimporting [█░]+ 1\/10/);

    process.env.CI = 'true';
    const lines = printedOnTerminal();
    expect(lines).not.toContain('\r');
    expect(lines.trim().split('\n').at(-1)).toMatch(/^importing: 10\/10 \(100%\)/);
  });

  it('takes CI=false as not running in CI', () => {
    process.env.CI = 'false';
    expect(printedOnTerminal()).toContain('\r\x1b[2K');
  });

  it('prints nothing when its output is piped or redirected, outside CI, unless asked to', () => {
    delete process.env.CI;
    expect(printedOnTerminal(false)).toBe('');
    expect(printedOnTerminal(false, { linesOffTerminal: true }).trim().split('\n').at(-1)).toMatch(
      /^importing: 10\/10 \(100%\)/,
    );
    process.env.CI = 'true';
    expect(printedOnTerminal(false)).toMatch(/importing: 10\/10 \(100%\)/);
  });
});
