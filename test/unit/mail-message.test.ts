import { build } from 'esbuild';
import { type AddressObject, simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../functions/commons/errors';
import { type CompiledMessage, compileMessage, isReadableMessage, personalise } from '../../functions/mail/message';
import { encodeQuotedPrintable } from '../../functions/mail/quoted-printable';

const UNSUBSCRIBE = '%%PUSHLETTER_UNSUBSCRIBE_URL%%';
const sender = { fromAddress: 'newsletter@notes.example.cn', fromName: '云栈笔记', replyTo: 'editor@notes.example.cn' };

function compile(overrides: Partial<{ subject: string; html: string; text: string }> = {}): CompiledMessage {
  const message = compileMessage(
    {
      subject: overrides.subject ?? '集群升级手记：从 1.27 到 1.29',
      html:
        overrides.html ??
        `<!doctype html><html lang="zh-CN"><body><p>${'滚动升级的过程和检查清单。'.repeat(40)}</p><a href="${UNSUBSCRIBE}">退订</a></body></html>`,
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
    expect(mail.headerLines.find((header) => header.key === 'list-id')?.line).toBe(
      'List-Id: <newsletter.notes.example.cn>',
    );
    expect(mail.headerLines.find((header) => header.key === 'list-unsubscribe-post')?.line).toBe(
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    );
    expect(mail.text).toContain(`退订: ${tokenUrl('abc')}`);
    expect(mail.html).toContain(`href="${tokenUrl('abc').replace(/&/g, '&amp;')}"`);
    expect(mail.html).toContain('滚动升级的过程和检查清单。');
  });

  it('puts text/plain before text/html, both utf-8 base64 for a Chinese post, CRLF only, lines within limits', () => {
    const raw = personalise(compile(), {
      to: 'reader@example.com',
      values: { [UNSUBSCRIBE]: tokenUrl('x'.repeat(300)) },
    }).toString('latin1');
    expect(raw.indexOf('Content-Type: text/plain; charset=utf-8')).toBeGreaterThan(0);
    expect(raw.indexOf('Content-Type: text/plain')).toBeLessThan(raw.indexOf('Content-Type: text/html'));
    expect(raw.match(/Content-Transfer-Encoding: base64/g)).toHaveLength(2);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(raw).toMatch(/^[\x00-\x7f]*$/);
    const [head, ...bodyParts] = raw.split('\r\n\r\n');
    for (const line of head!.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    // Body lines are 76 at most, whatever the value spliced in.
    for (const line of bodyParts.join('\r\n\r\n').split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  });

  it("gives each recipient their own value and nobody else's", async () => {
    const message = compile();
    const first = await simpleParser(
      personalise(message, { to: 'a@example.com', values: { [UNSUBSCRIBE]: tokenUrl('first') } }),
    );
    const second = await simpleParser(
      personalise(message, { to: 'b@example.com', values: { [UNSUBSCRIBE]: tokenUrl('second') } }),
    );
    expect(first.text).toContain('token=first');
    expect(first.text).not.toContain('second');
    expect(second.html).toContain('token=second');
    expect(second.html).not.toContain('token=first');
    expect(first.messageId).not.toBe(second.messageId);
    expect(first.messageId).toMatch(/@notes\.example\.cn>$/);
  });

  it('escapes a value for HTML in the html part and keeps it literal in the text part', async () => {
    const value = 'https://news.example.cn/u?t="><script>x</script>';
    const message = compileMessage(
      { subject: 'x', html: `<a href="${UNSUBSCRIBE}">u</a>`, text: UNSUBSCRIBE, lang: 'en' },
      sender,
      { placeholders: [UNSUBSCRIBE] },
    );
    const mail = await simpleParser(personalise(message, { to: 'a@example.com', values: { [UNSUBSCRIBE]: value } }));
    expect(mail.html).toBe('<a href="https://news.example.cn/u?t=&quot;&gt;&lt;script&gt;x&lt;/script&gt;">u</a>');
    expect(mail.text).toBe(value);
  });

  it('refuses a recipient address that could add a header', () => {
    const message = compile();
    for (const to of [
      'a@example.com\r\nBcc: victim@example.com',
      'a@example.com\nBcc: v@example.com',
      'Name <a@example.com>',
      'a@example.com, b@example.com',
      'not-an-address',
    ]) {
      expect(() => personalise(message, { to, values: { [UNSUBSCRIBE]: tokenUrl('x') } })).toThrow(InvalidInputError);
    }
  });

  it('refuses an unsubscribe URL with a line break instead of writing it into the header', () => {
    expect(() =>
      personalise(compile(), {
        to: 'a@example.com',
        values: { [UNSUBSCRIBE]: 'https://x.example/\r\nBcc: v@example.com' },
      }),
    ).toThrow(InvalidInputError);
  });

  it('says which value is missing', () => {
    expect(() => personalise(compile(), { to: 'a@example.com', values: {} })).toThrow(/PUSHLETTER_UNSUBSCRIBE_URL/);
  });

  it('removes line breaks and control characters from the subject so no header can be injected', async () => {
    const mail = await simpleParser(
      personalise(compile({ subject: 'Hello\r\nBcc: victim@example.com\u0007 world' }), {
        to: 'a@example.com',
        values: { [UNSUBSCRIBE]: tokenUrl('x') },
      }),
    );
    expect(mail.subject).toBe('Hello Bcc: victim@example.com world');
    expect(mail.headers.get('bcc')).toBeUndefined();
  });

  it('folds a long ASCII subject and a long Chinese one and decodes both intact', async () => {
    const english =
      'Shipping Helm charts without surprises: how we template, lint and release charts with the checks that caught real bugs';
    const chinese =
      '一次生产集群滚动升级的过程、踩过的坑和检查清单，以及我们为什么决定从 1.27 直接升级到 1.29 而不是逐个小版本升级';
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
    const message = compileMessage(
      { subject: 's', html: '<p>x</p>', text: 'x', lang: 'en' },
      { fromAddress: 'news@example.com', fromName: 'Notes, "weekly"' },
      { placeholders: [] },
    );
    const mail = await simpleParser(personalise(message, { to: 'a@example.com', values: {} }));
    expect(mail.from?.value[0]).toEqual({ address: 'news@example.com', name: 'Notes, "weekly"' });
  });
});

/** Each body part of a raw message: its transfer encoding and its encoded lines. */
function bodyParts(raw: Buffer): Array<{ encoding: string; lines: string[] }> {
  const message = raw.toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(message)![1]!;
  return message
    .split(`\r\n--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const blankLine = part.indexOf('\r\n\r\n');
      const encoding = /Content-Transfer-Encoding: (\S+)/.exec(part.slice(0, blankLine))![1]!;
      return { encoding, lines: part.slice(blankLine + 4).split('\r\n') };
    });
}

/**
 * Decodes base64 lines one by one, as a line-by-line decoder would, after checking that each is
 * whole groups of 4 within 76 characters and that only the last is padded.
 */
function decodeLines(lines: string[]): Buffer {
  lines.forEach((line, index) => {
    expect(line).toMatch(index === lines.length - 1 ? /^[A-Za-z0-9+/]*={0,2}$/ : /^[A-Za-z0-9+/]+$/);
    expect(line.length % 4).toBe(0);
    expect(line.length).toBeLessThanOrEqual(76);
  });
  return Buffer.concat(lines.map((line) => Buffer.from(line, 'base64')));
}

describe('base64 bodies for mostly non-ASCII parts', () => {
  const NAME = '%%READER_NAME%%';
  // Placeholders at the very start and end, two adjacent, and fixed runs of 1 and 3 bytes between.
  const text = `${UNSUBSCRIBE}${UNSUBSCRIBE}开头紧挨着两个链接。\n${'第二段：中文夹着 ASCII 文字。'.repeat(12)}\n\n中间${UNSUBSCRIBE}a${NAME}中${UNSUBSCRIBE}\r\n结尾，${NAME}：${UNSUBSCRIBE}`;
  const html = `${UNSUBSCRIBE}<p>${NAME}，${'滚动升级的过程和检查清单。'.repeat(30)}</p>\n<p><a href="${UNSUBSCRIBE}">退订</a></p>${UNSUBSCRIBE}${UNSUBSCRIBE}`;
  const message = JSON.parse(
    JSON.stringify(
      compileMessage({ subject: '集群升级手记', html, text, lang: 'zh-CN' }, sender, {
        listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE },
        placeholders: [UNSUBSCRIBE, NAME],
      }),
    ),
  ) as CompiledMessage;
  const fill = (body: string, url: string, name: string) => body.replaceAll(UNSUBSCRIBE, url).replaceAll(NAME, name);

  it('splices values of every length into one compiled message and decodes byte for byte, line by line and with mailparser', async () => {
    // Every length mod 3, and one longer than the buffer values are first encoded in.
    for (const length of [40, 41, 42, 43, 44, 45, 3000]) {
      // The URL's length mod 3 and the name's move independently; `&` grows the URL in the html.
      const url = `https://news.example.cn/u?a=1&t=${'x'.repeat(length - 32)}`;
      const name = `读者${'x'.repeat(Math.floor((length - 40) / 2) % 3)}`;
      const raw = personalise(message, { to: 'reader@example.com', values: { [UNSUBSCRIBE]: url, [NAME]: name } });
      const [plain, rich] = bodyParts(raw);
      expect([plain!.encoding, rich!.encoding]).toEqual(['base64', 'base64']);
      const sentText = fill(text, url, name).replace(/\r?\n/g, '\r\n');
      const sentHtml = fill(html, url.replaceAll('&', '&amp;'), name).replace(/\r?\n/g, '\r\n');
      expect(decodeLines(plain!.lines).equals(Buffer.from(sentText))).toBe(true);
      expect(decodeLines(rich!.lines).equals(Buffer.from(sentHtml))).toBe(true);
      const mail = await simpleParser(raw);
      expect(mail.text).toBe(sentText.replaceAll('\r\n', '\n'));
      expect(mail.html).toBe(sentHtml.replaceAll('\r\n', '\n'));
      expect((mail.headers.get('list') as Record<string, { url: string }>).unsubscribe!.url).toBe(url);
    }
  });

  it('keeps an English post quoted-printable and readable, choosing per part', async () => {
    const english = 'Rolling upgrades, step by step, with the checklist we use.';
    const raw = personalise(
      compileMessage(
        {
          subject: 's',
          html: `<p>${english}</p><a href="${UNSUBSCRIBE}">Unsubscribe</a>`,
          text: `${english}\n${UNSUBSCRIBE}`,
          lang: 'en',
        },
        sender,
        { placeholders: [UNSUBSCRIBE] },
      ),
      { to: 'reader@example.com', values: { [UNSUBSCRIBE]: tokenUrl('abc') } },
    );
    expect(bodyParts(raw).map((part) => part.encoding)).toEqual(['quoted-printable', 'quoted-printable']);
    expect(raw.toString('latin1')).toContain(english);
    const mail = await simpleParser(raw);
    expect(mail.text).toBe(`${english}\n${tokenUrl('abc')}`);

    const mixed = personalise(
      compileMessage({ subject: 's', html, text: english, lang: 'zh-CN' }, sender, { placeholders: [] }),
      { to: 'reader@example.com', values: {} },
    );
    expect(bodyParts(mixed).map((part) => part.encoding)).toEqual(['quoted-printable', 'base64']);
  });

  it('sends a Chinese post at about 4/3 of its UTF-8 size and stores it compactly', () => {
    const sentence =
      '静态博客的读者越来越多地通过电子邮件阅读新文章，因此推送通讯需要既快又可靠，每位订阅者只收到一次。';
    const longHtml = `<html><body>${Array.from({ length: 30 }, (_, index) => `<p style="margin:0 0 16px">${index + 1}. ${sentence}</p>`).join('\n')}<a href="${UNSUBSCRIBE}">退订</a></body></html>`;
    const longText = `${Array.from({ length: 30 }, (_, index) => `${index + 1}. ${sentence}`).join('\n\n')}\n\n退订：${UNSUBSCRIBE}\n`;
    const compiled = compileMessage(
      { subject: '静态博客的邮件通讯', html: longHtml, text: longText, lang: 'zh-CN' },
      sender,
      {
        listUnsubscribe: { urlPlaceholder: UNSUBSCRIBE },
        placeholders: [UNSUBSCRIBE],
      },
    );
    const bodyBytes = Buffer.byteLength(longHtml) + Buffer.byteLength(longText);
    // Quoted-printable made it about 2.8 times.
    expect(
      personalise(compiled, { to: 'reader@example.com', values: { [UNSUBSCRIBE]: tokenUrl('abc') } }).length,
    ).toBeLessThan(1.6 * bodyBytes);
    // The stored message keeps the text: base64 of it alone would be 4/3, one per alignment 4 times.
    expect(Buffer.byteLength(JSON.stringify(compiled))).toBeLessThan(1.2 * bodyBytes);
  });

  it('says which value is missing when the placeholder is only in a body', () => {
    const compiled = compileMessage({ subject: 's', html, text, lang: 'zh-CN' }, sender, {
      placeholders: [UNSUBSCRIBE, NAME],
    });
    expect(() => personalise(compiled, { to: 'a@example.com', values: { [UNSUBSCRIBE]: tokenUrl('x') } })).toThrow(
      /READER_NAME/,
    );
  });

  it('refuses a message compiled in an unknown format, and still reads one stored as v1 (quoted-printable only)', async () => {
    const unknown = { ...message, format: 'pushletter.message.v9' } as unknown as CompiledMessage;
    expect(isReadableMessage(unknown)).toBe(false);
    expect(() =>
      personalise(unknown, { to: 'a@example.com', values: { [UNSUBSCRIBE]: tokenUrl('x'), [NAME]: 'n' } }),
    ).toThrow(/Unknown compiled message format/);
    const english = compileMessage(
      { subject: 's', html: `<a href="${UNSUBSCRIBE}">u</a>`, text: UNSUBSCRIBE, lang: 'en' },
      sender,
      { placeholders: [UNSUBSCRIBE] },
    );
    const v1 = { ...english, format: 'pushletter.message.v1' } as unknown as CompiledMessage;
    const mail = await simpleParser(personalise(v1, { to: 'a@example.com', values: { [UNSUBSCRIBE]: tokenUrl('x') } }));
    expect(mail.text?.trim()).toBe(tokenUrl('x'));
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
