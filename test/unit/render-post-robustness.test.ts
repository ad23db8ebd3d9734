import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { InvalidInputError } from '../../functions/commons/errors';
import { parsePost } from '../../functions/render/post';
import { siteFromConfigText } from '../../functions/render/site';

/**
 * Posts are written by people, half-edited, pasted from other tools. Whatever mix of Liquid,
 * Markdown, kramdown and HTML fragments a post holds, parsing either succeeds with safe HTML
 * or refuses the post with an InvalidInputError; it never throws anything else.
 */
const FRAGMENTS = [
  '{%',
  '%}',
  '{{',
  '}}',
  ' raw ',
  ' endraw ',
  ' highlight go ',
  ' endhighlight ',
  'if',
  'for x in y',
  'endfor',
  'endif',
  '```',
  '~~~',
  '\n',
  '\n\n',
  '    ',
  '\t',
  '`',
  '<iframe src="//player.bilibili.com/player.html?aid=1">',
  '</iframe>',
  '<script>',
  '</script>',
  '<a href="javascript:x">',
  '</a>',
  '<img src="" onerror="x()">',
  '![x](',
  ')',
  '[',
  ']',
  '(',
  '{:',
  '{: .c}',
  '{:toc}',
  '[^1]',
  '[^1]: note',
  '*[A]: b',
  '> ',
  '- ',
  '1. ',
  '|a|b|\n|-|-|\n',
  '中文',
  'text',
  '"',
  "'",
  '&amp;',
  '&#0;',
  '\uFFFD',
  'post_url 2024-01-01-x',
  'link a.md',
  'include x.html a=b',
  'gist 1',
  '<!--',
  '-->',
  '<pre>',
  '</pre>',
  '{::comment}',
  '{:/comment}',
  '<',
  '>',
  '#',
  '## h {#id}',
  '\\',
  '$',
  '<style>',
  '<form>',
  'data:image/png,x',
];

/** A fixed-seed generator, so a failure reproduces. */
function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const UNSAFE = /<(script|iframe|style|form)|<[a-z]+[^>]*(href|src)="(javascript|data):|<[a-z]+[^>]* on[a-z]+=/i;

describe('any mix of post syntax', () => {
  it('parses to safe HTML or is refused with a clear error, never a crash', async () => {
    const site = siteFromConfigText(
      'url: https://x.example.org\nbaseurl: /b\npermalink: /:categories/:title/',
      '_config.yml',
      readSettings({}),
    );
    const random = generator(7);
    let parsed = 0;
    for (let round = 0; round < 400; round += 1) {
      let body = 'x ';
      const count = 1 + Math.floor(random() * 40);
      for (let index = 0; index < count; index += 1) body += FRAGMENTS[Math.floor(random() * FRAGMENTS.length)];
      try {
        const post = await parsePost({
          path: '_posts/2024-01-01-mixed.md',
          source: `---\ntitle: Mixed\n---\n\n${body}`,
          site,
        });
        parsed += 1;
        expect(post.bodyHtml, body).not.toMatch(UNSAFE);
        expect(post.bodyHtml, body).not.toContain('PUSHLETTERCODE');
      } catch (error) {
        expect(error, body).toBeInstanceOf(InvalidInputError);
      }
    }
    expect(parsed).toBeGreaterThan(300);
  });
});
