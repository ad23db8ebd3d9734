import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage, PushletterError } from '../commons/errors';

export interface OutputFile {
  path: string;
  content: string | Uint8Array;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Where the content really goes. Renaming onto a device, pipe or socket would replace it with a
 * plain file (as root, /dev/full itself), so those are refused. A symbolic link is followed: the
 * file it points at is replaced and the link stays, as when an editor saves through one.
 */
async function placeOf(path: string, code: string, options: WriteOptions): Promise<string> {
  const link = await lstat(path).catch(() => undefined);
  if (link === undefined) return path; // absent (or under a file: the write says so below)
  let target = path;
  let stats = link;
  if (link.isSymbolicLink()) {
    stats = await stat(path).catch(() => {
      throw new PushletterError(
        code,
        `cannot write ${path}: it is a link to a file that does not exist; remove the link or pass another ${options.option}`,
      );
    });
    target = await realpath(path);
  }
  if (stats.isDirectory()) throw new PushletterError(code, `cannot write ${path}: ${folderAdvice(path, options)}`);
  if (!stats.isFile())
    throw new PushletterError(
      code,
      `cannot write ${path}: it is ${kindOf(stats)}, not a regular file; pass the name of a file to write, or another ${options.option}`,
    );
  return target;
}

export interface WriteOptions {
  /** The option that names the place, for the advice. */
  option: string;
  /** A file name to suggest inside a folder given where a file was meant. */
  example?: string;
}

function folderAdvice(path: string, { option, example }: WriteOptions): string {
  return `${path} is a folder: ${example ? `pass a file name, such as ${option} ${join(path, example)}` : `remove it or pass another ${option}`}`;
}

function reasonOf(error: unknown, path: string, options: WriteOptions): string {
  const { option } = options;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `the folder ${dirname(path)} does not exist: create it or pass another ${option}`;
    case 'ENOTDIR':
      return `part of ${dirname(path)} is a file, not a folder: pass another ${option}`;
    case 'EISDIR':
      return folderAdvice(path, options);
    case 'EACCES':
    case 'EPERM':
      return `no permission to write in ${dirname(path)}: pass another ${option}`;
    default:
      return errorMessage(error);
  }
}

/**
 * Every file appears whole, or none does: each is written beside its place, then all are renamed
 * onto their places; on a failure whatever was written is removed again.
 */
export async function writeWhole(files: OutputFile[], code: string, options: WriteOptions): Promise<void> {
  const places: string[] = [];
  for (const file of files) places.push(await placeOf(file.path, code, options));
  const suffix = randomBytes(4).toString('hex');
  const temporaries = places.map((place) => join(dirname(place), `.${basename(place)}.${suffix}.tmp`));
  const written: string[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const [index, file] of files.entries()) {
      current = file.path;
      await writeFile(temporaries[index]!, file.content, { flag: 'wx' });
      written.push(temporaries[index]!);
    }
    for (const [index, file] of files.entries()) {
      current = file.path;
      await rename(temporaries[index]!, places[index]!);
      written.push(places[index]!);
    }
  } catch (error) {
    // A cleanup that fails too (the folder went away) must not hide why the write failed.
    await Promise.all(written.map((path) => rm(path, { force: true }).catch(() => undefined)));
    throw new PushletterError(code, `cannot write ${current}: ${reasonOf(error, current, options)}`, {
      cause: error,
    });
  }
}
