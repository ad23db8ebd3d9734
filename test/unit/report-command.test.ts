import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runReport, type SnapshotSource } from '../../functions/cli/report-command';
import { sampleSnapshot } from '../stats-snapshots';

/** `pushletter report` with its figures given: where the file goes, what it says, what it refuses. */
let folder: string;
let asked: boolean[];
const source: SnapshotSource = async (aws) => {
  asked.push(aws);
  return sampleSnapshot({ posts: 2 });
};

async function report(...args: string[]): Promise<{ code: number; printed: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await runReport(args, source, out);
  return { code, printed: Buffer.concat(chunks).toString('utf8') };
}

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pushletter-report-command-'));
  asked = [];
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('pushletter report', () => {
  it('writes the page where --out says, and says what it holds and how to open it', async () => {
    const file = join(folder, 'nov.html');
    const { code, printed } = await report('--out', file);
    expect(code).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(
      /^<!doctype html>[\s\S]*Field Notes: newsletter report[\s\S]*<\/html>\n$/,
    );
    expect(printed).toMatch(/^report: 2 posts, 60 days of the list, \d+ KB\nopen file:\/\/.*\/nov\.html\n$/);
    expect(await readdir(folder)).toEqual(['nov.html']);
    expect(asked).toEqual([false]);
  });

  it('replaces an older report whole', async () => {
    const file = join(folder, 'report.html');
    await writeFile(file, 'an older report');
    await report('--out', file);
    expect(await readFile(file, 'utf8')).toContain('Field Notes: newsletter report');
    expect(await readdir(folder)).toEqual(['report.html']);
  });

  it('reads the deployed stack with --aws', async () => {
    await report('--aws', '--out', join(folder, 'report.html'));
    expect(asked).toEqual([true]);
  });

  it('says which folder is missing, and leaves nothing behind', async () => {
    const file = join(folder, 'no-such-folder', 'report.html');
    await expect(report('--out', file)).rejects.toThrow(
      `cannot write ${file}: the folder ${join(folder, 'no-such-folder')} does not exist: create it or pass another --out`,
    );
    expect(await readdir(folder)).toEqual([]);
  });

  it('takes a folder for a file name back to the editor, and leaves nothing behind', async () => {
    const target = join(folder, 'reports');
    await mkdir(target);
    await expect(report('--out', target)).rejects.toMatchObject({
      code: 'REPORT_NOT_WRITTEN',
      message: expect.stringContaining(`is a folder: pass a file name, such as --out ${join(target, 'report.html')}`),
    });
    expect(await readdir(folder)).toEqual(['reports']);
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses a place that is no regular file (a named pipe here, as /dev/full would be), and leaves it as it was', async () => {
    const pipe = join(folder, 'pipe');
    execFileSync('mkfifo', [pipe]);
    await expect(report('--out', pipe)).rejects.toMatchObject({
      code: 'REPORT_NOT_WRITTEN',
      message: `cannot write ${pipe}: it is a named pipe (FIFO), not a regular file; pass the name of a file to write, or another --out`,
    });
    expect((await lstat(pipe)).isFIFO()).toBe(true);
    expect(await readdir(folder)).toEqual(['pipe']);
  });

  it('writes through a symbolic link to the file it names, and keeps the link', async () => {
    const file = join(folder, 'real.html');
    await writeFile(file, 'an older report');
    await symlink(file, join(folder, 'latest.html'));
    await report('--out', join(folder, 'latest.html'));
    expect(await readFile(file, 'utf8')).toContain('Field Notes: newsletter report');
    expect((await lstat(join(folder, 'latest.html'))).isSymbolicLink()).toBe(true);
    expect((await readdir(folder)).sort()).toEqual(['latest.html', 'real.html']);
  });

  it('says when a part of the path is a file, not a folder', async () => {
    await writeFile(join(folder, 'afile'), '');
    const file = join(folder, 'afile', 'x.html');
    await expect(report('--out', file)).rejects.toMatchObject({
      code: 'REPORT_NOT_WRITTEN',
      message: `cannot write ${file}: part of ${join(folder, 'afile')} is a file, not a folder: pass another --out`,
    });
    expect(await readdir(folder)).toEqual(['afile']);
  });

  it('refuses words it does not know with the usage, before reading anything', async () => {
    await expect(report('november')).rejects.toThrow(/unexpected "november"\nusage: pushletter report \[--out/);
    await expect(report('--output', 'x.html')).rejects.toThrow(/Unknown option '--output'/);
    expect(asked).toEqual([]);
  });
});
