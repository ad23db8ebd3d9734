import { describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import { choiceProblemText, signupPage } from '../../functions/http/pages';
import { readFieldValues } from '../../functions/http/request';
import type { HttpRequest } from '../../functions/http/types';
import { checkChoices } from '../../functions/subscribers/choices';

const offered = parseTopics(
  '[{"name":"旅行","en":"Travel","zh":"旅行"},{"name":"rust","en":"Rust","zh":"Rust 编程"},{"name":"photos"}]',
);
const en = { lang: 'en' as const, siteTitle: 'Field Notes', siteUrl: 'https://blog.example.com' };
const zh = { ...en, lang: 'zh-CN' as const };

function post(body: string, type: string): HttpRequest {
  return {
    method: 'POST',
    path: '/subscribe',
    query: new URLSearchParams(),
    headers: { 'content-type': type },
    body: Buffer.from(body, 'utf8'),
    bodyTooLarge: false,
    clientIp: '127.0.0.1',
  };
}

describe('reading the topics a signup sends', () => {
  it('takes a repeated form field, a JSON array or a single JSON string, and tells a missing field from an empty one', () => {
    const form = 'email=a%40example.com&topics=&topics=%E6%97%85%E8%A1%8C&topics=rust';
    expect(readFieldValues(post(form, 'application/x-www-form-urlencoded'), 'topics')).toEqual(['', '旅行', 'rust']);
    expect(
      readFieldValues(post('email=a%40example.com', 'application/x-www-form-urlencoded'), 'topics'),
    ).toBeUndefined();
    expect(readFieldValues(post('{"topics":["旅行",7]}', 'application/json'), 'topics')).toEqual(['旅行', '7']);
    expect(readFieldValues(post('{"topics":"rust"}', 'application/json'), 'topics')).toEqual(['rust']);
    expect(readFieldValues(post('{"topics":[]}', 'application/json'), 'topics')).toEqual([]);
    expect(readFieldValues(post('{"email":"a@example.com"}', 'application/json'), 'topics')).toBeUndefined();
  });
});

describe('checking a signup against the offered topics', () => {
  it('keeps a subset under the names the editor gave, matched without case or Unicode form differences', () => {
    expect(checkChoices({ topics: ['', 'RUST', '旅行'.normalize('NFD')], frequency: 'digest' }, offered)).toEqual({
      choices: { topics: ['旅行', 'rust'], frequency: 'digest' },
    });
  });

  it('stores no topics when every offered topic is ticked, so topics added later reach the reader too', () => {
    expect(checkChoices({ topics: ['', '旅行', 'rust', 'photos', 'rust'], frequency: 'post' }, offered)).toEqual({
      choices: { frequency: 'post' },
    });
  });

  it('takes a signup without the fields as every post, each post', () => {
    expect(checkChoices({}, offered)).toEqual({ choices: {} });
    expect(checkChoices({ topics: [''] }, [])).toEqual({ choices: {} });
  });

  it('refuses an unknown topic or frequency, naming the value, and a form with every topic unticked', () => {
    expect(checkChoices({ topics: ['旅行', 'golang'] }, offered)).toEqual({
      problem: { kind: 'unknownTopic', value: 'golang' },
    });
    expect(checkChoices({ topics: ['rust'] }, [])).toEqual({ problem: { kind: 'unknownTopic', value: 'rust' } });
    expect(checkChoices({ topics: [''] }, offered)).toEqual({ problem: { kind: 'noTopic' } });
    expect(checkChoices({ topics: [] }, offered)).toEqual({ problem: { kind: 'noTopic' } });
    expect(checkChoices({ frequency: 'daily' }, offered)).toEqual({
      problem: { kind: 'unknownFrequency', value: 'daily' },
    });
    const long = checkChoices({ topics: ['x'.repeat(500)] }, offered);
    expect('problem' in long && long.problem.kind === 'unknownTopic' && long.problem.value.length).toBeLessThan(70);
  });

  it('says what is wrong in the page language, with what is offered', () => {
    expect(choiceProblemText(en, { kind: 'unknownTopic', value: 'golang' }, offered)).toBe(
      'There is no topic "golang" to choose. The topics are: "旅行" (Travel), "rust" (Rust), "photos".',
    );
    expect(choiceProblemText(zh, { kind: 'unknownTopic', value: 'golang' }, offered)).toBe(
      '没有可选的主题“golang”。可选的主题有：“旅行”、“rust”（Rust 编程）、“photos”。',
    );
    expect(choiceProblemText(en, { kind: 'unknownTopic', value: 'rust' }, [])).toContain('offers no topics');
    expect(choiceProblemText(zh, { kind: 'unknownFrequency', value: 'daily' }, offered)).toContain(
      '“daily”不是可选的接收频率',
    );
    expect(choiceProblemText(en, { kind: 'noTopic' }, offered)).toBe(
      'Tick at least one topic (all of them to get every post).',
    );
  });
});

describe('the signup form', () => {
  it('shows the offered topics ticked, labelled in the page language, and every post chosen', () => {
    const page = signupPage(zh, undefined, undefined, { offered });
    expect(page.match(/type="checkbox" name="topics" value="[^"]+" checked/g)).toHaveLength(3);
    expect(page).toContain('value="rust" checked> Rust 编程</label>');
    expect(signupPage(en, undefined, undefined, { offered })).toContain('value="旅行" checked> Travel</label>');
    expect(page).toMatch(/value="post" checked> 每篇文章/);
    expect(page).toMatch(/value="digest"> 每周摘要/);
  });

  it('without topics offered has no topic boxes, only the frequency', () => {
    const page = signupPage(en, undefined, undefined, { offered: [] });
    expect(page).not.toContain('name="topics"');
    expect(page).toContain('name="frequency" value="post" checked');
  });

  it('shown again after a wrong address keeps the choices, and so does the one-click correction', () => {
    const page = signupPage(
      en,
      { message: 'gmial.com looks like a typo', email: 'ada@gmial.com', suggestion: 'ada@gmail.com' },
      undefined,
      { offered, chosen: { topics: ['rust'], frequency: 'digest' } },
    );
    expect(page.match(/type="checkbox" name="topics" value="[^"]+" checked/g)).toEqual([
      'type="checkbox" name="topics" value="rust" checked',
    ]);
    expect(page).toContain('value="digest" checked');
    const correction = page.slice(page.indexOf('class="suggestion"'));
    expect(correction).toContain('<input type="hidden" name="topics" value="rust">');
    expect(correction).toContain('<input type="hidden" name="frequency" value="digest">');
  });

  it('escapes topic names and labels', () => {
    const page = signupPage(en, undefined, undefined, {
      offered: parseTopics('[{"name":"a\\"><b>","en":"<i>x</i>"}]'),
    });
    expect(page).toContain('value="a&quot;&gt;&lt;b&gt;"');
    expect(page).toContain('&lt;i&gt;x&lt;/i&gt;');
  });
});

describe('a hostile value in a message', () => {
  it('is repeated as written, never read as a replacement pattern', () => {
    expect(choiceProblemText(en, { kind: 'unknownFrequency', value: "$&$'" }, offered)).toMatch(/^"\$&\$'" is not/);
  });
});

describe('the topics setting (PUSHLETTER_TOPICS)', () => {
  it('reads names separated by commas, each its own label, and the JSON list the stack passes', () => {
    expect(parseTopics(' 旅行, rust ,')).toEqual([
      { name: '旅行', en: '旅行', zh: '旅行' },
      { name: 'rust', en: 'rust', zh: 'rust' },
    ]);
    expect(parseTopics('[{"name":"travel","en":"Travel","zh":"旅行"},{"name":"rust"}]')).toEqual([
      { name: 'travel', en: 'Travel', zh: '旅行' },
      { name: 'rust', en: 'rust', zh: 'rust' },
    ]);
    expect(parseTopics(undefined)).toEqual([]);
  });

  it('refuses what it cannot read, saying what to write instead', () => {
    expect(() => parseTopics('{"name":"travel"}')).toThrow(/PUSHLETTER_TOPICS must be a JSON list of topics/);
    expect(() => parseTopics('[{"name":"travel"')).toThrow(/PUSHLETTER_TOPICS is not valid JSON/);
    expect(() => parseTopics('[{"en":"Travel"}]')).toThrow(/topic 1 needs a "name"/);
    expect(() => parseTopics('Rust, rust')).toThrow(/names "rust" twice/);
  });
});
