import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import sesServer from 'aws-ses-v2-local';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamodb/subscriber-store';
import { run } from '../../functions/cli/subscribers-command';
import { PushletterError } from '../../functions/commons/errors';
import { normaliseAddress } from '../../functions/subscribers/address';
import { parseImportCsv } from '../../functions/subscribers/csv';
import { deriveKeys } from '../../functions/subscribers/keys';
import { SubscriptionService } from '../../functions/subscribers/service';
import {
  createSubscriberTable,
  quietLogger,
  RecordingConfirmationSender,
  type RunningDynamo,
  startDynamo,
} from './subscribers-harness';

const fixtures = fileURLToPath(new URL('../fixtures/csv/', import.meta.url));
const masterKey = Buffer.from('cli-test-master-key-0123456789abcdef');

let dynamo: RunningDynamo;
let ses: Server;
let sesUrl: string;
let dataDir: string;
let store: DynamoSubscriberStore;

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Collector();
  const err = new Collector();
  const code = await run(args, { out, err });
  return { code, out: out.text, err: err.text };
}

async function cliError(...args: string[]): Promise<string> {
  try {
    await cli(...args);
  } catch (error) {
    if (error instanceof PushletterError) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('the command succeeded');
}

async function inbox(): Promise<string[]> {
  const response = await fetch(`${sesUrl}/store`);
  const { emails } = (await response.json()) as { emails: { destination: { to: string[] } }[] };
  // The emulator shows international domains decoded; compare in the stored (punycode) form.
  return emails.flatMap((email) =>
    email.destination.to.map((address) => normaliseAddress(address, { allowTypos: true })),
  );
}

/** Runs `task` with CI set to `value` (unset for undefined), then puts CI back. */
async function withCi<T>(value: string | undefined, task: () => Promise<T>): Promise<T> {
  const saved = process.env.CI;
  if (value === undefined) delete process.env.CI;
  else process.env.CI = value;
  try {
    return await task();
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
}

async function usingTable(): Promise<string> {
  const tableName = await createSubscriberTable(dynamo.client);
  process.env.SUBSCRIBERS_TABLE = tableName;
  store = new DynamoSubscriberStore({
    client: dynamo.client,
    tableName,
    idKey: deriveKeys(masterKey).idKey,
    listName: 'newsletter',
    clock: { now: () => new Date() },
  });
  return tableName;
}

beforeAll(async () => {
  dynamo = await startDynamo();
  ses = (await sesServer({ host: '127.0.0.1', port: 0 })) as Server;
  sesUrl = `http://127.0.0.1:${(ses.address() as AddressInfo).port}`;
  dataDir = await mkdtemp(join(tmpdir(), 'pushletter-subscribers-cli-'));
  await writeFile(
    join(dataDir, 'secrets.json'),
    JSON.stringify({ tokenKey: masterKey.toString('base64'), webhookSecret: 'cli-test-webhook-secret-0123456789' }),
  );
  // The CLI finds the "running stack" exactly as it would find `npm start`: ports and data dir.
  process.env.DYNAMODB_PORT = new URL(dynamo.endpoint).port;
  process.env.SES_PORT = String((ses.address() as AddressInfo).port);
  process.env.PUSHLETTER_DATA_DIR = dataDir;
  process.env.PUSHLETTER_PUBLIC_URL = 'http://localhost:3999';
  delete process.env.PUSHLETTER_TARGET;
});

afterAll(async () => {
  await dynamo.stop();
  await new Promise<void>((resolve) => ses.close(() => resolve()));
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await fetch(`${sesUrl}/clear-store`, { method: 'POST' });
});

describe('pushletter subscribers import', () => {
  it('imports valid rows as active with --confirmed and reports invalid rows by line, duplicates and counts', async () => {
    await usingTable();
    const result = await cli('import', join(fixtures, 'subscribers.csv'), '--confirmed');
    expect(result.code).toBe(0);
    expect(result.out).toContain('subscribers.csv: 10 rows');
    expect(result.out).toMatch(/imported +5 \(active\)/);
    expect(result.out).toMatch(/invalid +4/);
    expect(result.out).toMatch(/duplicates 1/);
    expect(result.out).toContain('line 4: "bob@gmial.com": "gmial.com" looks like a typo (probably bob@gmail.com)');
    expect(result.out).toContain('line 7: (empty): no address in the email column');
    expect(result.out).toMatch(/line 9: .*must be on one line/);
    expect(result.out).toContain('line 12: "someone@example.con"');
    expect(result.out).not.toMatch(/Enter your|Did you mean/);
    expect(await inbox()).toEqual([]);

    expect(await store.findByEmail('jane.doe@example.org')).toMatchObject({
      state: 'active',
      createdAt: '2024-02-03T00:00:00.000Z',
      lang: 'en',
      name: 'Doe, Jane',
      consent: { source: 'import' },
    });
    expect((await store.findByEmail('multi@example.net'))?.name).toBe('Multi line name');
    expect(await store.findByEmail('leser@bücher.de')).toMatchObject({
      email: 'leser@xn--bcher-kva.de',
      state: 'active',
    });
    expect(await store.findByEmail('evil@example.com')).toBeUndefined();

    const again = await cli('import', join(fixtures, 'subscribers.csv'), '--confirmed');
    expect(again.out).toMatch(/imported +0/);
    expect(again.out).toMatch(/unchanged +5/);
  });

  it('sends one confirmation per new address without --confirmed, none on a re-run, and never re-subscribes someone who left', async () => {
    await usingTable();
    const leaver = await store.createIfAbsent({
      email: 'xiaoming@qq.com',
      state: 'active',
      consent: { at: new Date().toISOString(), source: 'form' },
    });
    await store.deactivate(leaver.id);

    const first = await cli('import', join(fixtures, 'subscribers.csv'));
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/imported +4 \(pending confirmation\)/);
    expect(first.out).toMatch(/skipped +1/);
    expect(first.out).toContain('line 3: unsubscribed');
    expect(first.out).toContain('confirmation emails sent 4');
    expect((await inbox()).sort()).toEqual([
      'jane.doe@example.org',
      'last@example.com',
      'leser@xn--bcher-kva.de',
      'multi@example.net',
    ]);
    // The name column greets each reader in their confirmation email.
    const { emails } = (await (await fetch(`${sesUrl}/store`)).json()) as {
      emails: { destination: { to: string[] }; body: { text?: string } }[];
    };
    expect(emails.find((email) => email.destination.to.includes('last@example.com'))?.body.text).toMatch(/^Hi Last,$/m);
    expect((await store.findByEmail('xiaoming@qq.com'))?.state).toBe('unsubscribed');
    expect((await store.findByEmail('multi@example.net'))?.state).toBe('pending');

    const second = await cli('import', join(fixtures, 'subscribers.csv'));
    expect(second.out).toMatch(/unchanged +4/);
    expect(second.out).toContain('confirmation emails sent 0');
    expect(await inbox()).toHaveLength(4);

    // --confirmed later promotes the pending ones (the editor vouches for their consent).
    const promoted = await cli('import', join(fixtures, 'subscribers.csv'), '--confirmed');
    expect(promoted.out).toMatch(/updated +4 \(pending -> active\)/);
    expect((await store.findByEmail('multi@example.net'))?.state).toBe('active');
    expect((await store.findByEmail('xiaoming@qq.com'))?.state).toBe('unsubscribed');
  });

  it('round-trips through export: what export writes, import restores into an empty list', async () => {
    await usingTable();
    await cli('import', join(fixtures, 'subscribers.csv'), '--confirmed');
    const service = new SubscriptionService({
      store,
      keys: deriveKeys(masterKey),
      mailer: new RecordingConfirmationSender(),
      clock: { now: () => new Date() },
      publicUrl: 'http://localhost',
      logger: quietLogger,
    });
    await service.subscribe({ email: 'pending.reader@example.org', source: 'form, "spring" campaign' });
    await service.unsubscribe(
      new URL(service.unsubscribeUrl(store.idFor('last@example.com'))).searchParams.get('token')!,
    );

    const exported = await cli('export');
    expect(exported.code).toBe(0);
    expect(exported.err).toContain('exported 6 subscribers');
    const lines = exported.out.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'email,name,state,created,confirmed,unsubscribed,suppressed,consent_at,consent_source,lang,topics,frequency',
    );
    expect(lines.find((line) => line.startsWith('jane.doe@'))).toMatch(/^jane\.doe@example\.org,"Doe, Jane",active,/);
    expect(lines).toHaveLength(7);
    expect(lines.find((line) => line.startsWith('pending.reader@'))).toMatch(
      /^pending\.reader@example\.org,,pending,.*,"form, ""spring"" campaign",en,,post$/,
    );
    expect(lines.find((line) => line.startsWith('last@'))).toMatch(
      /^last@example\.com,Last,unsubscribed,[^,]+,[^,]+,[^,]+,/,
    );

    const exportFile = join(dataDir, 'export.csv');
    await writeFile(exportFile, exported.out);
    const original = parseImportCsv(Buffer.from(exported.out));
    await usingTable();
    const restored = await cli('import', exportFile, '--confirmed');
    expect(restored.out).toMatch(/imported +6 \(active\)/);
    const reExported = parseImportCsv(Buffer.from((await cli('export')).out));
    const byEmail = (rows: { email: string; createdAt?: string; lang?: string; name?: string }[]) =>
      rows
        .map(({ email, createdAt, lang, name }) => ({ email, createdAt, lang, name }))
        .sort((a, b) => a.email.localeCompare(b.email));
    expect(byEmail(reExported.rows)).toEqual(byEmail(original.rows));
  });

  it('imports a topics column against the offered topics, lists unknown ones as invalid rows, and exports it', async () => {
    await usingTable();
    const file = join(dataDir, 'topics.csv');
    await writeFile(
      file,
      'email,topics\ntravel@example.org,旅行\nboth@example.org,旅行|Rust\nnone@example.org,\nwrong@example.org,旅行;golang\n',
    );
    process.env.PUSHLETTER_TOPICS = '旅行, rust, photos';
    let result: Awaited<ReturnType<typeof cli>>;
    try {
      result = await cli('import', file, '--confirmed');
    } finally {
      delete process.env.PUSHLETTER_TOPICS;
    }
    expect(result.out).toMatch(/imported +3 \(active\)/);
    expect(result.out).toContain(
      'line 5: "旅行;golang": topic "golang" is not offered (offered: 旅行, rust, photos); separate topics with ; or |',
    );
    expect((await store.findByEmail('travel@example.org'))?.topics).toEqual(['旅行']);
    expect((await store.findByEmail('both@example.org'))?.topics).toEqual(['旅行', 'rust']);
    expect((await store.findByEmail('none@example.org'))?.topics).toBeUndefined();
    expect(await store.findByEmail('wrong@example.org')).toBeUndefined();
    const lines = (await cli('export')).out.trimEnd().split('\r\n');
    expect(lines.find((line) => line.startsWith('both@'))).toMatch(/,旅行\|rust,post$/);
    expect(lines.find((line) => line.startsWith('none@'))).toMatch(/,,post$/);
  });

  it('moves a digest reader through export and import as a digest reader, and refuses an unknown frequency', async () => {
    await usingTable();
    const file = join(dataDir, 'frequency.csv');
    await writeFile(file, 'email,frequency\ndigest@example.org,digest\nevery@example.org,\nodd@example.org,weekly\n');
    const result = await cli('import', file, '--confirmed');
    expect(result.out).toMatch(/imported +2 \(active\)/);
    expect(result.out).toContain(
      'line 4: "weekly": frequency "weekly" is not known: write "post" (every post) or "digest"',
    );
    expect((await store.findByEmail('digest@example.org'))?.frequency).toBe('digest');
    const exported = (await cli('export')).out;
    expect(
      exported
        .trimEnd()
        .split('\r\n')
        .find((line) => line.startsWith('digest@')),
    ).toMatch(/,digest$/);

    const exportFile = join(dataDir, 'frequency-export.csv');
    await writeFile(exportFile, exported);
    await usingTable();
    expect((await cli('import', exportFile, '--confirmed')).out).toMatch(/imported +2 \(active\)/);
    expect((await store.findByEmail('digest@example.org'))?.frequency).toBe('digest');
    expect((await store.findByEmail('every@example.org'))?.frequency ?? 'post').toBe('post');
  });

  it('names the columns it ignores and keeps the name column', async () => {
    await usingTable();
    const file = join(dataDir, 'crm.csv');
    await writeFile(
      file,
      'Email,Full Name,Company,Tags\nada@example.com,Ada Lovelace,Analytical Engines,vip\nada.example.com,Ada Two,,\n',
    );
    const result = await cli('import', file, '--confirmed');
    expect(result.out).toContain(
      'ignored columns: "Company", "Tags" (kept: email, name, created, lang, topics, frequency)',
    );
    expect(result.out).toContain('line 3: "ada.example.com": the address has no @');
    expect((await store.findByEmail('ada@example.com'))?.name).toBe('Ada Lovelace');
  });

  it('speaks with the name of the blog the running stack serves', async () => {
    await usingTable();
    const siteFile = join(dataDir, 'site.json');
    await writeFile(siteFile, JSON.stringify({ title: 'Field Notes · 田野笔记', url: 'http://localhost:3999/blog/' }));
    try {
      const file = join(dataDir, 'one.csv');
      await writeFile(file, 'email,name\nada@example.com,Ada\n');
      expect((await cli('import', file)).code).toBe(0);
      const { emails } = (await (await fetch(`${sesUrl}/store`)).json()) as {
        emails: { from: string; subject: string; body: { text?: string } }[];
      };
      expect(emails).toHaveLength(1);
      expect(emails[0]!.subject).toBe('Confirm your subscription to Field Notes · 田野笔记');
      expect(emails[0]!.from).toContain('Field Notes · 田野笔记');
      expect(emails[0]!.body.text).toMatch(/^Hi Ada,$/m);
    } finally {
      await rm(siteFile, { force: true });
    }
  });

  it('shows progress for a large file', async () => {
    await usingTable();
    // Enough rows for a line per 10%; more would only slow the test on a busy machine.
    const file = join(dataDir, 'large.csv');
    await writeFile(
      file,
      `email\n${Array.from({ length: 200 }, (_, index) => `reader${index}@example.com`).join('\n')}\n`,
    );
    // Off a terminal the bar prints lines only in CI; elsewhere a redirected run stays quiet.
    const small = join(dataDir, 'small.csv');
    await writeFile(
      small,
      `email\n${Array.from({ length: 20 }, (_, index) => `early${index}@example.com`).join('\n')}\n`,
    );
    const quiet = await withCi(undefined, () => cli('import', small, '--confirmed'));
    expect(quiet.out).toMatch(/imported +20 \(active\)/);
    expect(quiet.err).not.toContain('importing:');
    await usingTable();
    const result = await withCi('true', () => cli('import', file, '--confirmed'));
    expect(result.out).toMatch(/imported +200 \(active\)/);
    expect(result.err).toContain('importing: 200/200 (100%)');
    expect(result.err.split('\n').filter((line) => line.startsWith('importing:')).length).toBeGreaterThanOrEqual(5);
    expect((await cli('count')).out).toMatch(/active +200\n/);
  });

  it('refuses files it cannot read, before touching the list', async () => {
    await usingTable();
    expect(await cliError('import', join(fixtures, 'no-email-column.csv'))).toMatch(
      /^CSV_INVALID: no-email-column\.csv has no "email" column/,
    );
    expect(await cliError('import', join(fixtures, 'empty.csv'))).toMatch(/^CSV_INVALID: empty\.csv is empty/);
    expect(await cliError('import', join(fixtures, 'gbk.csv'))).toMatch(
      /^CSV_INVALID: gbk\.csv is not UTF-8.*CSV UTF-8/,
    );
    expect(await cliError('import', join(fixtures, 'missing.csv'))).toMatch(
      /^CSV_UNREADABLE: .*missing\.csv does not exist/,
    );
    expect(await cliError('import')).toMatch(/^CLI_USAGE: name the CSV file/);
    expect((await store.countByState()).pending).toBe(0);
  });
});

describe('pushletter subscribers count and forget', () => {
  it('counts by state and erases a person', async () => {
    await usingTable();
    await cli('import', join(fixtures, 'subscribers.csv'), '--confirmed');
    await store.suppress(store.idFor('multi@example.net'), 'bounced', new Date());
    const counted = await cli('count');
    expect(counted.out).toBe(
      [
        'pending      0',
        'active       4',
        'unsubscribed 0',
        'bounced      1',
        'complained   0',
        'total        5',
        '',
      ].join('\n'),
    );

    const forgotten = await cli('forget', 'Jane.Doe@Example.org');
    expect(forgotten.out).toMatch(/^erased Jane\.Doe@Example\.org: the subscriber record .* is deleted/);
    expect(await store.findByEmail('jane.doe@example.org')).toBeUndefined();
    expect((await cli('export')).out).not.toContain('jane.doe');
    expect((await cli('forget', 'jane.doe@example.org')).out).toContain('is not stored; nothing to erase');
    expect((await cli('count')).out).toContain('total        4');
  });
});

describe('reaching the stack', () => {
  it('says how to start the local stack when none is running', async () => {
    const port = process.env.DYNAMODB_PORT;
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const free = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(free));
      });
    });
    process.env.DYNAMODB_PORT = String(closed);
    try {
      expect(await cliError('count')).toMatch(
        new RegExp(`^LOCAL_STACK_NOT_RUNNING: no local stack .*${closed}.*DYNAMODB_PORT.*pushletter dev`),
      );
    } finally {
      process.env.DYNAMODB_PORT = port;
    }
  });

  it('refuses to write with keys that do not match the stored subscribers', async () => {
    await usingTable();
    await cli('import', join(fixtures, 'subscribers.csv'), '--confirmed');
    const otherDir = await mkdtemp(join(tmpdir(), 'pushletter-other-secrets-'));
    await writeFile(
      join(otherDir, 'secrets.json'),
      JSON.stringify({
        tokenKey: Buffer.alloc(32, 9).toString('base64'),
        webhookSecret: 'another-webhook-secret-0123456789',
      }),
    );
    process.env.PUSHLETTER_DATA_DIR = otherDir;
    try {
      expect(await cliError('import', join(fixtures, 'subscribers.csv'), '--confirmed')).toMatch(/^SECRETS_MISMATCH/);
      expect((await store.countByState()).active).toBe(5);
    } finally {
      process.env.PUSHLETTER_DATA_DIR = dataDir;
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('explains its options', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--aws (or PUSHLETTER_TARGET=aws)');
    expect(await cliError('frobnicate')).toMatch(/^CLI_USAGE: unknown subcommand "frobnicate"/);
    expect(await cliError('count', '--confirmed')).toMatch(/^CLI_USAGE: --confirmed only applies to import/);
    process.env.PUSHLETTER_TARGET = 'production';
    try {
      expect(await cliError('count')).toBe(
        'CONFIG_INVALID: PUSHLETTER_TARGET must be "local" or "aws" (got "production")',
      );
    } finally {
      delete process.env.PUSHLETTER_TARGET;
    }
  });
});
