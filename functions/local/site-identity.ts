import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SiteIdentity } from '../commons/config';

/**
 * The identity of the blog a running local stack sends, kept in `<dataDir>/site.json` for the
 * CLI commands that reach the stack from another terminal (an import sends confirmation
 * emails itself), so they speak with the stack's name rather than the defaults.
 */
const FILE = 'site.json';

export async function saveSiteIdentity(dataDir: string, identity: SiteIdentity): Promise<void> {
  await writeFile(join(dataDir, FILE), `${JSON.stringify(identity, null, 2)}\n`);
}

export async function forgetSiteIdentity(dataDir: string): Promise<void> {
  await rm(join(dataDir, FILE), { force: true });
}

/** The saved identity, or undefined when the stack serves no blog (or the file is not ours). */
export async function readSiteIdentity(dataDir: string): Promise<SiteIdentity | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(join(dataDir, FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const { title, url, language, timeZone } = (value ?? {}) as Record<string, unknown>;
  if (typeof title !== 'string' || typeof url !== 'string') return undefined;
  return {
    title,
    url,
    ...(typeof language === 'string' ? { language } : {}),
    ...(typeof timeZone === 'string' ? { timeZone } : {}),
  };
}
