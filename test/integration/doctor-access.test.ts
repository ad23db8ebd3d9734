import { describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { PushletterError } from '../../functions/commons/errors';
import { doctor, REGION, STACK, useDoctorWorld } from './doctor-harness';

const running = useDoctorWorld();

async function usageError(...args: string[]): Promise<string> {
  try {
    await doctor(...args);
  } catch (error) {
    if (error instanceof PushletterError) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('the command succeeded');
}

describe('pushletter doctor --aws before it can check anything', () => {
  it('a stack that is not there: one FAIL line saying to deploy, or to set --stack or AWS_REGION', async () => {
    const { code, out } = await doctor('--aws', '--stack', 'MyNewsletter');
    expect(out).toContain(`  FAIL  stack MyNewsletter: not found in ${REGION}`);
    expect(out).toContain(
      'deploy it (npx cdk deploy), or name the stack you deployed with --stack NAME, or set AWS_REGION',
    );
    expect(out.trim().split('\n').at(-1)).toBe(
      '0 ok, 0 warnings, 1 failed: fix the FAIL lines and run `pushletter doctor --aws` again',
    );
    expect(code).toBe(1);
    // Nothing else is asked of an account the stack is not in.
    expect(running.aws.state.calls).toEqual(['cloudformation:DescribeStacks']);
  });

  it('the default stack name is Pushletter', async () => {
    running.aws.state.stacks = new Map([['Other', running.world.outputs(running.world.webhookUrl)]]);
    const { code, out } = await doctor('--aws', '--wait', '5');
    expect(out).toContain(`FAIL  stack ${STACK}: not found`);
    expect(code).toBe(1);
    const named = await doctor('--aws', '--stack', 'Other');
    expect(named.out.split('\n')[0]).toBe(`pushletter doctor: stack Other in ${REGION}`);
    expect(named.code).toBe(0);
  });

  it('no credentials: a clear line, and no request leaves unsigned', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const { code, out } = await doctor('--aws');
    expect(out).toContain('  FAIL  AWS credentials: none found');
    expect(out).toContain('aws configure');
    expect(code).toBe(1);
    expect(running.aws.state.calls).toEqual([]);
  });

  it('no region: a clear line saying to set AWS_REGION', async () => {
    delete process.env.AWS_REGION;
    const { code, out } = await doctor('--aws');
    expect(out).toContain('  FAIL  AWS region: none set');
    expect(out).toContain('set AWS_REGION to the region you deployed the stack to');
    expect(code).toBe(1);
    expect(running.aws.state.calls).toEqual([]);
  });

  it('usage: only --aws, and --wait takes seconds', async () => {
    expect(await usageError()).toMatch(
      /^CLI_USAGE: doctor checks the stack deployed on AWS: run `pushletter doctor --aws`/,
    );
    expect(await usageError('--aws', '--wait', 'soon')).toMatch(
      /^CLI_USAGE: --wait must be a number of seconds from 1 to 900/,
    );
    expect(await usageError('--aws', 'extra')).toMatch(/^CLI_USAGE: unexpected argument "extra"/);
    // PUSHLETTER_TARGET=aws stands for --aws, as in the other commands.
    process.env.PUSHLETTER_TARGET = 'aws';
    expect((await doctor()).code).toBe(0);
  });

  it('is listed in the CLI help', async () => {
    const printed: string[] = [];
    const original = console.log;
    console.log = (text: string) => printed.push(text);
    try {
      expect(await main(['--help'])).toBe(0);
    } finally {
      console.log = original;
    }
    expect(printed.join('\n')).toContain('pushletter doctor --aws [--stack NAME] [--wait SECONDS]');
  });
});
