import { describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import { InvalidInputError } from '../../functions/commons/errors';
import {
  csvField,
  exportHeader,
  exportRow,
  neutraliseFormula,
  parseCsvRecords,
  parseImportCsv,
} from '../../functions/subscribers/csv';

const utf8 = (text: string) => Buffer.from(text, 'utf8');

function csvFailure(bytes: Uint8Array): string {
  try {
    parseImportCsv(bytes, 'list.csv');
  } catch (error) {
    if (error instanceof InvalidInputError && error.code === 'CSV_INVALID') return error.message;
    throw error;
  }
  throw new Error('the file was accepted');
}

describe('CSV records', () => {
  it('handles quotes, doubled quotes, delimiters and line breaks inside quotes, CRLF and a missing final newline', () => {
    const text =
      'email,name\r\n"a@example.org","Doe, Jane"\r\nb@example.org,"She said ""hi""\nand left"\nc@example.org,plain';
    expect(parseCsvRecords(text)).toEqual([
      { line: 1, fields: ['email', 'name'] },
      { line: 2, fields: ['a@example.org', 'Doe, Jane'] },
      { line: 3, fields: ['b@example.org', 'She said "hi"\nand left'] },
      { line: 5, fields: ['c@example.org', 'plain'] },
    ]);
  });

  it('skips blank lines but keeps counting them for line numbers', () => {
    expect(parseCsvRecords('email\n\n\na@example.org\n\n')).toEqual([
      { line: 1, fields: ['email'] },
      { line: 4, fields: ['a@example.org'] },
    ]);
  });

  it('names the line of a quote that is never closed', () => {
    expect(() => parseCsvRecords('email\n"a@example.org\nb@example.org\n')).toThrow(
      /line 2: a quoted field is never closed/,
    );
  });
});

describe('import file parsing', () => {
  it('validates every row, reports invalid ones with line numbers and merges duplicates case-insensitively', () => {
    const parsed = parseImportCsv(
      utf8(
        '\uFEFFName,E-Mail,Created,lang\nJane,Jane@Example.org,2024-02-03,zh-CN\nBob,bob@gmial.com,,\nJoe,,,\nJanet,jane@example.ORG,2025-01-01,en\n"Eve, Jr.",eve@example.org,03/04/2025,??\n',
      ),
    );
    expect(parsed.rows).toEqual([
      { line: 2, email: 'jane@example.org', createdAt: '2024-02-03T00:00:00.000Z', lang: 'zh-CN', name: 'Jane' },
      { line: 6, email: 'eve@example.org', name: 'Eve, Jr.' },
    ]);
    expect(parsed.invalid).toEqual([
      { line: 3, value: 'bob@gmial.com', reason: '"gmial.com" looks like a typo (probably bob@gmail.com)' },
      { line: 4, value: '', reason: 'no address in the email column' },
    ]);
    expect(parsed.duplicates).toEqual([{ line: 5, firstLine: 2 }]);
  });

  it('reads semicolon- and tab-separated exports from spreadsheets', () => {
    expect(parseImportCsv(utf8('name;email\nJane;jane@example.org\n')).rows.map((row) => row.email)).toEqual([
      'jane@example.org',
    ]);
    expect(parseImportCsv(utf8('email\tname\njane@example.org\tJane\n')).rows.map((row) => row.email)).toEqual([
      'jane@example.org',
    ]);
    expect(parseImportCsv(utf8('sep=;\nname;email\n"Doe, Jane";jane@example.org\n')).rows).toEqual([
      { line: 3, email: 'jane@example.org', name: 'Doe, Jane' },
    ]);
  });

  it('refuses a header-injection address in a row like any other invalid address', () => {
    const parsed = parseImportCsv(utf8('email\n"a@example.org\r\nBcc: all@example.org"\nb@example.org\n'));
    expect(parsed.rows.map((row) => row.email)).toEqual(['b@example.org']);
    expect(parsed.invalid[0]).toMatchObject({ line: 2, reason: 'an email address must be on one line' });
  });

  it('words row problems for the editor, not for the reader the address belongs to', () => {
    const parsed = parseImportCsv(utf8('email\nada.example.com\n\n"Ada <ada@example.com>"\n"ada\u0007@example.com"\n'));
    expect(parsed.invalid).toEqual([
      { line: 2, value: 'ada.example.com', reason: 'the address has no @' },
      {
        line: 4,
        value: 'Ada <ada@example.com>',
        reason: 'the cell holds a name or angle brackets besides the address (probably ada@example.com)',
      },
      { line: 5, value: 'ada\u0007@example.com', reason: 'the address contains an invisible control character' },
    ]);
    for (const row of parsed.invalid) expect(row.reason).not.toMatch(/\byour?\b|type it again/i);
  });

  it('keeps a name column for greetings and names the columns it ignores', () => {
    const parsed = parseImportCsv(
      utf8(
        'Email,Company,姓名,Notes,lang\nada@example.com,Analytical Engines,"Ada\nLovelace",,en\nli@example.cn,,李雷,vip,zh-CN\nx@example.org,,,,\n',
      ),
    );
    expect(parsed.rows).toEqual([
      { line: 2, email: 'ada@example.com', name: 'Ada Lovelace', lang: 'en' },
      { line: 4, email: 'li@example.cn', name: '李雷', lang: 'zh-CN' },
      { line: 5, email: 'x@example.org' },
    ]);
    expect(parsed.ignoredColumns).toEqual(['Company', 'Notes']);
    expect(parseImportCsv(utf8('email,name\na@example.org,a@example.org\n')).rows[0]!.name).toBeUndefined();
  });

  it('explains files it cannot read', () => {
    expect(csvFailure(new Uint8Array())).toMatch(/list\.csv is empty/);
    expect(csvFailure(utf8('\n\n'))).toMatch(/has no rows/);
    expect(csvFailure(utf8('name,created\nJane,2024-01-01\n'))).toMatch(/no "email" column .*found: "name", "created"/);
    expect(csvFailure(utf8('jane@example.org\nbob@example.org\n'))).toMatch(/no header row: add a first line "email"/);
    expect(
      csvFailure(
        Buffer.from([
          0x65, 0x6d, 0x61, 0x69, 0x6c, 0x0a, 0xd6, 0xd0, 0xce, 0xc4, 0x40, 0x71, 0x71, 0x2e, 0x63, 0x6f, 0x6d,
        ]),
      ),
    ).toMatch(/not UTF-8.*CSV UTF-8/);
    expect(csvFailure(Buffer.from('\uFEFFemail\n', 'utf16le'))).toMatch(/UTF-16/);
    expect(csvFailure(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]))).toMatch(/binary file/);
  });

  it('accepts a header-only file as nothing to import', () => {
    expect(parseImportCsv(utf8('email\n'))).toEqual({ rows: [], invalid: [], duplicates: [], ignoredColumns: [] });
  });
});

describe('CSV export', () => {
  it('quotes only fields that need it and writes CRLF lines a spreadsheet opens', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(undefined)).toBe('');
    expect(exportHeader()).toBe(
      'email,name,state,created,confirmed,unsubscribed,suppressed,consent_at,consent_source,lang,topics,frequency\r\n',
    );
    const line = exportRow({
      id: 'x',
      email: 'jane@example.org',
      state: 'active',
      createdAt: '2024-01-01T00:00:00.000Z',
      confirmedAt: '2024-01-02T00:00:00.000Z',
      consent: { at: '2024-01-01T00:00:00.000Z', source: 'partner list, "spring"' },
      lang: 'en',
      name: 'Jane "JD" Doe',
    });
    expect(line).toBe(
      'jane@example.org,"Jane ""JD"" Doe",active,2024-01-01T00:00:00.000Z,2024-01-02T00:00:00.000Z,,,2024-01-01T00:00:00.000Z,"partner list, ""spring""",en,,post\r\n',
    );
    // What export writes, import reads back.
    const parsed = parseImportCsv(utf8(exportHeader() + line));
    expect(parsed.rows).toEqual([
      {
        line: 2,
        email: 'jane@example.org',
        createdAt: '2024-01-01T00:00:00.000Z',
        lang: 'en',
        name: 'Jane "JD" Doe',
        frequency: 'post',
      },
    ]);
    expect(parsed.ignoredColumns).toEqual([
      'state',
      'confirmed',
      'unsubscribed',
      'suppressed',
      'consent_at',
      'consent_source',
    ]);
  });

  it('neutralises cells a spreadsheet would run as a formula, and reads its own export back', () => {
    const line = exportRow({
      id: 'x',
      email: '=1+2@example.org',
      state: 'active',
      createdAt: '2024-01-01T00:00:00.000Z',
      consent: { at: '2024-01-01T00:00:00.000Z', source: '@SUM(A1:A9)' },
      lang: 'en',
    });
    const cells = parseCsvRecords(line.trimEnd())[0]!.fields;
    expect(cells[0]).toBe("'=1+2@example.org");
    // email, name, state, created, confirmed, unsubscribed, suppressed, consent at, consent source
    expect(cells[8]).toBe("'@SUM(A1:A9)");
    for (const dangerous of ['=cmd', '+1', '-1', '@x', '\tx', '\rx']) {
      expect(neutraliseFormula(dangerous)).toBe(`'${dangerous}`);
    }
    for (const harmless of ['jane@example.org', 'form', "'already"]) expect(neutraliseFormula(harmless)).toBe(harmless);
    const parsed = parseImportCsv(utf8(exportHeader() + line));
    expect(parsed.rows[0]?.email).toBe('=1+2@example.org');
  });
});

describe('the topics column', () => {
  const offered = parseTopics('旅行, rust, photos');

  it('keeps topics separated by ; or |, under the offered names, and none for an empty cell or every topic', () => {
    const parsed = parseImportCsv(
      utf8(
        'email,topics\na@example.org,旅行;RUST\nb@example.org, rust | photos \nc@example.org,\nd@example.org,"rust;旅行|photos"\n',
      ),
      'list.csv',
      offered,
    );
    expect(parsed.invalid).toEqual([]);
    expect(parsed.ignoredColumns).toEqual([]);
    expect(parsed.rows.map((row) => row.topics)).toEqual([['旅行', 'rust'], ['rust', 'photos'], undefined, undefined]);
  });

  it('makes an unknown topic a row error that says what is offered and how to write it', () => {
    const parsed = parseImportCsv(
      utf8('主题,email\ngolang;rust,a@example.org\n旅行,b@example.org\n'),
      'list.csv',
      offered,
    );
    expect(parsed.rows.map((row) => row.email)).toEqual(['b@example.org']);
    expect(parsed.invalid).toEqual([
      {
        line: 2,
        value: 'golang;rust',
        reason:
          'topic "golang" is not offered (offered: 旅行, rust, photos); separate topics with ; or | and write them as the posts\' front matter does',
      },
    ]);
    const unset = parseImportCsv(utf8('email,topics\na@example.org,rust\n'), 'list.csv');
    expect(unset.invalid[0]?.reason).toMatch(/no topics are set \(cdk\.json "topics" or PUSHLETTER_TOPICS\)/);
  });

  it('exports topics separated by |, which import reads back', () => {
    const line = exportRow({
      id: 'x',
      email: 'li@example.org',
      state: 'active',
      createdAt: '2024-01-01T00:00:00.000Z',
      consent: { at: '2024-01-01T00:00:00.000Z', source: 'form' },
      topics: ['旅行', 'rust'],
    });
    expect(line.trimEnd().endsWith(',旅行|rust,post')).toBe(true);
    expect(parseImportCsv(utf8(exportHeader() + line), 'export.csv', offered).rows[0]?.topics).toEqual([
      '旅行',
      'rust',
    ]);
  });

  it('reads a cell of separators only as every post, as an empty one', () => {
    const parsed = parseImportCsv(utf8('email,topics\na@example.org,;;\nb@example.org, | \n'), 'list.csv', offered);
    expect(parsed.invalid).toEqual([]);
    expect(parsed.rows.map((row) => row.topics)).toEqual([undefined, undefined]);
  });

  it('refuses a file with two topics columns, naming them', () => {
    expect(csvFailure(utf8('email,topics,主题\na@example.org,rust,旅行\n'))).toMatch(
      /has 2 topics columns \("topics", "主题"\); keep one topics column/,
    );
  });
});

describe('the frequency column', () => {
  it("exports each reader's frequency, which import reads back, so a digest reader stays one", () => {
    const line = exportRow({
      id: 'x',
      email: 'li@example.org',
      state: 'active',
      createdAt: '2024-01-01T00:00:00.000Z',
      consent: { at: '2024-01-01T00:00:00.000Z', source: 'form' },
      frequency: 'digest',
    });
    expect(line.trimEnd().endsWith(',digest')).toBe(true);
    expect(parseImportCsv(utf8(exportHeader() + line), 'export.csv').rows[0]?.frequency).toBe('digest');
  });

  it('makes an unknown frequency a row error that says what to write, and an empty cell every post', () => {
    const parsed = parseImportCsv(
      utf8('email,frequency\na@example.org,weekly\nb@example.org,Digest\nc@example.org,\n'),
      'list.csv',
    );
    expect(parsed.rows.map((row) => [row.email, row.frequency])).toEqual([
      ['b@example.org', 'digest'],
      ['c@example.org', undefined],
    ]);
    expect(parsed.invalid).toEqual([
      {
        line: 2,
        value: 'weekly',
        reason:
          'frequency "weekly" is not known: write "post" (every post) or "digest" (the weekly digest), or leave the cell empty for every post',
      },
    ]);
    expect(csvFailure(utf8('email,frequency,频率\na@example.org,post,digest\n'))).toMatch(/has 2 frequency columns/);
  });
});
