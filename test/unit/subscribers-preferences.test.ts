import { describe, expect, it } from 'vitest';
import { parseTopics } from '../../functions/commons/config';
import { InvalidInputError } from '../../functions/commons/errors';
import { PreferencesError, readPreferencesForm, tickedTopics } from '../../functions/subscribers/preferences';

const offered = parseTopics(
  '[{"name":"旅行","en":"Travel","zh":"旅行"},{"name":"Rust","en":"Rust","zh":"Rust 语言"},{"name":"photos"}]',
);

/** The body a browser posts for the form: `topics` once per ticked box. */
function form(fields: [string, string][]): URLSearchParams {
  return new URLSearchParams(new URLSearchParams(fields).toString());
}

function refusal(action: () => unknown): { field: string; code: string } | 'saved' {
  try {
    action();
  } catch (error) {
    if (error instanceof PreferencesError) return { field: error.field, code: error.code };
    throw error;
  }
  return 'saved';
}

describe('the preferences form', () => {
  it('reads repeated topics (Chinese names too), the frequency and the language, by the offered names', () => {
    expect(
      readPreferencesForm(
        form([
          ['topics', '旅行'],
          ['topics', 'rust'],
          ['frequency', 'digest'],
          ['lang', 'zh-CN'],
        ]),
        offered,
      ),
    ).toEqual({ topics: ['旅行', 'Rust'], frequency: 'digest', lang: 'zh-CN' });
  });

  it('stores every topic ticked as none, which means every post, including topics added later', () => {
    const all = offered.map((topic): [string, string] => ['topics', topic.name]);
    expect(readPreferencesForm(form([...all, ['frequency', 'post'], ['lang', 'en']]), offered)).toEqual({
      topics: [],
      frequency: 'post',
      lang: 'en',
    });
    // A box sent twice is still one topic.
    expect(
      readPreferencesForm(
        form([
          ['topics', 'photos'],
          ['topics', 'PHOTOS'],
          ['frequency', 'post'],
          ['lang', 'en'],
        ]),
        offered,
      ).topics,
    ).toEqual(['photos']);
  });

  it('has no topics to read when none are offered', () => {
    expect(
      readPreferencesForm(
        form([
          ['frequency', 'digest'],
          ['lang', 'en'],
        ]),
        [],
      ),
    ).toEqual({ topics: [], frequency: 'digest', lang: 'en' });
  });

  it('refuses what the page does not offer, naming the part of the form to fix', () => {
    const base: [string, string][] = [
      ['frequency', 'post'],
      ['lang', 'en'],
    ];
    expect(refusal(() => readPreferencesForm(form([['topics', 'cooking'], ...base]), offered))).toEqual({
      field: 'topics',
      code: 'PREFERENCES_TOPIC_UNKNOWN',
    });
    expect(refusal(() => readPreferencesForm(form(base), offered))).toEqual({
      field: 'topics',
      code: 'PREFERENCES_NO_TOPIC',
    });
    expect(refusal(() => readPreferencesForm(form([['topics', 'travel'], ...base]), []))).toEqual({
      field: 'topics',
      code: 'PREFERENCES_TOPIC_UNKNOWN',
    });
    for (const frequency of ['daily', '', 'POST'])
      expect(
        refusal(() =>
          readPreferencesForm(
            form([
              ['topics', 'photos'],
              ['frequency', frequency],
              ['lang', 'en'],
            ]),
            offered,
          ),
        ),
      ).toEqual({ field: 'frequency', code: 'PREFERENCES_FREQUENCY_INVALID' });
    for (const lang of ['fr', '', '<script>'])
      expect(
        refusal(() =>
          readPreferencesForm(
            form([
              ['topics', 'photos'],
              ['frequency', 'digest'],
              ['lang', lang],
            ]),
            offered,
          ),
        ),
      ).toEqual({ field: 'lang', code: 'PREFERENCES_LANGUAGE_INVALID' });
    // A repeated frequency or language is refused, not read as its first (or last) value.
    for (const field of ['frequency', 'lang'] as const)
      expect(
        refusal(() =>
          readPreferencesForm(
            form([
              ['topics', 'photos'],
              ['frequency', 'digest'],
              ['lang', 'en'],
              [field, field === 'lang' ? 'zh-CN' : 'post'],
            ]),
            offered,
          ),
        ),
      ).toEqual({ field, code: 'PREFERENCES_FIELD_REPEATED' });
  });

  it('takes every language tag the emails know (zh, zh_CN, en-GB) and stores its canonical value', () => {
    for (const [sent, stored] of [
      ['zh', 'zh-CN'],
      ['zh_CN', 'zh-CN'],
      ['ZH-Hans', 'zh-CN'],
      ['en-GB', 'en'],
    ])
      expect(
        readPreferencesForm(
          form([
            ['topics', 'photos'],
            ['frequency', 'digest'],
            ['lang', sent!],
          ]),
          offered,
        ).lang,
      ).toBe(stored);
  });

  it('explains a refusal in words that say what to choose', () => {
    try {
      readPreferencesForm(
        form([
          ['topics', 'cooking'],
          ['frequency', 'post'],
          ['lang', 'en'],
        ]),
        offered,
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toBe(
        '"cooking" is not one of the topics offered; choose among 旅行, Rust, photos',
      );
    }
  });
});

describe('the topics a stored choice ticks', () => {
  it('ticks every offered topic for a reader who chose none (every post)', () => {
    expect(tickedTopics(undefined, offered)).toEqual(new Set(['旅行', 'Rust', 'photos']));
    expect(tickedTopics([], offered)).toEqual(new Set(['旅行', 'Rust', 'photos']));
  });

  it('ticks the chosen ones, however their case was stored, and forgets topics no longer offered', () => {
    expect(tickedTopics(['rust', 'cooking'], offered)).toEqual(new Set(['Rust']));
  });
});
