import { Token } from 'aws-cdk-lib';
import {
  httpUrlProblem,
  isSettingAddress,
  readSignupSettings,
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

function signupEnvironment(read: ContextReader): Record<string, string> {
  const environment: Record<string, string> = { [ENV.checkEmailDomain]: 'on' };
  for (const [key, variable] of Object.entries(SIGNUP_CONTEXT)) {
    const value = read(key);
    if (value === undefined || value === null || value === '') continue;
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ConfigError(
        `cdk context "${key}" must be a string, number or true/false (got ${JSON.stringify(value)})`,
      );
    }
    environment[variable] = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value).trim();
  }
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
/** SES's highest default sending quota is far below this; anything larger is a typo. */
const MAX_SEND_RATE = 10_000;

const EXAMPLES: Record<Exclude<keyof DeployConfig, 'signupEnvironment'>, string> = {
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
  domain: 'blog.example.com',
  mailFromDomain: 'mail.blog.example.com',
  existingIdentity: 'true',
  apiDomain: 'newsletter.blog.example.com',
  apiCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
  alarmEmail: 'ops@blog.example.com',
};

function fail(key: keyof typeof EXAMPLES, problem: string): never {
  throw new ConfigError(
    `cdk context "${key}" ${problem}: pass -c ${key}=${EXAMPLES[key]} or set "${key}" under "context" in cdk.json`,
  );
}

function text(read: ContextReader, key: keyof typeof EXAMPLES): string | undefined {
  const value = read(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number')
    fail(key, `must be a string (got ${JSON.stringify(value)})`);
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function flag(read: ContextReader, key: keyof typeof EXAMPLES): boolean {
  const value = read(key);
  if (value === undefined || value === null || value === false || value === 'false' || value === '') return false;
  if (value === true || value === 'true') return true;
  return fail(key, `must be true or false (got ${JSON.stringify(value)})`);
}

function required(read: ContextReader, key: keyof typeof EXAMPLES): string {
  return text(read, key) ?? fail(key, 'is missing');
}

// The same checks the Lambdas make at start (functions/commons/config.ts), so synth never
// admits a value the functions would reject.
function url(key: keyof typeof EXAMPLES, value: string): string {
  const problem = httpUrlProblem(value);
  if (problem !== undefined) fail(key, `${problem} (got "${value}")`);
  return withoutTrailingSlash(value);
}

function address(key: keyof typeof EXAMPLES, value: string): string {
  if (!isSettingAddress(value)) fail(key, `must be an email address (got "${value}")`);
  return value;
}

function addressList(read: ContextReader, key: keyof typeof EXAMPLES): string[] {
  const value = read(key);
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(',')
      : fail(key, 'must be a comma-separated list of addresses');
  return items
    .map((item) =>
      typeof item === 'string'
        ? item.trim()
        : fail(key, `must list addresses as strings (got ${JSON.stringify(item)})`),
    )
    .filter(Boolean)
    .map((item) => address(key, item));
}

export function readDeployConfig(read: ContextReader): DeployConfig {
  const siteUrl = url('siteUrl', required(read, 'siteUrl'));
  const fromAddress = address('fromAddress', required(read, 'fromAddress'));
  const replyTo = text(read, 'replyTo');
  const repository = text(read, 'repository');
  if (repository !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(repository))
    fail('repository', `must be owner/name (got "${repository}")`);

  const rateText = required(read, 'maxSendRate');
  const maxSendRate = Number(rateText);
  if (!Number.isFinite(maxSendRate) || maxSendRate <= 0 || maxSendRate > MAX_SEND_RATE) {
    fail(
      'maxSendRate',
      `must be a number of emails per second between 0 and ${MAX_SEND_RATE}, your SES account's maximum send rate (got "${rateText}")`,
    );
  }

  const language = required(read, 'language');
  if (!(LANGUAGES as readonly string[]).includes(language))
    fail('language', `must be one of ${LANGUAGES.join(', ')} (got "${language}")`);

  const domain = text(read, 'domain')?.toLowerCase();
  if (domain !== undefined) {
    if (!HOSTNAME.test(domain)) fail('domain', `must be a domain name you control (got "${domain}")`);
    const fromDomain = fromAddress.split('@')[1]!.toLowerCase();
    // SES signs with the identity's DKIM key only when the From domain is the identity or below it.
    if (fromDomain !== domain && !fromDomain.endsWith(`.${domain}`)) {
      fail('domain', `must be the domain of fromAddress "${fromAddress}" or a parent of it (got "${domain}")`);
    }
  }

  const existingIdentity = flag(read, 'existingIdentity');
  const mailFromDomain = text(read, 'mailFromDomain')?.toLowerCase();
  if (mailFromDomain !== undefined) {
    if (!HOSTNAME.test(mailFromDomain)) fail('mailFromDomain', `must be a domain name (got "${mailFromDomain}")`);
    // SES takes a MAIL FROM domain only below the identity's domain (which SPF alignment needs too).
    if (domain === undefined || !mailFromDomain.endsWith(`.${domain}`)) {
      fail(
        'mailFromDomain',
        `must be a subdomain of "domain" (set domain too), for example mail.${domain ?? 'blog.example.com'} (got "${mailFromDomain}")`,
      );
    }
    if (existingIdentity)
      fail(
        'mailFromDomain',
        'is set on an identity the stack creates; with existingIdentity set the MAIL FROM domain in the SES console instead',
      );
  }

  const apiDomain = text(read, 'apiDomain')?.toLowerCase();
  if (apiDomain !== undefined && !HOSTNAME.test(apiDomain))
    fail('apiDomain', `must be a domain name you control (got "${apiDomain}")`);
  const apiCertificateArn = text(read, 'apiCertificateArn');
  if (apiCertificateArn !== undefined) {
    if (apiDomain === undefined) fail('apiCertificateArn', 'is for apiDomain: set apiDomain too');
    if (!/^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(apiCertificateArn))
      fail('apiCertificateArn', `must be the ARN of an ACM certificate (got "${apiCertificateArn}")`);
  }

  const alarmEmail = text(read, 'alarmEmail');
  const siteTitle = required(read, 'siteTitle');
  return {
    siteUrl,
    siteTitle,
    fromAddress,
    // One name for the newsletter: readers see the blog's title as the sender unless told otherwise.
    fromName: text(read, 'fromName') ?? siteTitle,
    replyTo: replyTo === undefined ? undefined : address('replyTo', replyTo),
    postalAddress: required(read, 'postalAddress'),
    repository,
    branch: required(read, 'branch'),
    githubApiUrl: url('githubApiUrl', text(read, 'githubApiUrl') ?? 'https://api.github.com'),
    editors: addressList(read, 'editors'),
    maxSendRate,
    listName: required(read, 'listName'),
    language: language as DeployConfig['language'],
    domain,
    mailFromDomain,
    existingIdentity,
    apiDomain,
    apiCertificateArn,
    alarmEmail: alarmEmail === undefined ? undefined : address('alarmEmail', alarmEmail),
    signupEnvironment: signupEnvironment(read),
  };
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
