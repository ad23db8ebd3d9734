import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { preflight, THIS_MACHINE } from '../preflight';

const empty = mkdtempSync(join(tmpdir(), 'pushletter-preflight-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('the check before npm test', () => {
  it('names every missing package in one message with the command that installs them', () => {
    const bare = { chromiumPath: join(empty, 'chromium'), fontFolders: [empty], runs: () => false };
    const message = preflight(bare)!;
    expect(message).toMatch(/^npm test needs packages this machine lacks: chromium fonts-noto-cjk spamassassin\n/);
    expect(message).toContain('sudo apt-get install -y chromium fonts-noto-cjk spamassassin');
    expect(
      preflight({
        ...bare,
        runs: () => true,
        chromiumPath: THIS_MACHINE.chromiumPath,
        fontFolders: THIS_MACHINE.fontFolders,
      }),
    ).toBeUndefined();
  });

  it('names only what is missing', () => {
    const message = preflight({ ...THIS_MACHINE, runs: (command) => command !== 'spamassassin' })!;
    expect(message.split('\n')[0]).toBe('npm test needs a package this machine lacks: spamassassin');
    expect(message).toContain('sudo apt-get install -y spamassassin');
  });
});
