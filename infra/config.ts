import { Token } from 'aws-cdk-lib';
import * as z from 'zod';
import {
  httpUrlProblem,
  isDigestHour,
  isIanaTimeZone,
  isSettingAddress,
  readSignupSettings,
  type Topic,
  TRACKING_MODES,
  type Tracking,
  topicKey,
  type Weekday,
  weekdayNamed,
  withoutTrailingSlash,
} from '../functions/commons/config';
import { ConfigError } from '../functions/commons/errors';
import { ENV } from '../functions/contract/env';
import { resendAfterSeconds, senderTimeout } from './constructs/pipeline';

/**
 * The deployment's settings, read from `cdk.json` context and `-c key=value` flags. cdk.json
 * carries defaults that match the local stack so `cdk synth` works on a fresh clone; a real
 * deployment overrides them. Every value is checked here so a typo fails `cdk synth` with the
 * key and an example instead of a Lambda failing at its first cold start.
 */
export interface DeployConfig {
  siteUrl: string;
  siteTitle: string;
  fromAddress: string;
  /** The sender's name; optional in context, where it defaults to `siteTitle`. */
  fromName: string;
  replyTo?: string;
  postalAddress: string;
  /** `owner/name` of the blog repository the webhook acts on. */
  repository?: string;
  branch: string;
  githubApiUrl: string;
  editors: string[];
  /** Emails per second: the SES account's maximum send rate (14 in the sandbox). */
  maxSendRate: number;
  listName: string;
  language: 'en' | 'zh-CN';
  /** The site's IANA time zone: the weekly digest goes out on its clock. */
  timezone: string;
  /** When the weekly digest goes out: a weekday and an hour (0–23) in `timezone`. */
  digestDay: Weekday;
  digestHour: number;
  /** The sending domain; when set the stack creates its SES identity with Easy DKIM. */
  domain?: string;
  /**
   * A subdomain of `domain` used as the MAIL FROM (envelope sender) domain, so SPF passes for
   * the From domain too (aligned) and DMARC does not rest on DKIM alone.
   */
  mailFromDomain?: string;
  /**
   * The SES identity (`domain`, else `fromAddress`) already exists in the account and region:
   * the stack uses it instead of creating it (CloudFormation cannot create one that exists).
   */
  existingIdentity: boolean;
  /** A domain of your own for the HTTP API, so links in emails outlive the API and match the sender. */
  apiDomain?: string;
  /** An ACM certificate (same region) for `apiDomain`; without it the stack requests one, validated by DNS. */
  apiCertificateArn?: string;
  /** Where alarms are emailed; without it alarms still go to the alarm topic. */
  alarmEmail?: string;
  /** The categories and tags readers may choose, with their English and Chinese labels; none: every post to everyone. */
  topics: Topic[];
  /** `off` (default) or `aggregate`: links through the counting redirect (README: Tracking). */
  tracking: Tracking;
  /** With `aggregate`: an open pixel, counted per post. */
  opens: boolean;
  /** The signup protection settings, as the environment variables the functions read. */
  signupEnvironment: Record<string, string>;
}

/**
 * cdk.json keys of the signup protection and the variables they become. Unset, the functions'
 * defaults apply, except `checkEmailDomain`, which is on for a deployment (DNS is there).
 */
export const SIGNUP_CONTEXT: Record<string, string> = {
  signupLimits: ENV.signupLimits,
  clientSignupsPer10Minutes: ENV.clientSignupsPer10Minutes,
  clientSignupsPerDay: ENV.clientSignupsPerDay,
  mailboxConfirmationsPer10Minutes: ENV.mailboxConfirmationsPer10Minutes,
  mailboxConfirmationsPerDay: ENV.mailboxConfirmationsPerDay,
  confirmationsPerHour: ENV.confirmationsPerHour,
  checkEmailDomain: ENV.checkEmailDomain,
  captchaSiteKey: ENV.captchaSiteKey,
};

/** A signup setting as the functions read it: booleans become on/off, blank means unset. */
const signupValue = z
  .custom<string | number | boolean | null | undefined>(
    (value) => value === undefined || value === null || ['string', 'number', 'boolean'].includes(typeof value),
    { error: (issue) => `must be a string, number or true/false ${gotJson(issue)}` },
  )
  .transform((value) =>
    value === undefined || value === null || value === ''
      ? undefined
      : typeof value === 'boolean'
        ? value
          ? 'on'
          : 'off'
        : String(value).trim(),
  );

const signupContextSchema = z.object(Object.fromEntries(Object.keys(SIGNUP_CONTEXT).map((key) => [key, signupValue])));

function signupEnvironment(read: ContextReader): Record<string, string> {
  const values = parseContext(signupContextSchema, Object.keys(SIGNUP_CONTEXT), read);
  const environment: Record<string, string> = { [ENV.checkEmailDomain]: 'on' };
  for (const [key, value] of Object.entries(values)) if (value !== undefined) environment[SIGNUP_CONTEXT[key]!] = value;
  try {
    readSignupSettings(environment);
  } catch (error) {
    // The functions' message names the variable; name the cdk.json key instead.
    const [key] = Object.entries(SIGNUP_CONTEXT).find(([, variable]) =>
      (error as Error).message.startsWith(variable),
    ) ?? ['signup settings'];
    throw new ConfigError(`cdk context "${key}": ${(error as Error).message.replace(/^\S+ /, '')}`);
  }
  return environment;
}

/** Reads one context value; `node.tryGetContext` fits, and tests pass a plain object. */
export type ContextReader = (key: string) => unknown;

const LANGUAGES = ['en', 'zh-CN'] as const;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const ACM_CERTIFICATE_ARN = /^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/;
/** SES's highest default sending quota is far below this; anything larger is a typo. */
const MAX_SEND_RATE = 10_000;

type ContextKey = Exclude<keyof DeployConfig, 'signupEnvironment'>;

const EXAMPLES: Record<ContextKey, string> = {
  siteUrl: 'https://blog.example.com',
  siteTitle: '"My blog"',
  fromAddress: 'newsletter@blog.example.com',
  fromName: '"My blog"',
  replyTo: 'editor@blog.example.com',
  postalAddress: '"1 Example Street, Example City"',
  repository: 'octocat/blog',
  branch: 'main',
  githubApiUrl: 'https://api.github.com',
  editors: 'editor@blog.example.com,second@blog.example.com',
  maxSendRate: '14',
  listName: 'newsletter',
  language: 'en',
  timezone: 'Asia/Shanghai',
  digestDay: 'monday',
  digestHour: '8',
  domain: 'blog.example.com',
  mailFromDomain: 'mail.blog.example.com',
  existingIdentity: 'true',
  apiDomain: 'newsletter.blog.example.com',
  apiCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
  alarmEmail: 'ops@blog.example.com',
  topics: `'[{"name":"旅行","en":"Travel","zh":"旅行"},{"name":"rust","en":"Rust","zh":"Rust 编程"}]'`,
  tracking: 'aggregate',
  opens: 'true',
};

/**
 * The context schemas' issue messages say what is wrong with a value ("is missing", "must be …");
 * `contextError` puts the key before it and, for a deploy setting, an example after it.
 */
const got = (issue: { input?: unknown }) => `(got "${String(issue.input)}")`;
const gotJson = (issue: { input?: unknown }) => `(got ${JSON.stringify(issue.input)})`;

/** A string setting; -c flags arrive as strings and cdk.json may hold numbers. Blank reads as unset. */
const text = z
  .custom<string | number | null | undefined>(
    (value) => value === undefined || value === null || typeof value === 'string' || typeof value === 'number',
    { error: (issue) => `must be a string ${gotJson(issue)}` },
  )
  .transform((value) => (value === undefined || value === null ? '' : String(value).trim()) || undefined);

const required = text.pipe(z.string({ error: 'is missing' }));

// The same checks the Lambdas make at start (functions/commons/config.ts), so synth never
// admits a value the functions would reject.
const url = (setting: z.ZodType<string, unknown>) =>
  setting
    .refine((value) => httpUrlProblem(value) === undefined, {
      error: (issue) => `${httpUrlProblem(String(issue.input))} ${got(issue)}`,
    })
    .transform(withoutTrailingSlash);

const address = z.string().refine(isSettingAddress, { error: (issue) => `must be an email address ${got(issue)}` });

const domainName = (problem: string) =>
  text
    .transform((value) => value?.toLowerCase())
    .refine((value) => value === undefined || HOSTNAME.test(value), { error: (issue) => `${problem} ${got(issue)}` });

const flag = z
  .custom<boolean | string | null | undefined>(
    (value) => [undefined, null, false, 'false', '', true, 'true'].includes(value as never),
    { error: (issue) => `must be true or false ${gotJson(issue)}` },
  )
  .transform((value) => value === true || value === 'true');

/** Addresses as a JSON list or, from a -c flag, one comma-separated string. */
const addressList = z
  .custom<unknown[] | string | null | undefined>(
    (value) => value === undefined || value === null || typeof value === 'string' || Array.isArray(value),
    { error: 'must be a comma-separated list of addresses' },
  )
  .transform((value) => (value === undefined || value === null ? [] : Array.isArray(value) ? value : value.split(',')))
  .pipe(z.array(z.string({ error: (issue) => `must list addresses as strings ${gotJson(issue)}` }).trim()))
  .transform((items) => items.filter(Boolean))
  .pipe(z.array(address));

const TOPIC_KEYS = new Set(['name', 'en', 'zh']);
/** Longer than any category a blog shows; a longer one is a paste gone wrong. */
const TOPIC_TEXT_LIMIT = 100;

/**
 * `topics`: a list of `{ "name": …, "en": …, "zh": … }` (name as the posts' front matter writes
 * it; labels default to the name), or from a -c flag the same list as JSON, or names separated
 * by commas. Each problem says which item and what to write.
 */
const topicList = z.unknown().transform((value, context): Topic[] => {
  const fail = (message: string) => {
    context.issues.push({ code: 'custom', message, input: value });
    return z.NEVER;
  };
  let items: unknown = value;
  if (typeof value === 'string') {
    const written = value.trim();
    if (!written.startsWith('['))
      items = written
        .split(',')
        .filter((name) => name.trim() !== '')
        .map((name) => ({ name }));
    else {
      try {
        items = JSON.parse(written);
      } catch {
        return fail(`is not a valid JSON list ${got({ input: written })}`);
      }
    }
  }
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) return fail(`must be a list of topics ${gotJson({ input: value })}`);
  const topics: Topic[] = [];
  const seen = new Map<string, string>();
  for (const [index, item] of items.entries()) {
    const where = `item ${index + 1}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return fail(`${where} must be an object with a "name" ${gotJson({ input: item })}`);
    const fields = item as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => !TOPIC_KEYS.has(key));
    if (unknown !== undefined) return fail(`${where} has "${unknown}"; a topic has only "name", "en" and "zh"`);
    const textOf = (key: string): string | undefined => {
      const field = fields[key];
      if (field === undefined || field === null) return undefined;
      if (typeof field !== 'string') throw new Error(`${where} "${key}" must be a string ${gotJson({ input: field })}`);
      if (field.trim().length > TOPIC_TEXT_LIMIT)
        throw new Error(`${where} "${key}" is longer than ${TOPIC_TEXT_LIMIT} characters`);
      return field.trim() || undefined;
    };
    let name: string | undefined;
    let en: string | undefined;
    let zh: string | undefined;
    try {
      [name, en, zh] = [textOf('name'), textOf('en'), textOf('zh')];
    } catch (error) {
      return fail((error as Error).message);
    }
    if (name === undefined) {
      return fail(`${where} needs a "name": a category or tag as the posts' front matter writes it`);
    }
    const first = seen.get(topicKey(name));
    if (first !== undefined)
      return fail(`names "${first}" and "${name}", one topic (names compare without case); keep one`);
    seen.set(topicKey(name), name);
    topics.push({ name, en: en ?? name, zh: zh ?? name });
  }
  return topics;
});

/**
 * The deploy settings, one schema per key. Only the first problem is reported: each key's own,
 * in this order, then the rules between keys (`deployContextSchema`), which apply once every
 * key is valid on its own.
 */
const deployKeysSchema = z.object({
  siteUrl: url(required),
  fromAddress: required.pipe(address),
  replyTo: text.pipe(address.optional()),
  repository: text.refine((value) => value === undefined || /^[\w.-]+\/[\w.-]+$/.test(value), {
    error: (issue) => `must be owner/name ${got(issue)}`,
  }),
  maxSendRate: required
    .refine(
      (value) => {
        const rate = Number(value);
        return Number.isFinite(rate) && rate > 0 && rate <= MAX_SEND_RATE;
      },
      {
        error: (issue) =>
          `must be a number of emails per second between 0 and ${MAX_SEND_RATE}, your SES account's maximum send rate ${got(issue)}`,
      },
    )
    .transform(Number),
  language: required.pipe(
    z.enum(LANGUAGES, { error: (issue) => `must be one of ${LANGUAGES.join(', ')} ${got(issue)}` }),
  ),
  domain: domainName('must be a domain name you control'),
  existingIdentity: flag,
  mailFromDomain: domainName('must be a domain name'),
  apiDomain: domainName('must be a domain name you control'),
  apiCertificateArn: text,
  alarmEmail: text.pipe(address.optional()),
  siteTitle: required,
  fromName: text,
  postalAddress: required,
  branch: required,
  githubApiUrl: url(text.transform((value) => value ?? 'https://api.github.com')),
  editors: addressList,
  listName: required,
  topics: topicList,
  tracking: text
    .transform((value) => value ?? 'off')
    .pipe(
      z.enum(TRACKING_MODES as [Tracking, ...Tracking[]], {
        error: (issue) => `must be off or aggregate; there is no per-reader tracking ${got(issue)}`,
      }),
    ),
  opens: flag,
  timezone: text
    .transform((value) => value ?? 'UTC')
    .refine(isIanaTimeZone, { error: (issue) => `must be an IANA time zone such as Asia/Shanghai ${got(issue)}` }),
  digestDay: text
    .refine((value) => value === undefined || weekdayNamed(value) !== undefined, {
      error: (issue) => `must be a weekday such as monday or mon ${got(issue)}`,
    })
    .transform((value) => weekdayNamed(value ?? 'monday')!),
  digestHour: text
    .transform((value) => value ?? '8')
    .refine(isDigestHour, { error: (issue) => `must be a whole hour from 0 to 23 ${got(issue)}` })
    .transform(Number),
});

/** The per-key settings checked together, then the rules between keys. */
const deployContextSchema = deployKeysSchema.transform((settings, context): Omit<DeployConfig, 'signupEnvironment'> => {
  const problem = (key: ContextKey, message: string) =>
    context.issues.push({ code: 'custom', path: [key], message, input: settings[key] });
  const { domain, mailFromDomain, apiDomain, apiCertificateArn, fromAddress } = settings;
  const fromDomain = fromAddress.split('@')[1]!.toLowerCase();
  // SES signs with the identity's DKIM key only when the From domain is the identity or below it.
  if (domain !== undefined && fromDomain !== domain && !fromDomain.endsWith(`.${domain}`))
    problem('domain', `must be the domain of fromAddress "${fromAddress}" or a parent of it (got "${domain}")`);
  if (mailFromDomain !== undefined) {
    // SES takes a MAIL FROM domain only below the identity's domain (which SPF alignment needs too).
    if (domain === undefined || !mailFromDomain.endsWith(`.${domain}`)) {
      problem(
        'mailFromDomain',
        `must be a subdomain of "domain" (set domain too), for example mail.${domain ?? 'blog.example.com'} (got "${mailFromDomain}")`,
      );
    } else if (settings.existingIdentity) {
      problem(
        'mailFromDomain',
        'is set on an identity the stack creates; with existingIdentity set the MAIL FROM domain in the SES console instead',
      );
    }
  }
  if (apiCertificateArn !== undefined) {
    if (apiDomain === undefined) problem('apiCertificateArn', 'is for apiDomain: set apiDomain too');
    else if (!ACM_CERTIFICATE_ARN.test(apiCertificateArn))
      problem('apiCertificateArn', `must be the ARN of an ACM certificate (got "${apiCertificateArn}")`);
  }
  if (settings.opens && settings.tracking !== 'aggregate')
    problem('opens', 'counts opens only with tracking aggregate: set -c tracking=aggregate too, or leave opens out');
  // One name for the newsletter: readers see the blog's title as the sender unless told otherwise.
  return { ...settings, fromName: settings.fromName ?? settings.siteTitle };
});

function contextError(issue: z.core.$ZodIssue): ConfigError {
  const key = String(issue.path[0]);
  const example =
    key in EXAMPLES
      ? `: pass -c ${key}=${EXAMPLES[key as ContextKey]} or set "${key}" under "context" in cdk.json`
      : '';
  return new ConfigError(`cdk context "${key}" ${issue.message}${example}`);
}

function parseContext<Output>(schema: z.ZodType<Output>, keys: string[], read: ContextReader): Output {
  const result = schema.safeParse(Object.fromEntries(keys.map((key) => [key, read(key)])));
  if (!result.success) throw contextError(result.error.issues[0]!);
  return result.data;
}

export function readDeployConfig(read: ContextReader): DeployConfig {
  const settings = parseContext(deployContextSchema, Object.keys(deployKeysSchema.shape), read);
  return { ...settings, signupEnvironment: signupEnvironment(read) };
}

/** The site's origin (scheme, host, port), which is what CORS compares. */
export function siteOrigin(config: DeployConfig): string {
  return new URL(config.siteUrl).origin;
}

/**
 * The settings every Lambda reads through `readSettings` (functions/commons/config.ts), as the
 * environment variables that module expects. Optional values are left out rather than set empty.
 */
export function settingsEnvironment(
  config: DeployConfig,
  deployed: { publicUrl: string; configurationSet: string },
): Record<string, string> {
  const environment: Record<string, string | undefined> = {
    [ENV.siteUrl]: config.siteUrl,
    [ENV.siteTitle]: config.siteTitle,
    [ENV.language]: config.language,
    [ENV.timezone]: config.timezone,
    [ENV.fromAddress]: config.fromAddress,
    [ENV.fromName]: config.fromName,
    [ENV.replyTo]: config.replyTo,
    [ENV.postalAddress]: config.postalAddress,
    [ENV.publicUrl]: deployed.publicUrl,
    [ENV.listName]: config.listName,
    [ENV.repository]: config.repository,
    [ENV.branch]: config.branch,
    [ENV.githubApiUrl]: config.githubApiUrl,
    [ENV.editors]: config.editors.length > 0 ? config.editors.join(',') : undefined,
    [ENV.maxSendRate]: String(config.maxSendRate),
    [ENV.configurationSet]: deployed.configurationSet,
    [ENV.resendAfterSeconds]: String(resendAfterSeconds(senderTimeout(config.maxSendRate))),
    // JSON: names may hold commas, and the labels travel with them (parseTopics reads both forms).
    [ENV.topics]: config.topics.length > 0 ? JSON.stringify(config.topics) : undefined,
    [ENV.tracking]: config.tracking,
    [ENV.opens]: String(config.opens),
    [ENV.digestDay]: config.digestDay,
    [ENV.digestHour]: String(config.digestHour),
    ...config.signupEnvironment,
  };
  return Object.fromEntries(
    Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * An environment as one shell line, `export KEY='value' …`, for `eval` in the editor's shell.
 * Settings are quoted here; names and URLs the stack makes (tokens until deployment) never
 * hold a quote.
 */
export function shellExports(environment: Record<string, string>): string {
  const quote = (value: string) => (Token.isUnresolved(value) ? `'${value}'` : `'${value.replaceAll("'", "'\\''")}'`);
  return `export ${Object.entries(environment)
    .map(([key, value]) => `${key}=${quote(value)}`)
    .join(' ')}`;
}
