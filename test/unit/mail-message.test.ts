import { describe, expect, it } from 'vitest';
import { simpleParser, type AddressObject } from 'mailparser';
import { build } from 'esbuild';
import { compileMessage, personalise, type CompiledMessage } from '../../functions/mail/message';
import { encodeQuotedPrintable } from '../../functions/mail/quoted-printable';
import { InvalidInputError } from '../../functions/commons/errors';

const UNSUBSCRIBE = '%%PUSHLETTER_UNSUBSCRIBE_URL%%';
const sender = { fromAddress: 'newsletter@notes.example.cn', fromName: '云栈笔记', replyTo: 'editor@notes.example.cn' };

function compile(overrides: Partial<{ subject: string; html: string; text: string }> = {}): CompiledMessage {
  const message = compileMessage(
    {
      subject: overrides.subject ?? '集群升级手记：从 1.27 到 1.29',
      html: overrides.html ?? `<!doctype html><html lang="zh-CN"><body><p>${'滚动升级的过程和检查清单。'.repeat(40)}</p><a href="${UNSUBSCRIBE}">退订</a></body></html>`,
      text: overrides.text ?? `滚动升级的过程。\n\n退订: ${UNSUBSCRIBE}\n`,
      lang: 'zh-CN',
    },
    sender,
    {
      listId: 'newsletter.notes.example.cn',
      listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE, mailto: 'unsubscribe@notes.example.cn' },
      placeholders: [UNSUBSCRIBE],
    },
  );
  // The compiled message is stored in DynamoDB and read back by the sender.
  return JSON.parse(JSON.stringify(message)) as CompiledMessage;
}

const tokenUrl = (token: string) => `https://news.example.cn/unsubscribe?token=${token}&list=a=b`;

describe('compiled message, personalised per recipient', () => {
  it('parses with mailparser and carries every header a real send has', async () => {
    const raw = personalise(compile(), {
      to: 'reader@example.com',
      values: { [UNSUBSCRIBE]: tokenUrl('abc') },
      date: new Date('2024-03-08T13:30:00Z'),
      messageId: 'delivery-42',
    });
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('集群升级手记：从 1.27 到 1.29');
    expect(mail.from?.value[0]).toEqual({ address: 'newsletter@notes.example.cn', name: '云栈笔记' });
    expect((mail.to as AddressObject).value[0]?.address).toBe('reader@example.com');
    expect((mail.replyTo as AddressObject).value[0]?.address).toBe('editor@notes.example.cn');
    expect(mail.date?.toISOString()).toBe('2024-03-08T13:30:00.000Z');
    expect(mail.messageId).toBe('<delivery-42@notes.example.cn>');
    expect(mail.headers.get('mime-version')).toBe('1.0');
    expect(mail.headers.get('content-language')).toBe('zh-CN');
    expect((mail.headers.get('content-type') as { value: string }).value).toBe('multipart/alternative');
    const list = mail.headers.get('list') as Record<string, { url: string; mail?: string }>;
    expect(list.unsubscribe).toMatchObject({ url: tokenUrl('abc'), mail: 'unsubscribe@notes.example.cn' });
    expect(mail.headerLines.find((header) => header.key === 'list-id')?.line).toBe('List-Id: <newsletter.notes.example.cn>');
    expect(mail.headerLines.find((header) => header.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(mail.text).toContain(`退订: ${tokenUrl('abc')}`);
    expect(mail.html).toContain(`href="${tokenUrl('abc').replace(/&/g, '&amp;')}"`);
    expect(mail.html).toContain('滚动升级的过程和检查清单。');
  });

  it('puts text/plain before text/html, both utf-8 quoted-printable, CRLF only, lines within limits', () => {
    const raw = personalise(compile(), { to: 'reader@example.com', values: { [UNSUBSCRIBE]: tokenUrl('x'.repeat(300)) } }).toString('latin1');
    expect(raw.indexOf('Content-Type: text/plain; charset=utf-8')).toBeGreaterThan(0);
    expect(raw.indexOf('Content-Type: text/plain')).toBeLessThan(raw.indexOf('Content-Type: text/html'));
    expect(raw.match(/Content-Transfer-Encoding: quoted-printable/g)).toHaveLength(2);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(raw).toMatch(/^[\x00-\x7f]*$/);
    const [head, ...bodyParts] = raw.split('\r\n\r\n');
    for (const line of head!.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    // Body lines are quoted-printable: 76 at most, whatever the value spliced in.
    for (const line of bodyParts.join('\r\n\r\n').split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  });

  it('gives each recipient their own value and nobody else\'s', async () => {
    const message = compile();
    const first = await simpleParser(personalise(message, { to: 'a@example.com', values: { [UNSUBSCRIBE]: tokenUrl('first') } }));
    const second = await simpleParser(personalise(message, { to: 'b@example.com', values: { [UNSUBSCRIBE]: tokenUrl('second') } }));
    expect(first.text).toContain('token=first');
    expect(first.text).not.toContain('second');
    expect(second.html).toContain('token=second');
    expect(second.html).not.toContain('token=first');
    expect(first.messageId).not.toBe(second.messageId);
    expect(first.messageId).toMatch(/@notes\.example\.cn>$/);
  });

  it('escapes a value for HTML in the html part and keeps it literal in the text part', async () => {
    const value = 'https://news.example.cn/u?t="><script>x</script>';
    const message = compileMessage({ subject: 'x', html: `<a href="${UNSUBSCRIBE}">u</a>`, text: UNSUBSCRIBE, lang: 'en' }, sender, { placeholders: [UNSUBSCRIBE] });
    const mail = await simpleParser(personalise(message, { to: 'a@example.com', values: { [UNSUBSCRIBE]: value } }));
    expect(mail.html).toBe('<a href="https://news.example.cn/u?t=&quot;&gt;&lt;script&gt;x&lt;/script&gt;">u</a>');
    expect(mail.text).toBe(value);
  });

  it('refuses a recipient address that could add a header', () => {
    const message = compile();
    for (const to of ['a@example.com\r\nBcc: victim@example.com', 'a@example.com\nBcc: v@example.com', 'Name <a@example.com>', 'a@example.com, b@example.com', 'not-an-address']) {
      expect(() => personalise(message, { to, values: { [UNSUBSCRIBE]: tokenUrl('x') } })).toThrow(InvalidInputError);
    }
  });

  it('refuses an unsubscribe URL with a line break instead of writing it into the header', () => {
    expect(() => personalise(compile(), { to: 'a@example.com', values: { [UNSUBSCRIBE]: 'https://x.example/\r\nBcc: v@example.com' } })).toThrow(InvalidInputError);
  });

  it('says which value is missing', () => {
    expect(() => personalise(compile(), { to: 'a@example.com', values: {} })).toThrow(/PUSHLETTER_UNSUBSCRIBE_URL/);
  });

  it('removes line breaks and control characters from the subject so no header can be injected', async () => {
    const mail = await simpleParser(personalise(compile({ subject: 'Hello\r\nBcc: victim@example.com\u0007 world' }), { to: 'a@example.com', values: { [UNSUBSCRIBE]: tokenUrl('x') } }));
    expect(mail.subject).toBe('Hello Bcc: victim@example.com world');
    expect(mail.headers.get('bcc')).toBeUndefined();
  });

  it('folds a long ASCII subject and a long Chinese one and decodes both intact', async () => {
    const english = 'Shipping Helm charts without surprises: how we template, lint and release charts with the checks that caught real bugs';
    const chinese = '一次生产集群滚动升级的过程、踩过的坑和检查清单，以及我们为什么决定从 1.27 直接升级到 1.29 而不是逐个小版本升级';
    for (const subject of [english, chinese]) {
      const raw = personalise(compile({ subject }), { to: 'a@example.com', values: { [UNSUBSCRIBE]: tokenUrl('x') } });
      const subjectLines = /^Subject:.*(\r\n .*)*/m.exec(raw.toString('latin1'))![0].split('\r\n');
      expect(subjectLines.length).toBeGreaterThan(1);
      for (const line of subjectLines) expect(line.length).toBeLessThanOrEqual(78);
      expect((await simpleParser(raw)).subject).toBe(subject);
    }
  });

  it('writes an internationalised domain in the To header as IDNA, which any server accepts', async () => {
    const raw = personalise(compile(), { to: 'reader@例子.中国', values: { [UNSUBSCRIBE]: tokenUrl('x') } });
    expect(raw.toString('latin1')).toMatch(/^To: reader@xn--fsqu00a\.xn--fiqs8s\r$/m);
  });

  it('quotes an ASCII display name with specials', async () => {
    const message = compileMessage({ subject: 's', html: '<p>x</p>', text: 'x', lang: 'en' }, { fromAddress: 'news@example.com', fromName: 'Notes, "weekly"' }, { placeholders: [] });
    const mail = await simpleParser(personalise(message, { to: 'a@example.com', values: {} }));
    expect(mail.from?.value[0]).toEqual({ address: 'news@example.com', name: 'Notes, "weekly"' });
  });
});

describe('quoted-printable', () => {
  it('keeps lines within 76 characters, escapes "=" and trailing spaces, and ends on a soft break when asked', () => {
    const encoded = encodeQuotedPrintable(`a=b ${'中'.repeat(60)} \nnext line `, true);
    for (const line of encoded.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    expect(encoded.startsWith('a=3Db ')).toBe(true);
    expect(encoded).toContain('=20\r\nnext line');
    expect(encoded.endsWith('=\r\n')).toBe(true);
  });
});

describe('message module', () => {
  it('does not pull mjml into the sender and signup bundles', async () => {
    const result = await build({
      entryPoints: ['functions/mail/message.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('functions/mail/message.ts'))).toBe(true);
    expect(inputs.filter((path) => /node_modules\/mjml/.test(path))).toEqual([]);
  });
});
