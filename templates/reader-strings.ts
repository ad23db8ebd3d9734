/**
 * Every sentence a reader sees on the signup, confirm and unsubscribe pages and in the
 * confirmation email, in each supported language. `{site}` is replaced by the site title.
 */
export type ReaderLanguage = 'zh-CN' | 'en';

export const READER_LANGUAGES: readonly ReaderLanguage[] = ['zh-CN', 'en'];

export interface ReaderStrings {
  /** BCP 47 tag for the `lang` attribute. */
  htmlLang: string;
  signup: { title: string; intro: string; label: string; hint: string; button: string; note: string };
  /**
   * The form's topics and frequency, and what is wrong with them when sent by hand: `{value}` is
   * the value sent, `{offered}` the topics on offer.
   */
  choices: {
    topics: string;
    topicsHint: string;
    frequency: string;
    everyPost: string;
    digest: string;
    unknownTopic: string;
    noTopicsOffered: string;
    noTopic: string;
    unknownFrequency: string;
  };
  /**
   * The signup page's first sentence with aggregate tracking (`intro` promises none): exactly
   * what is counted, and that nothing tells readers apart.
   */
  counting: { clicks: string; clicksAndOpens: string };
  checkInbox: { title: string; body: string; spam: string };
  /** The page behind the email's link: one button, so a scanner opening the link confirms nothing. */
  confirmAsk: { title: string; body: string; button: string };
  confirmed: { title: string; body: string };
  alreadyConfirmed: { title: string; body: string };
  confirmInvalid: { title: string; body: string; action: string };
  unsubscribeAsk: { title: string; body: string; button: string };
  unsubscribed: { title: string; body: string; action: string };
  unsubscribeInvalid: { title: string; body: string };
  /** The unsubscribe link of a copy no subscriber received (see subscribers/tokens SAMPLE_TOKENS). */
  unsubscribeSample: { preview: { title: string; body: string }; test: { title: string; body: string } };
  /** The page behind "Manage your subscription" in every email. */
  preferences: {
    title: string;
    intro: string;
    /** Shown to a reader who signed up again and has not confirmed yet. */
    pending: string;
    topics: string;
    topicsHint: string;
    frequency: string;
    everyPost: string;
    digest: string;
    language: string;
    languageHint: string;
    save: string;
    saved: string;
    leave: string;
    leaveBody: string;
    leaveButton: string;
    /** Beside the part of the form that was refused; nothing was saved. */
    refused: { topics: string; frequency: string; lang: string };
    invalid: { title: string; body: string };
    /** A reader no longer mailed: nothing to manage, and what to do instead. */
    unsubscribed: { title: string; body: string; action: string };
    stopped: { title: string; body: string; action: string };
    gone: { title: string; body: string; action: string };
    /** The link of a copy no subscriber received (see subscribers/tokens SAMPLE_TOKENS). */
    sample: { preview: { title: string; body: string }; test: { title: string; body: string } };
  };
  errors: {
    invalidAddress: string;
    /** A button that signs up with the corrected address; `{address}` is the correction. */
    useSuggestion: string;
    notFound: { title: string; body: string };
    methodNotAllowed: { title: string; body: string };
    tooLarge: { title: string; body: string };
    badRequest: { title: string; body: string };
    unsupportedType: { title: string; body: string };
    /** The preferences page posts only its own form-encoded forms. */
    unsupportedPreferencesType: { title: string; body: string };
    server: { title: string; body: string };
    /** `{wait}` is `minutes` or `hours` below, `{time}` the UTC time. */
    tooManySignups: { title: string; body: string };
    minutes: string;
    hours: string;
    captcha: string;
    /** A JSON field sent as a number, list or object; `{field}` is its name. */
    notText: string;
    /** A form field that may be sent once, sent twice; `{field}` is its name. */
    repeated: string;
    errorTitle: string;
  };
  backToSite: string;
  email: {
    subject: string;
    /** Opens the email when the reader's name is known (from an import); `{name}` is the name. */
    greeting: string;
    preview: string;
    heading: string;
    body: string;
    button: string;
    /** What pressing the button does, in one sentence. */
    next: string;
    fallback: string;
    expiry: string;
    ignore: string;
  };
  /** The one reminder a pending signup gets a day later, in the confirmation email's layout. */
  reminder: { subject: string; heading: string; body: string; expiry: string; ignore: string };
  /** The default welcome email, when the blog has no `_newsletter/welcome.md`. */
  welcome: {
    subject: string;
    heading: string;
    intro: string;
    everyPost: string;
    digest: string;
    /** `{topics}` is the reader's topics, joined by `topicSeparator`. */
    topics: string;
    topicSeparator: string;
    /** Topics are offered but the reader chose none. */
    allTopics: string;
    /** How to change choices: the "Manage your subscription" link every email carries. */
    manage: string;
    leave: string;
    visit: string;
    manageLink: string;
    unsubscribeLink: string;
    why: string;
  };
}

const en: ReaderStrings = {
  htmlLang: 'en',
  signup: {
    title: 'Subscribe to {site}',
    intro: 'Get every new post by email. No tracking, and every email has a one-click unsubscribe link.',
    label: 'Email address',
    hint: 'We send a confirmation link first; nothing else arrives until you click it.',
    button: 'Subscribe',
    note: 'Your address is used only to send you new posts from {site}.',
  },
  choices: {
    topics: 'Topics',
    topicsHint: 'Untick what you would rather not get. With every box ticked, new topics reach you too.',
    frequency: 'How often',
    everyPost: 'Every post',
    digest: 'A weekly digest',
    unknownTopic: 'There is no topic "{value}" to choose. The topics are: {offered}.',
    noTopicsOffered: 'There is no topic "{value}" to choose: this newsletter offers no topics, so leave them out.',
    noTopic: 'Tick at least one topic (all of them to get every post).',
    unknownFrequency:
      '"{value}" is not a choice of how often: choose "post" (every post) or "digest" (a weekly digest).',
  },
  counting: {
    clicks:
      'Get every new post by email, each with a one-click unsubscribe link. We count how often each link in a post is clicked, added up over all readers; nothing tells us who clicked.',
    clicksAndOpens:
      'Get every new post by email, each with a one-click unsubscribe link. We count how often each link in a post is clicked, and how often a post is opened (an image in it loads), added up over all readers; nothing tells us who clicked or opened.',
  },
  checkInbox: {
    title: 'Check your inbox',
    body: 'We sent a confirmation link to the address you entered. Click it within 7 days to start receiving posts.',
    spam: 'Nothing there? Look in your spam folder. You can ask for a new link in 10 minutes.',
  },
  confirmAsk: {
    title: 'Confirm your subscription to {site}',
    body: 'Press the button to start receiving new posts from {site} at this address; until you do, nothing changes.',
    button: 'Confirm my subscription',
  },
  confirmed: {
    title: 'You are subscribed',
    body: 'Thank you for confirming. New posts from {site} will arrive in your inbox.',
  },
  alreadyConfirmed: {
    title: 'Already confirmed',
    body: 'This address is already subscribed to {site}. There is nothing more to do.',
  },
  confirmInvalid: {
    title: 'This confirmation link does not work',
    body: 'The link is damaged or more than 7 days old, and nothing was changed. Enter your address again to get a fresh link.',
    action: 'Subscribe again',
  },
  unsubscribeAsk: {
    title: 'Unsubscribe from {site}?',
    body: 'You will stop receiving new posts by email.',
    button: 'Unsubscribe',
  },
  unsubscribed: {
    title: 'You are unsubscribed',
    body: 'You will not receive more emails from {site}. Changed your mind? You can subscribe again at any time.',
    action: 'Subscribe again',
  },
  unsubscribeInvalid: {
    title: 'This unsubscribe link does not work',
    body: 'The link is incomplete or damaged, and nothing was changed. Use the unsubscribe link in the latest email, or reply to that email and ask to be removed.',
  },
  unsubscribeSample: {
    preview: {
      title: 'This is a preview link',
      body: "This unsubscribe link comes from a preview of a {site} email, made with pushletter render. In a sent email it carries the reader's own link and unsubscribes them in one click. Nothing was changed.",
    },
    test: {
      title: 'This was a test copy',
      body: "This email was a test copy or preview of {site} sent to an editor, not an email to a subscriber, so there is no subscription to end and nothing was changed. In the newsletter, each reader's link unsubscribes them in one click.",
    },
  },
  preferences: {
    title: 'Your subscription to {site}',
    intro: 'Choose what you receive and how. Nothing changes until you press "Save my choices".',
    pending:
      'Your subscription is not confirmed yet: nothing is sent until you press the button in the confirmation email. The choices you save here apply from then on.',
    topics: 'Topics',
    topicsHint: 'You receive the posts about the topics you tick. A post about none of them goes to every reader.',
    frequency: 'How often',
    everyPost: 'Every post, as it is published',
    digest: 'A weekly digest of the week’s posts',
    language: 'Language',
    languageHint:
      'Of these pages and of the words around the posts (footer, digest, welcome). Each post is sent in the language it is written in.',
    save: 'Save my choices',
    saved: 'Saved. Your choices apply from the next email.',
    leave: 'Unsubscribe from everything',
    leaveBody: 'Stop every email from {site}. You can subscribe again at any time.',
    leaveButton: 'Unsubscribe from everything',
    refused: {
      topics:
        'Tick at least one of the topics below (the list may have changed), or unsubscribe from everything. Nothing was saved.',
      frequency: 'Choose how often: every post or a weekly digest. Nothing was saved.',
      lang: 'Choose English or 中文. Nothing was saved.',
    },
    invalid: {
      title: 'This link does not work',
      body: 'The link is incomplete or damaged, and nothing was changed. Use the "Manage your subscription" link at the bottom of the latest email from {site}.',
    },
    unsubscribed: {
      title: 'You are unsubscribed',
      body: 'This address no longer receives emails from {site}, so there are no choices to manage, and nothing was changed. To receive posts again, subscribe again.',
      action: 'Subscribe again',
    },
    stopped: {
      title: 'Emails to this address have stopped',
      body: 'Emails from {site} to this address bounced or were reported as spam, so none are sent to it any more, and nothing was changed. To receive posts, subscribe with an address that takes mail.',
      action: 'Subscribe',
    },
    gone: {
      title: 'This address is no longer on the list',
      body: 'This address was removed from {site}, so there are no choices to manage, and nothing was changed. To receive posts again, subscribe again.',
      action: 'Subscribe again',
    },
    sample: {
      preview: {
        title: 'This is a preview link',
        body: 'This link comes from a preview of a {site} email, made with pushletter render. In a sent email it opens the reader’s own page for topics, frequency and language. Nothing was changed.',
      },
      test: {
        title: 'This was a test copy',
        body: 'This email was a test copy or preview of {site} sent to an editor, not an email to a subscriber, so there are no choices to manage and nothing was changed. In the newsletter, each reader’s link opens their own page.',
      },
    },
  },
  errors: {
    invalidAddress: 'Please check the address: ',
    useSuggestion: 'Subscribe {address} instead',
    notFound: { title: 'Page not found', body: 'There is nothing at this address.' },
    methodNotAllowed: { title: 'Not allowed', body: 'This page cannot be used that way.' },
    tooLarge: {
      title: 'Too much data',
      body: 'The request sent more than {limit}, the most this address accepts. Send less and try again.',
    },
    badRequest: {
      title: 'Something is wrong with the form',
      body: 'The data sent could not be read. Go back and try again.',
    },
    unsupportedType: { title: 'Unsupported form', body: 'Send the form as application/x-www-form-urlencoded or JSON.' },
    unsupportedPreferencesType: {
      title: 'Unsupported form',
      body: 'Send the preferences form as application/x-www-form-urlencoded, as the page itself does. JSON is not accepted here.',
    },
    server: { title: 'Something went wrong on our side', body: 'Nothing was lost. Please try again in a few minutes.' },
    tooManySignups: {
      title: 'Too many signups',
      body: 'This network has signed up too many addresses for now. Try again {wait} (after {time} UTC).',
    },
    minutes: 'in about {n} minutes',
    hours: 'in about {n} hours',
    captcha: 'Please complete the check that you are a person, then press Subscribe again.',
    notText: 'The "{field}" field must be text (a JSON string), not a number, list or object.',
    repeated: 'The "{field}" field was sent more than once; send it once.',
    errorTitle: 'Subscription not possible',
  },
  backToSite: 'Back to {site}',
  email: {
    subject: 'Confirm your subscription to {site}',
    greeting: 'Hi {name},',
    preview: 'One click and new posts from {site} come to your inbox.',
    heading: 'Confirm your subscription',
    body: 'Someone, hopefully you, asked to receive new posts from {site} at this address.',
    button: 'Confirm subscription',
    next: 'The button opens a page where one more click on "Confirm my subscription" starts your subscription; opening the link alone changes nothing.',
    fallback: 'If the button does not work, copy this link into your browser:',
    expiry: 'The link works for 7 days.',
    ignore: 'If you did not ask for this, ignore this email: you will not hear from us again.',
  },
  reminder: {
    subject: 'Reminder: confirm your subscription to {site}',
    heading: 'Still want new posts from {site}?',
    body: 'A day ago someone, hopefully you, asked to receive new posts from {site} at this address, and the subscription is not confirmed yet. This is the only reminder.',
    expiry: 'Unconfirmed signups are deleted, address included, 7 days after signing up.',
    ignore: 'If you did not ask for this, ignore this email: you will not hear from us again.',
  },
  welcome: {
    subject: 'Welcome to {site}',
    heading: 'Welcome to {site}',
    intro: 'Thank you for confirming: this address is now subscribed to {site}.',
    everyPost: 'You will receive each new post by email, soon after it is published.',
    digest: "You will receive a weekly digest: one email with the week's new posts, and nothing in a week without any.",
    topics: 'The topics you chose: {topics}. Posts on none of the offered topics come too.',
    topicSeparator: ', ',
    allTopics: 'You chose no topics, so every post comes to you.',
    manage:
      'To change what you receive, how often, or the language of these emails, use "Manage your subscription" at the bottom of any email.',
    leave: 'Every email ends with an unsubscribe link: one click, and nothing more arrives.',
    visit: 'Visit {site}',
    manageLink: 'Manage your subscription',
    unsubscribeLink: 'Unsubscribe',
    why: 'You receive this email because you confirmed your subscription to {site}.',
  },
};

const zhCN: ReaderStrings = {
  htmlLang: 'zh-CN',
  signup: {
    title: '订阅 {site}',
    intro: '每篇新文章都会发到你的邮箱。不做追踪，每封邮件都有一键退订链接。',
    label: '电子邮箱地址',
    hint: '我们会先发送一封确认邮件；点击其中的链接之前，你不会收到其他邮件。',
    button: '订阅',
    note: '你的邮箱地址只用于发送 {site} 的新文章。',
  },
  choices: {
    topics: '主题',
    topicsHint: '取消勾选你不想收到的主题。全部勾选时，以后新增的主题也会发给你。',
    frequency: '接收频率',
    everyPost: '每篇文章',
    digest: '每周摘要',
    unknownTopic: '没有可选的主题“{value}”。可选的主题有：{offered}。',
    noTopicsOffered: '没有可选的主题“{value}”：本通讯不提供主题选择，请不要填写主题。',
    noTopic: '请至少勾选一个主题（全部勾选即接收所有文章）。',
    unknownFrequency: '“{value}”不是可选的接收频率：请选择 "post"（每篇文章）或 "digest"（每周摘要）。',
  },
  counting: {
    clicks:
      '每篇新文章都会发到你的邮箱，每封邮件都有一键退订链接。我们统计每篇文章中每个链接被点击的次数，是所有读者的合计；我们无从知道是谁点击的。',
    clicksAndOpens:
      '每篇新文章都会发到你的邮箱，每封邮件都有一键退订链接。我们统计每篇文章中每个链接被点击的次数，以及文章被打开的次数（邮件中的一张图片加载时计一次），都是所有读者的合计；我们无从知道是谁点击或打开的。',
  },
  checkInbox: {
    title: '请查收邮件',
    body: '我们已向你填写的地址发送了确认链接。请在 7 天内点击链接，开始接收新文章。',
    spam: '没有收到？请检查垃圾邮件文件夹。10 分钟后可以重新申请确认链接。',
  },
  confirmAsk: {
    title: '确认订阅 {site}',
    body: '点击下面的按钮，这个地址就会开始接收 {site} 的新文章；不点击则什么都不会改变。',
    button: '确认订阅',
  },
  confirmed: {
    title: '订阅成功',
    body: '感谢确认。{site} 的新文章会发送到你的邮箱。',
  },
  alreadyConfirmed: {
    title: '已经确认过了',
    body: '这个地址已经订阅了 {site}，无需其他操作。',
  },
  confirmInvalid: {
    title: '确认链接无效',
    body: '链接已损坏或已超过 7 天，订阅状态没有任何改变。请重新填写邮箱地址，获取新的确认链接。',
    action: '重新订阅',
  },
  unsubscribeAsk: {
    title: '退订 {site}？',
    body: '退订后你将不再通过邮件收到新文章。',
    button: '退订',
  },
  unsubscribed: {
    title: '已退订',
    body: '你将不会再收到 {site} 的邮件。改变主意了？随时可以重新订阅。',
    action: '重新订阅',
  },
  unsubscribeInvalid: {
    title: '退订链接无效',
    body: '链接不完整或已损坏，订阅状态没有任何改变。请使用最近一封邮件中的退订链接，或直接回复该邮件要求退订。',
  },
  unsubscribeSample: {
    preview: {
      title: '这是预览中的链接',
      body: '这个退订链接来自用 pushletter render 生成的 {site} 邮件预览。正式发出的邮件里，它是每位读者自己的链接，点击即可退订。订阅状态没有任何改变。',
    },
    test: {
      title: '这是一封测试邮件',
      body: '这封邮件是发给编辑的 {site} 测试或预览邮件，不是发给订阅者的，因此没有可以退订的订阅，订阅状态没有任何改变。正式的通讯里，每位读者的链接点击即可退订。',
    },
  },
  preferences: {
    title: '你对 {site} 的订阅',
    intro: '选择你想收到的内容和方式。点击“保存设置”之前，什么都不会改变。',
    pending: '你的订阅还没有确认：点击确认邮件中的按钮之前，我们不会发送任何邮件。在这里保存的设置会从那时起生效。',
    topics: '主题',
    topicsHint: '你会收到所勾选主题的文章。不属于其中任何主题的文章会发给所有读者。',
    frequency: '频率',
    everyPost: '每篇文章发布时',
    digest: '每周摘要（一周的文章合为一封）',
    language: '语言',
    languageHint: '用于这些页面以及文章之外的文字（页脚、每周摘要、欢迎邮件）。每篇文章仍以其撰写语言发送。',
    save: '保存设置',
    saved: '已保存。设置将从下一封邮件起生效。',
    leave: '退订全部邮件',
    leaveBody: '不再接收 {site} 的任何邮件。随时可以重新订阅。',
    leaveButton: '退订全部邮件',
    refused: {
      topics: '请至少勾选下面的一个主题（主题列表可能已有变化），或退订全部邮件。设置没有保存。',
      frequency: '请选择频率：每篇文章或每周摘要。设置没有保存。',
      lang: '请选择 English 或中文。设置没有保存。',
    },
    invalid: {
      title: '链接无效',
      body: '链接不完整或已损坏，没有任何改变。请使用 {site} 最近一封邮件底部的“管理订阅”链接。',
    },
    unsubscribed: {
      title: '你已退订',
      body: '这个地址已不再接收 {site} 的邮件，因此没有可管理的设置，也没有任何改变。想再次接收文章，请重新订阅。',
      action: '重新订阅',
    },
    stopped: {
      title: '已停止向这个地址发送邮件',
      body: '{site} 发往这个地址的邮件被退回或被标记为垃圾邮件，因此不再向它发送，也没有任何改变。想接收文章，请用能正常收信的地址订阅。',
      action: '订阅',
    },
    gone: {
      title: '这个地址已不在订阅列表中',
      body: '这个地址已从 {site} 的列表中删除，因此没有可管理的设置，也没有任何改变。想再次接收文章，请重新订阅。',
      action: '重新订阅',
    },
    sample: {
      preview: {
        title: '这是预览中的链接',
        body: '这个链接来自用 pushletter render 生成的 {site} 邮件预览。正式发出的邮件里，它会打开每位读者自己的主题、频率和语言设置页面。没有任何改变。',
      },
      test: {
        title: '这是一封测试邮件',
        body: '这封邮件是发给编辑的 {site} 测试或预览邮件，不是发给订阅者的，因此没有可管理的设置，也没有任何改变。正式的通讯里，每位读者的链接会打开自己的设置页面。',
      },
    },
  },
  errors: {
    invalidAddress: '请检查邮箱地址：',
    useSuggestion: '改用 {address} 订阅',
    notFound: { title: '页面不存在', body: '这个地址没有内容。' },
    methodNotAllowed: { title: '不支持的操作', body: '这个页面不能这样使用。' },
    tooLarge: {
      title: '提交的数据过多',
      body: '请求的数据超过了 {limit}，这是这个地址能接受的上限。请减少数据后重试。',
    },
    badRequest: { title: '表单有误', body: '无法读取提交的数据。请返回后重试。' },
    unsupportedType: { title: '不支持的表单格式', body: '请以 application/x-www-form-urlencoded 或 JSON 格式提交。' },
    unsupportedPreferencesType: {
      title: '不支持的表单格式',
      body: '请像设置页面本身一样，以 application/x-www-form-urlencoded 格式提交设置表单。这里不接受 JSON。',
    },
    server: { title: '服务器出了点问题', body: '数据没有丢失。请过几分钟再试。' },
    tooManySignups: { title: '订阅请求过多', body: '这个网络暂时提交了太多订阅。请{wait}后再试（UTC {time} 之后）。' },
    minutes: '约 {n} 分钟',
    hours: '约 {n} 小时',
    captcha: '请先完成人机验证，然后再次点击“订阅”。',
    notText: '“{field}”字段必须是文本（JSON 字符串），不能是数字、列表或对象。',
    repeated: '“{field}”字段提交了不止一次，请只提交一次。',
    errorTitle: '无法订阅',
  },
  backToSite: '返回 {site}',
  email: {
    subject: '确认订阅 {site}',
    greeting: '{name}，你好：',
    preview: '点击一下，{site} 的新文章就会发到你的邮箱。',
    heading: '确认订阅',
    body: '有人（希望是你）申请用这个邮箱地址接收 {site} 的新文章。',
    button: '确认订阅',
    next: '按钮会打开一个页面，在那里再点一次“确认订阅”才会开始订阅；仅打开链接不会改变任何东西。',
    fallback: '如果按钮无法点击，请把这个链接复制到浏览器中打开：',
    expiry: '链接 7 天内有效。',
    ignore: '如果不是你本人申请的，请忽略这封邮件，你不会再收到我们的邮件。',
  },
  reminder: {
    subject: '提醒：请确认订阅 {site}',
    heading: '还想接收 {site} 的新文章吗？',
    body: '一天前，有人（希望是你）申请用这个邮箱地址接收 {site} 的新文章，但订阅还没有确认。这是唯一的一次提醒。',
    expiry: '未确认的订阅申请（包括邮箱地址）会在申请 7 天后删除。',
    ignore: '如果不是你本人申请的，请忽略这封邮件，你不会再收到我们的邮件。',
  },
  welcome: {
    subject: '欢迎订阅 {site}',
    heading: '欢迎订阅 {site}',
    intro: '感谢确认：这个邮箱地址已经订阅了 {site}。',
    everyPost: '每篇新文章发布后不久，都会发送到你的邮箱。',
    digest: '你会收到每周摘要：每周一封邮件，汇总这一周的新文章；没有新文章的那一周不会发送。',
    topics: '你选择的主题：{topics}。不属于任何可选主题的文章也会发给你。',
    topicSeparator: '、',
    allTopics: '你没有选择主题，所以每篇文章都会发给你。',
    manage: '想更改接收的内容、频率或邮件语言，请点击任意一封邮件底部的“管理订阅”。',
    leave: '每封邮件底部都有退订链接：点击一次，就不会再收到任何邮件。',
    visit: '访问 {site}',
    manageLink: '管理订阅',
    unsubscribeLink: '退订',
    why: '你收到这封邮件，是因为你确认订阅了 {site}。',
  },
};

export const READER_STRINGS: Record<ReaderLanguage, ReaderStrings> = { 'zh-CN': zhCN, en };

/**
 * Maps what a reader or the settings say (`zh`, `zh-cn`, `zh-Hans-CN`, `en-GB`, …) to a
 * supported language, or undefined when it is none of them.
 */
export function readerLanguage(value: string | undefined | null): ReaderLanguage | undefined {
  if (!value) return undefined;
  const tag = value.trim().toLowerCase();
  if (tag === 'zh' || tag.startsWith('zh-') || tag.startsWith('zh_')) return 'zh-CN';
  if (tag === 'en' || tag.startsWith('en-') || tag.startsWith('en_')) return 'en';
  return undefined;
}

export function fillSite(text: string, siteTitle: string): string {
  return text.replaceAll('{site}', () => siteTitle);
}
