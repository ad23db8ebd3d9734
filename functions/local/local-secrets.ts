import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSecrets, type Secrets } from '../commons/secrets';

/**
 * The local stack's secrets, generated on first start into `<dataDir>/secrets.json` and reused
 * afterwards, so links in emails already in the inbox keep working across restarts.
 */
export async function loadOrCreateLocalSecrets(dataDir: string): Promise<Secrets> {
  const file = join(dataDir, 'secrets.json');
  try {
    return parseSecrets(await readFile(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secrets: Secrets = {
    tokenKey: randomBytes(32).toString('base64'),
    webhookSecret: randomBytes(32).toString('hex'),
  };
  try {
    // `wx`: if another process created the file meanwhile, its secrets win.
    await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return secrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parseSecrets(await readFile(file, 'utf8'), file);
  }
}
