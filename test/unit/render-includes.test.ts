import { describe, expect, it } from 'vitest';
import { gatherIncludes, INCLUDE_LIMITS, includeNames } from '../../functions/render/includes';

/** A folder of includes as the reader sees it, counting what was asked for. */
function folder(files: Record<string, string>) {
  const asked: string[] = [];
  const read = async (name: string) => {
    asked.push(name);
    return Object.hasOwn(files, name) ? new TextEncoder().encode(files[name]) : undefined;
  };
  return { asked, read };
}

describe('the includes a post names', () => {
  it('are the names written out in include tags, once each, never a path out of _includes/', () => {
    const text = [
      '{% include note.html %}',
      '{%- include boxes/tip.md title="x" -%}',
      '{% include note.html %}',
      '{% include {{ page.box }} %}',
      '{% include ../_config.yml %}',
      '{% include /etc/passwd %}',
      '{% include_relative side.md %}',
    ].join('\n');
    expect(includeNames(text)).toEqual(['note.html', 'boxes/tip.md']);
  });

  it('are read with the includes they name in turn, each once, and report the missing ones', async () => {
    const { asked, read } = folder({
      'note.html': 'Note {% include sign.html %} {% include note.html %}',
      'sign.html': 'Signed {% include gone.html %}',
    });
    const gathered = await gatherIncludes('{% include note.html %}', read);
    expect(gathered.files).toEqual({
      'note.html': 'Note {% include sign.html %} {% include note.html %}',
      'sign.html': 'Signed {% include gone.html %}',
    });
    expect(gathered.skipped).toEqual([{ name: 'gone.html', reason: 'not in _includes/' }]);
    expect(asked).toEqual(['note.html', 'sign.html', 'gone.html']);
  });

  it('stop at the file count, and leave out a file over the size limits', async () => {
    const names = Array.from({ length: INCLUDE_LIMITS.files + 5 }, (_, index) => `part-${index}.html`);
    const files = Object.fromEntries(names.map((name) => [name, name]));
    files['part-0.html'] = 'x'.repeat(INCLUDE_LIMITS.fileBytes + 1);
    const { asked, read } = folder(files);
    const gathered = await gatherIncludes(names.map((name) => `{% include ${name} %}`).join('\n'), read);
    expect(asked).toHaveLength(INCLUDE_LIMITS.files);
    expect(Object.keys(gathered.files)).toHaveLength(INCLUDE_LIMITS.files - 1);
    expect(gathered.files['part-0.html']).toBeUndefined();
    expect(gathered.skipped.map(({ name }) => name)).toEqual(['part-0.html', ...names.slice(INCLUDE_LIMITS.files)]);
  });

  it('keep the total under its limit', async () => {
    const size = Math.floor(INCLUDE_LIMITS.fileBytes * 0.9);
    const names = ['a.html', 'b.html', 'c.html', 'd.html'];
    const { read } = folder(Object.fromEntries(names.map((name) => [name, 'y'.repeat(size)])));
    const gathered = await gatherIncludes(names.map((name) => `{% include ${name} %}`).join(' '), read);
    const total = Object.values(gathered.files).reduce((sum, text) => sum + text.length, 0);
    expect(total).toBeLessThanOrEqual(INCLUDE_LIMITS.totalBytes);
    expect(Object.keys(gathered.files)).toEqual(names.slice(0, Math.floor(INCLUDE_LIMITS.totalBytes / size)));
  });
});
