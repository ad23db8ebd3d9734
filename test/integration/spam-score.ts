import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A newsletter in the spam folder is a newsletter nobody reads: SpamAssassin's local rules must pass it. */
export async function spamScore(message: Uint8Array): Promise<{ score: number; report: string }> {
  const child = run('spamassassin', ['-L', '-t', '--cf=use_bayes 0'], { maxBuffer: 8 * 1024 * 1024 });
  child.child.stdin!.end(Buffer.from(message));
  const { stdout } = await child;
  const score = /^X-Spam-Status: \w+, score=(-?[\d.]+)/m.exec(stdout)?.[1];
  if (score === undefined) throw new Error('spamassassin printed no X-Spam-Status');
  return { score: Number(score), report: stdout.slice(stdout.indexOf('Content analysis details')) };
}
