import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/commons/config';
import { parsePost } from '../../functions/render/post';
import { loadSite } from '../../functions/render/site';

const chinesePost = ['---', 'title: 社区动态', '---', '', '本周社区发布了新版本，增加了查询功能。', ''].join('\n');
const englishPost = [
  '---',
  'title: Weekly notes',
  '---',
  '',
  'This week the community shipped a new release.',
  '',
].join('\n');

async function languageOf(source: string, env: Record<string, string> = {}): Promise<string> {
  const settings = readSettings(env);
  const site = await loadSite(undefined, settings);
  const post = await parsePost({ path: '_posts/2024-01-02-notes.md', source, site });
  return post.lang;
}

describe('the language of a post whose site has no _config.yml', () => {
  it('is detected from the text when no language is configured', async () => {
    expect(await languageOf(chinesePost)).toBe('zh-CN');
    expect(await languageOf(englishPost)).toBe('en');
  });

  it('is the configured language when PUSHLETTER_LANGUAGE is set', async () => {
    expect(await languageOf(chinesePost, { PUSHLETTER_LANGUAGE: 'en' })).toBe('en');
  });

  it('is the post’s own lang above everything else', async () => {
    const tagged = chinesePost.replace('title: 社区动态', 'title: 社区动态\nlang: zh-TW');
    expect(await languageOf(tagged, { PUSHLETTER_LANGUAGE: 'en' })).toBe('zh-TW');
  });
});
