import { type PostStats, RATE_LIMITS, type StatsSnapshot } from '../functions/stats/snapshot';

/**
 * StatsSnapshots as `stats --json` gives them, for the report's tests: a list that grew over
 * 60 days and posts sent to it, in English or Chinese, with tracking off or aggregate.
 */
export function emptySnapshot(overrides: Partial<StatsSnapshot> = {}): StatsSnapshot {
  return {
    generatedAt: '2026-12-03T16:00:00.000Z',
    site: { title: 'Field Notes', language: 'en' },
    tracking: 'off',
    opens: false,
    posts: [],
    list: [],
    rates: { bounceRate30d: 0, complaintRate30d: 0, sent30d: 0, limits: RATE_LIMITS },
    ...overrides,
  };
}

export function samplePost(overrides: Partial<PostStats> = {}): PostStats {
  return {
    postId: '2026-11-20-autumn-notes',
    title: 'Autumn notes',
    sentAt: '2026-11-20T08:00:00.000Z',
    recipients: 1200,
    notFor: {},
    sent: 1196,
    delivered: 1180,
    bounced: { permanent: 9, transient: 4 },
    complained: 1,
    rejected: 2,
    delayed: 3,
    unsubscribed: 5,
    ...overrides,
  };
}

export interface SampleOptions {
  language?: 'en' | 'zh-CN';
  tracking?: 'off' | 'aggregate';
  opens?: boolean;
  posts?: number;
}

export function sampleSnapshot(options: SampleOptions = {}): StatsSnapshot {
  const { language = 'en', tracking = 'off', opens = false, posts = 4 } = options;
  const zh = language === 'zh-CN';
  const list = Array.from({ length: 60 }, (_, index) => {
    const date = new Date(Date.UTC(2026, 9, 5) + index * 86_400_000).toISOString().slice(0, 10);
    const signups = 3 + (index % 7);
    return {
      date,
      signups,
      confirmations: signups - 1,
      unsubscribes: index % 5 === 0 ? 2 : index % 3 === 0 ? 1 : 0,
      bounces: index % 11 === 0 ? 1 : 0,
      complaints: index === 40 ? 1 : 0,
      active: 1000 + index * 4,
    };
  });
  const titles = zh
    ? ['集群升级笔记：从 1.28 到 1.31 的一路踩坑', '秋天的读书清单', '欢迎订阅', '关于数据库迁移的一些想法']
    : [
        'Upgrading the cluster, one node at a time',
        'An autumn reading list',
        'Welcome to the newsletter',
        'Notes on moving databases',
      ];
  const postList = Array.from({ length: posts }, (_, index) => {
    const sent = 1200 - index * 40;
    const post = samplePost({
      postId: `2026-11-${String(28 - index * 7).padStart(2, '0')}-post-${index}`,
      title: titles[index % titles.length]!,
      sentAt: new Date(Date.UTC(2026, 10, 28 - index * 7, 8)).toISOString(),
      recipients: sent + 4,
      notFor: index === 0 ? { topics: 130 } : {},
      sent,
      delivered: sent - 12 - index,
      bounced: { permanent: 8 + index * 10, transient: 3 },
      complained: index,
      unsubscribed: 2 + index,
    });
    if (tracking === 'aggregate') {
      post.clicks = {
        hiddenLinkFollows: 40,
        links: [
          { url: `https://notes.example.com/2026/11/post-${index}/`, total: 420, machine: 30, estimatedHuman: 350 },
          {
            url: 'https://github.com/example/project/blob/main/docs/a-rather-long-path/README.md',
            total: 160,
            machine: 12,
            estimatedHuman: 108,
          },
          { url: 'https://example.org/', total: 41, machine: 1, estimatedHuman: 0 },
        ],
      };
    }
    if (opens) post.opens = Math.round(sent * 0.55);
    return post;
  });
  const sent30d = postList.reduce((total, post) => total + post.sent, 0);
  return emptySnapshot({
    site: { title: zh ? '田野笔记' : 'Field Notes', language },
    tracking,
    opens,
    posts: postList,
    list,
    rates: {
      bounceRate30d: postList.reduce((total, post) => total + post.bounced.permanent, 0) / Math.max(1, sent30d),
      complaintRate30d: postList.reduce((total, post) => total + post.complained, 0) / Math.max(1, sent30d),
      sent30d,
      limits: RATE_LIMITS,
    },
  });
}
