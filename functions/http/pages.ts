import { createHash } from 'node:crypto';
import { fillSite, READER_STRINGS, type ReaderLanguage, type ReaderStrings } from '../../templates/reader-strings';
import type { Topic } from '../commons/config';
import { escapeHtml } from '../commons/html';
import type { ChoiceProblem } from '../subscribers/choices';
import type { PreferencesField } from '../subscribers/preferences';
import type { SampleCopy } from '../subscribers/tokens';
import type { Frequency, ReadingChoices } from '../subscribers/types';

/**
 * The reader-facing pages: plain HTML that works without JavaScript, readable on a phone and
 * usable from the keyboard. One stylesheet, inlined and allowed by its hash in the CSP, so the
 * pages need no second request and no `unsafe-inline`.
 */
const STYLE = `
:root{color-scheme:light dark;--text:#1b1b1f;--muted:#4a4a55;--bg:#ffffff;--panel:#f4f4f7;--accent:#0b57d0;--accent-text:#ffffff;--error:#b3261e;--focus:#b45309}
@media (prefers-color-scheme:dark){:root{--text:#ececf1;--muted:#c3c3cc;--bg:#16161a;--panel:#232329;--accent:#a8c7fa;--accent-text:#0b1d3a;--error:#ffb4ab;--focus:#fbbf24}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:1.0625rem/1.6 system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Microsoft YaHei",sans-serif}
main{max-width:34rem;margin:0 auto;padding:2.5rem 1.25rem}
h1{font-size:1.6rem;line-height:1.3;margin:0 0 1rem}
p{margin:0 0 1rem}
.muted{color:var(--muted);font-size:.95rem}
form{background:var(--panel);border-radius:.75rem;padding:1.25rem;margin:1.5rem 0}
label{display:block;font-weight:600;margin-bottom:.35rem}
input[type=email]{display:block;width:100%;font:inherit;padding:.7rem .8rem;border:2px solid var(--muted);border-radius:.5rem;background:var(--bg);color:var(--text)}
input[aria-invalid=true]{border-color:var(--error)}
button{font:inherit;font-weight:600;margin-top:1rem;padding:.7rem 1.4rem;min-height:2.75rem;border:0;border-radius:.5rem;background:var(--accent);color:var(--accent-text);cursor:pointer}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.error{color:var(--error);font-weight:600}
.hint{color:var(--muted);font-size:.95rem;margin:.35rem 0 0}
.suggestion{background:none;padding:0;margin:-.75rem 0 1.5rem}
.suggestion button{margin-top:0;background:var(--panel);color:var(--accent);border:2px solid var(--accent)}
.trap{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
h2{font-size:1.2rem;line-height:1.35;margin:2rem 0 .5rem}
.prefs fieldset{border:0;margin:0 0 1.25rem;padding:0;min-width:0}
.prefs legend{font-weight:700;padding:0;margin-bottom:.25rem}
.prefs .choice{display:flex;gap:.65rem;align-items:flex-start;font-weight:400;margin:.4rem 0;min-height:2rem;cursor:pointer}
.prefs .choice input{width:1.25rem;height:1.25rem;margin:.2rem 0 0;flex:none;accent-color:var(--accent)}
.notice{border-left:4px solid var(--accent);background:var(--panel);padding:.75rem 1rem;border-radius:.25rem}
button.leave{background:transparent;color:var(--error);border:2px solid var(--error)}
fieldset{border:0;padding:0;margin:1.25rem 0 0;min-width:0}
legend{font-weight:600;padding:0;margin-bottom:.25rem}
label.choice{display:flex;align-items:center;gap:.65rem;font-weight:400;margin:0;min-height:2.75rem;overflow-wrap:anywhere}
label.choice input{flex:none;width:1.25rem;height:1.25rem;margin:0;accent-color:var(--accent)}
`.trim();

export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** The form field bots fill and people never see; a post with it set is silently dropped. */
export const HONEYPOT_FIELD = 'website';

export interface PageContext {
  lang: ReaderLanguage;
  siteTitle: string;
  siteUrl: string;
  /** What aggregate tracking counts, for the signup page's promise; absent: nothing is. */
  counting?: keyof ReaderStrings['counting'];
}

function strings(context: PageContext): ReaderStrings {
  return READER_STRINGS[context.lang];
}

/** A string from the catalogue with the site title filled in, HTML-escaped. */
function say(context: PageContext, text: string): string {
  return escapeHtml(fillSite(text, context.siteTitle));
}

function layout(context: PageContext, title: string, content: string): string {
  return `<!doctype html>
<html lang="${strings(context).htmlLang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · ${escapeHtml(context.siteTitle)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${title}</h1>
${content}
</main>
</body>
</html>
`;
}

function backLink(context: PageContext): string {
  return `<p><a href="${escapeHtml(context.siteUrl)}">${say(context, strings(context).backToSite)}</a></p>`;
}

/** Relative so the form posts to this API wherever it is mounted (API Gateway stage, local port). */
function signupHref(context: PageContext): string {
  return `./?lang=${encodeURIComponent(context.lang)}`;
}

/** What was wrong with a submitted address, and the likely correction if it looks like a typo. */
export interface AddressProblem {
  message: string;
  email: string;
  suggestion?: string;
  /** The message is already in the page's language and is not about the address (the CAPTCHA). */
  localised?: boolean;
}

/** A second, one-field form: one click signs up with the corrected address and the same choices. */
function suggestionForm(context: PageContext, suggestion: string, chosen: ReadingChoices = {}): string {
  const label = escapeHtml(strings(context).errors.useSuggestion.replace('{address}', suggestion));
  const hidden = [
    ...(chosen.topics ?? []).map((name) => ['topics', name]),
    ...(chosen.frequency === undefined ? [] : [['frequency', chosen.frequency]]),
  ]
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value!)}">\n`)
    .join('');
  return `<form method="post" action="subscribe" class="suggestion">
<input type="hidden" name="lang" value="${context.lang}">
<input type="hidden" name="email" value="${escapeHtml(suggestion)}">
${hidden}<button type="submit">${label}</button>
</form>
`;
}

/**
 * The address checker explains problems in English; on a page in another language the
 * sentence is marked as English so screen readers pronounce it right.
 */
function detail(context: PageContext, message: string): string {
  return context.lang === 'en' ? escapeHtml(message) : `<span lang="en">${escapeHtml(message)}</span>`;
}

/** Cloudflare Turnstile, when the deployment turned it on: the page loads its script and widget. */
export const CAPTCHA_ORIGIN = 'https://challenges.cloudflare.com';

function captchaWidget(siteKey: string | undefined): string {
  if (siteKey === undefined) return '';
  return `<div class="cf-turnstile" data-sitekey="${escapeHtml(siteKey)}"></div>
<script src="${CAPTCHA_ORIGIN}/turnstile/v0/api.js" async defer></script>
`;
}

/** The form's topics and frequency: what is offered, what the reader chose (when shown again), what was wrong. */
export interface ChoicesForm {
  offered: readonly Topic[];
  chosen?: ReadingChoices;
  /** Already in the page's language (`choiceProblemText`). */
  problem?: string;
  /** The address as typed, kept while the reader fixes their choices. */
  email?: string;
}

/** A topic's label in the page's language. */
function topicLabel(context: PageContext, topic: Topic): string {
  return context.lang === 'en' ? topic.en : topic.zh;
}

/** What is wrong with a signup's topics or frequency, in the page's language, naming the offered topics. */
export function choiceProblemText(context: PageContext, problem: ChoiceProblem, offered: readonly Topic[]): string {
  const text = strings(context).choices;
  if (problem.kind === 'noTopic') return text.noTopic;
  // A function, so a `$&` in what the reader sent is not read as a replacement pattern.
  const value = () => problem.value;
  if (problem.kind === 'unknownFrequency') return text.unknownFrequency.replace('{value}', value);
  const english = context.lang === 'en';
  const names = offered
    .map((topic) => {
      const name = english ? `"${topic.name}"` : `“${topic.name}”`;
      const label = topicLabel(context, topic);
      if (label === topic.name) return name;
      return english ? `${name} (${label})` : `${name}（${label}）`;
    })
    .join(english ? ', ' : '、');
  return (offered.length === 0 ? text.noTopicsOffered : text.unknownTopic)
    .replace('{value}', value)
    .replace('{offered}', () => names);
}

/**
 * Topics as checkboxes (all ticked unless the reader chose), when any are offered, and the
 * frequency as two radio buttons. The blank `topics` value tells a form whose boxes were all
 * unticked from a form that had none.
 */
function choicesFields(context: PageContext, form: ChoicesForm): string {
  const text = strings(context).choices;
  const error =
    form.problem === undefined
      ? ''
      : `<p id="choices-error" class="error" role="alert">${escapeHtml(form.problem)}</p>
`;
  const chosenTopics = form.chosen?.topics === undefined ? undefined : new Set(form.chosen.topics);
  const topics =
    form.offered.length === 0
      ? ''
      : `<fieldset aria-describedby="${form.problem === undefined ? '' : 'choices-error '}topics-hint">
<legend>${escapeHtml(text.topics)}</legend>
<p id="topics-hint" class="hint">${escapeHtml(text.topicsHint)}</p>
<input type="hidden" name="topics" value="">
${form.offered
  .map(
    (topic, index) =>
      `<label class="choice" for="topic-${index}"><input id="topic-${index}" type="checkbox" name="topics" value="${escapeHtml(topic.name)}"${chosenTopics === undefined || chosenTopics.has(topic.name) ? ' checked' : ''}> ${escapeHtml(topicLabel(context, topic))}</label>`,
  )
  .join('\n')}
</fieldset>
`;
  const digest = form.chosen?.frequency === 'digest';
  return `${error}${topics}<fieldset>
<legend>${escapeHtml(text.frequency)}</legend>
<label class="choice" for="frequency-post"><input id="frequency-post" type="radio" name="frequency" value="post"${digest ? '' : ' checked'}> ${escapeHtml(text.everyPost)}</label>
<label class="choice" for="frequency-digest"><input id="frequency-digest" type="radio" name="frequency" value="digest"${digest ? ' checked' : ''}> ${escapeHtml(text.digest)}</label>
</fieldset>
`;
}

/**
 * `captchaSiteKey`: the deployment's CAPTCHA; without it the page needs no JavaScript at all.
 * `choices`: the topics on offer and, when the form is shown again, what the reader chose.
 */
export function signupPage(
  context: PageContext,
  problem?: AddressProblem,
  captchaSiteKey?: string,
  choices: ChoicesForm = { offered: [] },
): string {
  const text = strings(context).signup;
  const invalid = problem !== undefined;
  const describedBy = invalid ? 'email-error email-hint' : 'email-hint';
  const error = invalid
    ? `<p id="email-error" class="error" role="alert">${problem.localised ? escapeHtml(problem.message) : `${escapeHtml(strings(context).errors.invalidAddress)}${detail(context, problem.message)}`}</p>\n`
    : '';
  return layout(
    context,
    say(context, text.title),
    `<p>${say(context, context.counting === undefined ? text.intro : strings(context).counting[context.counting])}</p>
<form method="post" action="subscribe">
<input type="hidden" name="lang" value="${context.lang}">
<label for="email">${say(context, text.label)}</label>
${error}<input id="email" name="email" type="email" required autocomplete="email" inputmode="email" spellcheck="false" maxlength="254" aria-describedby="${describedBy}"${invalid ? ` aria-invalid="true" value="${escapeHtml(problem.email)}"` : choices.email ? ` value="${escapeHtml(choices.email)}"` : ''}>
<p id="email-hint" class="hint">${say(context, text.hint)}</p>
${choicesFields(context, choices)}<div class="trap" aria-hidden="true"><label for="${HONEYPOT_FIELD}">Leave this field empty</label><input id="${HONEYPOT_FIELD}" name="${HONEYPOT_FIELD}" type="text" tabindex="-1" autocomplete="off"></div>
${captchaWidget(captchaSiteKey)}<button type="submit">${say(context, text.button)}</button>
</form>
${problem?.suggestion ? suggestionForm(context, problem.suggestion, choices.chosen) : ''}<p class="muted">${say(context, text.note)}</p>
${backLink(context)}`,
  );
}

function message(context: PageContext, title: string, paragraphs: string[], extra = ''): string {
  const body = paragraphs.map((paragraph) => `<p>${say(context, paragraph)}</p>`).join('\n');
  return layout(context, say(context, title), `${body}\n${extra}${backLink(context)}`);
}

export function checkInboxPage(context: PageContext): string {
  const text = strings(context).checkInbox;
  return message(context, text.title, [text.body, text.spam]);
}

/**
 * The page behind the email's link. The form has no action, so the button posts back to this
 * very URL with its token; merely opening the link (as mail scanners do) changes nothing.
 */
export function confirmAskPage(context: PageContext): string {
  const text = strings(context).confirmAsk;
  return message(
    context,
    text.title,
    [text.body],
    `<form method="post">\n<button type="submit">${say(context, text.button)}</button>\n</form>\n`,
  );
}

export function confirmedPage(context: PageContext): string {
  const text = strings(context).confirmed;
  return message(context, text.title, [text.body]);
}

export function alreadyConfirmedPage(context: PageContext): string {
  const text = strings(context).alreadyConfirmed;
  return message(context, text.title, [text.body]);
}

export function confirmInvalidPage(context: PageContext): string {
  const text = strings(context).confirmInvalid;
  return message(
    context,
    text.title,
    [text.body],
    `<p><a href="${signupHref(context)}">${say(context, text.action)}</a></p>\n`,
  );
}

/** Like the confirm page: the button posts back to this URL; following the link changes nothing. */
export function unsubscribeAskPage(context: PageContext): string {
  const text = strings(context).unsubscribeAsk;
  return message(
    context,
    text.title,
    [text.body],
    `<form method="post">\n<button type="submit">${say(context, text.button)}</button>\n</form>\n`,
  );
}

export function unsubscribedPage(context: PageContext): string {
  const text = strings(context).unsubscribed;
  return message(
    context,
    text.title,
    [text.body],
    `<p><a href="${signupHref(context)}">${say(context, text.action)}</a></p>\n`,
  );
}

export function unsubscribeInvalidPage(context: PageContext): string {
  const text = strings(context).unsubscribeInvalid;
  return message(context, text.title, [text.body]);
}

/** The unsubscribe page of a preview or test copy's link: says what it was, changes nothing. */
export function unsubscribeSamplePage(context: PageContext, kind: SampleCopy): string {
  const text = strings(context).unsubscribeSample[kind];
  return message(context, text.title, [text.body]);
}

/** What the preferences page shows: the offered topics, what is ticked, and how the last POST went. */
export interface PreferencesView {
  offered: readonly Topic[];
  ticked: ReadonlySet<string>;
  frequency: Frequency;
  /** The language ticked; the page itself is in `context.lang`. */
  lang: ReaderLanguage;
  pending: boolean;
  saved?: boolean;
  refused?: PreferencesField;
}

/** A radio button or checkbox with its label around it, so the whole line is the target. */
function choice(type: 'radio' | 'checkbox', name: string, value: string, checked: boolean, label: string): string {
  return `<label class="choice"><input type="${type}" name="${name}" value="${escapeHtml(value)}"${checked ? ' checked' : ''}> <span>${label}</span></label>`;
}

/**
 * The page behind "Manage your subscription". Like the confirm and unsubscribe pages, both
 * forms have no action: they post back to this very URL with its token (the token is what
 * authorises a change; no cookie is involved, and the policy allows forms to this origin only),
 * and opening the link changes nothing.
 */
export function preferencesPage(context: PageContext, view: PreferencesView): string {
  const text = strings(context).preferences;
  const refused = (field: PreferencesField) =>
    view.refused === field
      ? `<p id="${field}-error" class="error" role="alert">${say(context, text.refused[field])}</p>\n`
      : '';
  const describedBy = (field: PreferencesField, hint?: string) => {
    const ids = [hint, view.refused === field ? `${field}-error` : undefined].filter(Boolean);
    return ids.length > 0 ? ` aria-describedby="${ids.join(' ')}"` : '';
  };
  const topics =
    view.offered.length === 0
      ? ''
      : `<fieldset${describedBy('topics', 'topics-hint')}>
<legend>${say(context, text.topics)}</legend>
<p id="topics-hint" class="hint">${say(context, text.topicsHint)}</p>
${refused('topics')}${view.offered
  .map((topic) =>
    choice(
      'checkbox',
      'topics',
      topic.name,
      view.ticked.has(topic.name),
      escapeHtml(context.lang === 'zh-CN' ? topic.zh : topic.en),
    ),
  )
  .join('\n')}
</fieldset>
`;
  const notices = [
    view.saved ? `<p class="notice" role="status">${say(context, text.saved)}</p>` : '',
    view.pending ? `<p class="notice">${say(context, text.pending)}</p>` : '',
  ].join('');
  return layout(
    context,
    say(context, text.title),
    `${notices}<p>${say(context, text.intro)}</p>
<form method="post" class="prefs">
${topics}<fieldset${describedBy('frequency')}>
<legend>${say(context, text.frequency)}</legend>
${refused('frequency')}${choice('radio', 'frequency', 'post', view.frequency === 'post', say(context, text.everyPost))}
${choice('radio', 'frequency', 'digest', view.frequency === 'digest', say(context, text.digest))}
</fieldset>
<fieldset${describedBy('lang', 'lang-hint')}>
<legend>${say(context, text.language)}</legend>
<p id="lang-hint" class="hint">${say(context, text.languageHint)}</p>
${refused('lang')}${choice('radio', 'lang', 'en', view.lang === 'en', '<span lang="en">English</span>')}
${choice('radio', 'lang', 'zh-CN', view.lang === 'zh-CN', '<span lang="zh-CN">中文</span>')}
</fieldset>
<button type="submit">${say(context, text.save)}</button>
</form>
<h2>${say(context, text.leave)}</h2>
<form method="post">
<p>${say(context, text.leaveBody)}</p>
<button type="submit" name="action" value="unsubscribe" class="leave">${say(context, text.leaveButton)}</button>
</form>
${backLink(context)}`,
  );
}

/** Why there are no preferences to show: a bad link, or a reader no longer mailed. */
export function preferencesUnavailablePage(
  context: PageContext,
  reason: 'invalid' | 'unsubscribed' | 'stopped' | 'gone',
): string {
  const text = strings(context).preferences[reason];
  const action = 'action' in text ? `<p><a href="${signupHref(context)}">${say(context, text.action)}</a></p>\n` : '';
  return message(context, text.title, [text.body], action);
}

/** The preferences link of a preview or test copy: says what it was, changes nothing. */
export function preferencesSamplePage(context: PageContext, kind: SampleCopy): string {
  const text = strings(context).preferences.sample[kind];
  return message(context, text.title, [text.body]);
}

export type ErrorKind =
  | 'notFound'
  | 'methodNotAllowed'
  | 'tooLarge'
  | 'badRequest'
  | 'unsupportedType'
  | 'unsupportedPreferencesType'
  | 'server'
  | 'tooManySignups';

/** An error's sentence with its `{name}` values (the body limit, the time to come back). */
export function errorText(
  context: PageContext,
  kind: ErrorKind,
  values: Record<string, string> = {},
): { title: string; body: string } {
  const text = strings(context).errors[kind];
  return { title: text.title, body: text.body.replace(/\{(\w+)\}/g, (slot, name: string) => values[name] ?? slot) };
}

export function errorPage(context: PageContext, kind: ErrorKind, values: Record<string, string> = {}): string {
  const text = errorText(context, kind, values);
  return message(context, text.title, [text.body]);
}

/** "in about 7 minutes" / "约 7 分钟" and the UTC time, for the page that says when to come back. */
export function retryValues(context: PageContext, retryAt: Date, now: Date): Record<string, string> {
  const minutes = Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 60_000));
  const errors = strings(context).errors;
  const wait =
    minutes < 120
      ? errors.minutes.replace('{n}', String(minutes))
      : errors.hours.replace('{n}', String(Math.round(minutes / 60)));
  return { wait, time: retryAt.toISOString().slice(11, 16) };
}
