import type { SiteConfig } from '../../functions/render/types';

/** Two blogs the email tests render for: a Chinese one at its domain's root, an English one under /blog. */
export const zhSite: SiteConfig = {
  url: 'https://notes.example.cn',
  baseurl: '',
  title: '云栈笔记',
  permalink: 'pretty',
  timezone: 'Asia/Shanghai',
  lang: 'zh-CN',
  data: {},
};
export const enSite: SiteConfig = {
  url: 'https://blog.example.com',
  baseurl: '/blog',
  title: 'Ops Notes',
  permalink: 'date',
  lang: 'en',
  data: {},
};
