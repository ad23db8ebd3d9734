import type { ReaderLanguage } from '../../templates/reader-strings';

/**
 * Every word of `pushletter report`, in the site's language. `{n}`, `{date}`, `{limit}` and
 * the like are filled by the renderer; nothing here is HTML.
 */
export interface ReportStrings {
  htmlLang: string;
  title: string;
  generated: string;
  trackingOff: string;
  trackingAggregate: string;
  privacy: string;
  rates: {
    heading: string;
    bounce30d: string;
    complaint30d: string;
    ofSent: string;
    nothingSent: string;
    sesReview: string;
    gmailSpam: string;
    ok: string;
    near: string;
    over: string;
    perPostBounce: string;
    perPostComplaint: string;
    rateAxis: string;
  };
  list: {
    heading: string;
    active: string;
    signups: string;
    confirmations: string;
    unsubscribes: string;
    last30: string;
    activeChart: string;
    changesChart: string;
    empty: string;
  };
  posts: {
    heading: string;
    empty: string;
    sentAt: string;
    notSentYet: string;
    recipients: string;
    sent: string;
    delivered: string;
    clicks: string;
    funnel: string;
    funnelWithClicks: string;
    bouncedPermanent: string;
    bouncedTransient: string;
    complained: string;
    rejected: string;
    delayed: string;
    unsubscribed: string;
    notFor: string;
    notForReasons: Record<string, string>;
    opens: string;
    opensNote: string;
  };
  links: {
    heading: string;
    off: string;
    empty: string;
    chart: string;
    human: string;
    machine: string;
    /** Table headings: the chart's legend says the rest. */
    humanColumn: string;
    total: string;
    link: string;
    estimate: string;
  };
}

const en: ReportStrings = {
  htmlLang: 'en',
  title: '{site}: newsletter report',
  generated: 'Figures as of {date}.',
  trackingOff: 'Click tracking is off: only what SES reports about delivery is counted.',
  trackingAggregate: 'Click tracking is aggregate: clicks are counted per post and link, never per reader.',
  privacy: 'Nothing in this report names or counts one reader.',
  rates: {
    heading: 'Bounces and complaints against the limits',
    bounce30d: 'Bounce rate, last 30 days',
    complaint30d: 'Complaint rate, last 30 days',
    ofSent: '{count} of {sent} emails sent',
    nothingSent: 'Nothing was sent in the last 30 days.',
    sesReview: 'SES reviews the account at {limit}',
    gmailSpam: "Gmail's spam limit is {limit}",
    ok: 'well below the limit',
    near: 'more than half way to the limit: clean the list',
    over: 'at or above the limit',
    perPostBounce: 'Bounce rate per post (permanent bounces / sent)',
    perPostComplaint: 'Complaint rate per post (complaints / sent)',
    rateAxis: 'rate',
  },
  list: {
    heading: 'The list',
    active: 'Active subscribers',
    signups: 'Signups',
    confirmations: 'Confirmations',
    unsubscribes: 'Unsubscribes',
    last30: 'last 30 days',
    activeChart: 'Active subscribers at the end of each day',
    changesChart: 'Signups and unsubscribes per day',
    empty: 'No list figures yet: they appear from the first signup on.',
  },
  posts: {
    heading: 'Posts',
    empty: 'No post has been sent yet. Publish one and its figures appear here.',
    sentAt: 'sent {date}',
    notSentYet: 'not sent yet',
    recipients: 'Recipients',
    sent: 'Sent',
    delivered: 'Delivered',
    clicks: 'Clicks',
    funnel: 'Recipients, copies sent, copies delivered',
    funnelWithClicks: 'Recipients, copies sent, copies delivered, clicks by people (estimated)',
    bouncedPermanent: 'Bounced (permanent)',
    bouncedTransient: 'Bounced (temporary)',
    complained: 'Complaints',
    rejected: 'Rejected by SES',
    delayed: 'Delayed',
    unsubscribed: 'Unsubscribed from this post',
    notFor: 'Active subscribers it was not for ({reason})',
    notForReasons: { topics: 'other topics', digest: 'digest readers' },
    opens: 'Opens (approximate)',
    opensNote: 'Approximate: mail providers fetch images for their readers, and some block them.',
  },
  links: {
    heading: 'Top links',
    off: 'Clicks are not counted: tracking is off. With tracking set to aggregate, each post link counts its clicks, with nothing that tells readers apart.',
    empty: 'No clicks counted yet.',
    chart: 'Clicks per link: estimated people and machines',
    human: 'People (estimated)',
    machine: 'Machines',
    humanColumn: 'People',
    total: 'All',
    link: 'Link',
    estimate:
      'Mail scanners follow links before readers do. Each email carries one link no person sees: what follows it is a scanner, and as many requests as scanners made there are taken off every link of the post, along with HEAD requests and known scanner programs.',
  },
};

const zhCN: ReportStrings = {
  htmlLang: 'zh-CN',
  title: '{site}：订阅报告',
  generated: '数据截至 {date}。',
  trackingOff: '点击统计已关闭：只统计 SES 报告的投递情况。',
  trackingAggregate: '点击统计为汇总模式：按文章和链接计数，从不按读者计数。',
  privacy: '本报告中没有任何数字指向或统计某一位读者。',
  rates: {
    heading: '退信率与投诉率对照限值',
    bounce30d: '近 30 天退信率',
    complaint30d: '近 30 天投诉率',
    ofSent: '已发送 {sent} 封中的 {count} 封',
    nothingSent: '近 30 天没有发送邮件。',
    sesReview: 'SES 在 {limit} 时审查账户',
    gmailSpam: 'Gmail 的垃圾邮件限值为 {limit}',
    ok: '远低于限值',
    near: '已超过限值的一半：请清理名单',
    over: '已达到或超过限值',
    perPostBounce: '每篇文章的退信率（永久退信 / 已发送）',
    perPostComplaint: '每篇文章的投诉率（投诉 / 已发送）',
    rateAxis: '比率',
  },
  list: {
    heading: '订阅名单',
    active: '有效订阅者',
    signups: '新订阅',
    confirmations: '确认订阅',
    unsubscribes: '退订',
    last30: '近 30 天',
    activeChart: '每天结束时的有效订阅者',
    changesChart: '每天的新订阅与退订',
    empty: '还没有名单数据：从第一位订阅者起开始统计。',
  },
  posts: {
    heading: '文章',
    empty: '还没有发送过文章。发布一篇后，这里会显示它的数据。',
    sentAt: '发送于 {date}',
    notSentYet: '尚未发送',
    recipients: '收件人',
    sent: '已发送',
    delivered: '已送达',
    clicks: '点击',
    funnel: '收件人、已发送、已送达',
    funnelWithClicks: '收件人、已发送、已送达、真人点击（估计）',
    bouncedPermanent: '退信（永久）',
    bouncedTransient: '退信（临时）',
    complained: '投诉',
    rejected: '被 SES 拒绝',
    delayed: '延迟',
    unsubscribed: '通过本文退订',
    notFor: '不属于本文对象的有效订阅者（{reason}）',
    notForReasons: { topics: '其他主题', digest: '摘要读者' },
    opens: '打开（近似值）',
    opensNote: '近似值：邮件服务商会替读者预取图片，也有读者屏蔽图片。',
  },
  links: {
    heading: '热门链接',
    off: '未统计点击：点击统计已关闭。设为汇总模式后，每篇文章的每个链接都会计数，但不会区分读者。',
    empty: '还没有统计到点击。',
    chart: '每个链接的点击：估计的真人与机器',
    human: '真人（估计）',
    machine: '机器',
    humanColumn: '真人',
    total: '全部',
    link: '链接',
    estimate:
      '邮件安全扫描器会先于读者打开链接。每封邮件都带有一个读者看不到的链接：访问它的是扫描器；文章每个链接的计数都会减去扫描器在那里的请求数，HEAD 请求和已知扫描程序的请求也不计入真人。',
  },
};

export const REPORT_STRINGS: Record<ReaderLanguage, ReportStrings> = { en, 'zh-CN': zhCN };

/** Fills `{name}` placeholders; a value is inserted as is, so escape before or after as needed. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
