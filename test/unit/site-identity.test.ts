import { describe, expect, it } from 'vitest';
import { readSettings, withSiteIdentity } from '../../functions/commons/config';

describe('one site identity', () => {
  it('names the sender after the site unless PUSHLETTER_FROM_NAME says otherwise', () => {
    expect(readSettings({ PUSHLETTER_SITE_TITLE: 'Field Notes' }).fromName).toBe('Field Notes');
    expect(readSettings({ PUSHLETTER_SITE_TITLE: 'Field Notes', PUSHLETTER_FROM_NAME: 'Lin Mei' }).fromName).toBe(
      'Lin Mei',
    );
  });

  it('takes title, address, language and sender name from the blog a local stack serves', () => {
    const identity = { title: '田野笔记', url: 'http://localhost:3000/blog/', language: 'zh-CN' };
    expect(withSiteIdentity(readSettings({}), identity, {})).toMatchObject({
      siteTitle: '田野笔记',
      siteUrl: 'http://localhost:3000/blog',
      language: 'zh-CN',
      fromName: '田野笔记',
    });
    expect(withSiteIdentity(readSettings({}), identity, { PUSHLETTER_FROM_NAME: 'Lin Mei' }).fromName).toBe('Lin Mei');
  });
});
