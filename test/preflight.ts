import { spawnSync } from 'node:child_process';
import { accessSync, constants, type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `npm test` runs this first: the browser tests need Debian's Chromium and its CJK fonts, the
 * spam-score tests SpamAssassin. Without them dozens of tests would fail one by one with
 * errors that do not say why; this stops before the suite with one message naming what to
 * install. `.ci/run` installs the same packages.
 */

export interface Machine {
  /** The browser the e2e tests launch (test/e2e/*.test.ts). */
  chromiumPath: string;
  fontFolders: string[];
  /** Runs a command and says whether it exited 0. */
  runs(command: string, args: string[]): boolean;
}

export interface Requirement {
  /** The Debian package that provides it. */
  package: string;
  why: string;
  present(machine: Machine): boolean;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a font file for Chinese lies anywhere below the folders (Noto CJK, as Debian names it). */
function hasCjkFont(folders: string[]): boolean {
  const visit = (folder: string, depth: number): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return false;
    }
    return entries.some((entry) =>
      entry.isDirectory() ? depth < 4 && visit(join(folder, entry.name), depth + 1) : /CJK/i.test(entry.name),
    );
  };
  return folders.some((folder) => visit(folder, 0));
}

export const REQUIREMENTS: Requirement[] = [
  {
    package: 'chromium',
    why: 'the browser tests (test/e2e) drive /usr/bin/chromium',
    present: (machine) => executable(machine.chromiumPath),
  },
  {
    package: 'fonts-noto-cjk',
    why: 'without them Chinese text renders as boxes in the browser tests',
    present: (machine) => hasCjkFont(machine.fontFolders),
  },
  {
    package: 'spamassassin',
    why: 'the spam-score tests run it on every email',
    present: (machine) => machine.runs('spamassassin', ['--version']),
  },
];

export const THIS_MACHINE: Machine = {
  chromiumPath: '/usr/bin/chromium',
  fontFolders: ['/usr/share/fonts', '/usr/local/share/fonts'],
  runs: (command, args) => spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 }).status === 0,
};

/** The one message for what is missing, or undefined when nothing is. */
export function preflight(machine: Machine, requirements: Requirement[] = REQUIREMENTS): string | undefined {
  const missing = requirements.filter((requirement) => !requirement.present(machine));
  if (missing.length === 0) return undefined;
  const names = missing.map((requirement) => requirement.package).join(' ');
  return [
    `npm test needs ${missing.length === 1 ? 'a package' : 'packages'} this machine lacks: ${names}`,
    ...missing.map((requirement) => `  ${requirement.package}: ${requirement.why}`),
    `Install ${missing.length === 1 ? 'it' : 'them'} (Debian or Ubuntu): sudo apt-get install -y ${names}`,
    'then run npm test again.',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const message = preflight(THIS_MACHINE);
  if (message !== undefined) {
    console.error(message);
    process.exit(1);
  }
}
