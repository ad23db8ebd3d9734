import { ENV } from '../contract/env';
import { ConfigError } from './errors';

/**
 * The newsletter's settings. On AWS the CDK stack passes them to every Lambda as environment
 * variables (from cdk.json context); locally they come from the same variables with defaults
 * that serve the local stack. This is the only module that reads `process.env`.
 */
export interface Settings {
  /** The blog's public URL; used when a post's site has no `_config.yml` url. */
  siteUrl: string;
  siteTitle: string;
  /**
   * Language of pages and emails when neither post nor site says ('zh-CN' or 'en'). Unset, a
   * post's language is detected from its text and pages are in English.
   */
  language?: string;
  fromAddress: string;
  /** The sender's name; PUSHLETTER_FROM_NAME, else the site title. */
  fromName: string;
  replyTo?: string;
  /** Shown in every email footer (CAN-SPAM asks for a postal address). */
  postalAddress: string;
  /** Base URL of the HTTP API: confirm and unsubscribe links point here. */
  publicUrl: string;
  listName: string;
  /** `owner/name` of the blog repository the webhook acts on. */
  repository?: string;
  branch: string;
  githubApiUrl: string;
  /** Addresses that receive previews of `_drafts/` posts. */
  editors: string[];
  /** Emails per second across all senders. */
  maxSendRate: number;
  /** SES configuration set that publishes send, bounce and complaint events. */
  configurationSet?: string;
  /**
   * Where the local stack serves the blog it sends: posts it renders link there instead of the
   * `_config.yml` url, so "view on the web" answers. Never set on AWS.
   */
  blogServedAt?: string;
  /**
   * Seconds after which a recipient claimed by a sender that died, with no Send event from SES,
   * is taken to be one SES never accepted and is sent again. Longer than a sender lives plus
   * the time a Send event takes to be recorded.
   */
  resendAfterSeconds: number;
  /** What keeps the public form from being turned against anyone (README: "Security"). */
  signup: SignupSettings;
  /** The topics readers may choose from; none: every reader gets every post. */
  topics: Topic[];
  /** The site's IANA time zone: the list's counters are per day in it. */
  timezone: string;
  /**
   * `aggregate`: the post's links go through the API's counting redirect (`GET /r/…`), counted
   * per post and link across all readers; `off` (default): links go straight to their targets.
   * There is no per-reader mode.
   */
  tracking: Tracking;
  /** With `aggregate` only: a pixel counts opens per post (approximate: mail proxies load it too). */
  opens: boolean;
  /** When the weekly digest goes out, on the site's clock. */
  digest: DigestSchedule;
}

export type Tracking = 'off' | 'aggregate';
export const TRACKING_MODES: readonly Tracking[] = ['off', 'aggregate'];

/**
 * PUSHLETTER_TRACKING and PUSHLETTER_TRACKING_OPENS, checked together: anything but the two
 * modes is refused (a typo must not send mail counted another way than the signup page says),
 * and opens without `aggregate` would be a pixel the page never mentioned.
 */
export function readTracking(env: Env): { tracking: Tracking; opens: boolean } {
  const raw = optional(env, ENV.tracking)?.toLowerCase() ?? 'off';
  const tracking = TRACKING_MODES.find((mode) => mode === raw);
  if (tracking === undefined) {
    throw new ConfigError(
      `${ENV.tracking} must be "off" or "aggregate" (got "${env[ENV.tracking]}"); there is no per-reader tracking`,
    );
  }
  const rawOpens = optional(env, ENV.opens)?.toLowerCase();
  if (rawOpens !== undefined && !['true', 'false'].includes(rawOpens))
    throw new ConfigError(`${ENV.opens} must be "true" or "false" (got "${env[ENV.opens]}")`);
  const opens = rawOpens === 'true';
  if (opens && tracking !== 'aggregate')
    throw new ConfigError(`${ENV.opens}=true counts opens only with ${ENV.tracking}=aggregate; set both, or neither`);
  return { tracking, opens };
}

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The weekday and hour the weekly digest goes out, in the site's IANA time zone. */
export interface DigestSchedule {
  day: Weekday;
  /** 0 to 23, on the hour. */
  hour: number;
  timeZone: string;
}

/**
 * PUSHLETTER_DIGEST_DAY (`monday`, or its first three letters), PUSHLETTER_DIGEST_HOUR (0–23) and
 * PUSHLETTER_TIMEZONE (the blog's `_config.yml` `timezone`; UTC when unset).
 */
export function readDigestSchedule(env: Env = process.env): DigestSchedule {
  const day = weekdayNamed(optional(env, ENV.digestDay) ?? 'monday');
  if (day === undefined)
    throw new ConfigError(`${ENV.digestDay} must be a weekday such as monday or mon (got "${env[ENV.digestDay]}")`);
  const hourText = optional(env, ENV.digestHour) ?? '8';
  if (!isDigestHour(hourText))
    throw new ConfigError(`${ENV.digestHour} must be a whole hour from 0 to 23, for example 8 (got "${hourText}")`);
  return { day, hour: Number(hourText), timeZone: readTimezone(env) };
}

/** `monday`, `Mon`, … as a weekday; undefined when it names none. */
export function weekdayNamed(text: string): Weekday | undefined {
  const lower = text.trim().toLowerCase();
  return WEEKDAYS.find((name) => name === lower || name.slice(0, 3) === lower);
}

/** A whole hour from 0 to 23, as written in a setting. */
export function isDigestHour(text: string): boolean {
  return /^\d{1,2}$/.test(text.trim()) && Number(text) <= 23;
}

export function isIanaTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A category or tag readers may choose, as the front matter writes it, with its labels. */
export interface Topic {
  name: string;
  en: string;
  zh: string;
}

/**
 * PUSHLETTER_TOPICS: comma-separated names as the front matter writes them (`旅行, rust`; each
 * name is its own label), or the JSON list the stack passes from cdk.json
 * (`[{"name":"travel","en":"Travel","zh":"旅行"}]`).
 */
export function parseTopics(raw: string | undefined): Topic[] {
  const text = raw?.trim() ?? '';
  if (text === '') return [];
  let topics: Topic[];
  if (text.startsWith('[') || text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(
        `${ENV.topics} is not valid JSON; write names separated by commas, for example "travel, 旅行"`,
      );
    }
    if (!Array.isArray(parsed)) {
      throw new ConfigError(
        `${ENV.topics} must be a JSON list of topics, for example [{"name":"travel","en":"Travel","zh":"旅行"}], or names separated by commas`,
      );
    }
    topics = parsed.map((item, index) => {
      const { name, en, zh } = (item ?? {}) as Record<string, unknown>;
      if (typeof name !== 'string' || name.trim() === '') {
        throw new ConfigError(
          `${ENV.topics}: topic ${index + 1} needs a "name" (a category or tag as the posts write it)`,
        );
      }
      const label = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : name.trim());
      return { name: name.trim(), en: label(en), zh: label(zh) };
    });
  } else {
    topics = text
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
      .map((name) => ({ name, en: name, zh: name }));
  }
  const seen = new Set<string>();
  for (const { name } of topics) {
    const key = topicKey(name);
    if (seen.has(key)) throw new ConfigError(`${ENV.topics} names "${name}" twice; name each topic once`);
    seen.add(key);
  }
  return topics;
}

/** How topic names compare: Unicode NFC, trimmed, case-folded ("Rust" and "rust" are one topic). */
export function topicKey(name: string): string {
  return name.normalize('NFC').trim().toLowerCase();
}

/** A limit: at most `limit` events in any `windowMs`. */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export interface SignupSettings {
  /**
   * Per-client and per-mailbox limits. Off only for load tests on one machine, where every
   * request comes from one address (`${ENV.signupLimits}=off`).
   */
  limits: boolean;
  /** Signups one client (IP address; IPv6 by /64) may make. */
  perClient: WindowLimit[];
  /** Confirmation emails one mailbox (sub-addresses and Gmail dots folded) may get. */
  perMailbox: WindowLimit[];
  /** Confirmation emails per clock hour for the whole list; the rest wait their turn. */
  confirmationsPerHour: number;
  /** Refuse domains whose DNS says they have no MX or A/AAAA record. */
  checkDomainDns: boolean;
  /** DNS servers for that check (`host` or `host:port`); unset, the system's. */
  dnsServers?: string[];
  dnsTimeoutMs: number;
  /** Cloudflare Turnstile: on when a site key is set (its secret key is in the secret). */
  captcha?: { siteKey: string; verifyUrl: string };
}

export interface Resources {
  subscribersTable: string;
  issuesTable: string;
  deliveriesTable: string;
  /** Aggregate counters (stats/counters.ts). */
  countersTable: string;
}

/** Environment variables by name: `process.env`, or a test's own. */
export type Env = Record<string, string | undefined>;

/** The process's environment, for the composition modules to pass to the readers here. */
export function processEnvironment(): Env {
  return process.env;
}

const DEFAULTS = {
  [ENV.siteUrl]: 'http://localhost:4000',
  [ENV.siteTitle]: 'pushletter demo blog',
  [ENV.fromAddress]: 'newsletter@example.com',
  [ENV.postalAddress]: '1 Example Street, Example City',
  [ENV.publicUrl]: 'http://localhost:3000',
  [ENV.listName]: 'newsletter',
  [ENV.branch]: 'main',
  [ENV.githubApiUrl]: 'https://api.github.com',
  [ENV.maxSendRate]: '14',
  [ENV.resendAfterSeconds]: '900',
  [ENV.clientSignupsPer10Minutes]: '5',
  [ENV.clientSignupsPerDay]: '20',
  [ENV.mailboxConfirmationsPer10Minutes]: '1',
  [ENV.mailboxConfirmationsPerDay]: '3',
  [ENV.confirmationsPerHour]: '200',
  [ENV.dnsTimeoutMs]: '1500',
  [ENV.captchaVerifyUrl]: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  [ENV.subscribersTable]: 'pushletter-subscribers',
  [ENV.issuesTable]: 'pushletter-issues',
  [ENV.deliveriesTable]: 'pushletter-deliveries',
  [ENV.countersTable]: 'pushletter-counters',
} as const;

function read(env: Env, key: keyof typeof DEFAULTS): string {
  const value = env[key]?.trim();
  return value ? value : DEFAULTS[key];
}

function optional(env: Env, key: string): string | undefined {
  const value = env[key]?.trim();
  return value ? value : undefined;
}

/**
 * The shape of an address a setting may hold (sender, reply-to, editors). infra/config.ts
 * checks deploy settings with it too, so synth never admits an address the functions reject.
 */
export function isSettingAddress(value: string): boolean {
  return /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/.test(value);
}

/**
 * What is wrong with a URL setting, or undefined when it is an absolute http(s) URL. Shared
 * with infra/config.ts, which words the key its own way.
 */
export function httpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must start with http:// or https://';
}

/** URL settings are stored without a trailing slash, so paths can be appended with one. */
export function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function checkUrl(key: string, value: string): string {
  const problem = httpUrlProblem(value);
  if (problem !== undefined)
    throw new ConfigError(`${key} ${problem}, for example https://blog.example.com (got "${value}")`);
  return withoutTrailingSlash(value);
}

function checkAddress(key: string, value: string): string {
  if (!isSettingAddress(value)) {
    throw new ConfigError(`${key} must be an email address, for example newsletter@blog.example.com (got "${value}")`);
  }
  return value;
}

/** A whole number from `min` to `max`, or a ConfigError naming the setting. */
/** A tunable with a documented default: a deployment need not set it (optional, not `read`). */
function count(env: Env, key: keyof typeof DEFAULTS, min: number, max: number, unit: string): number {
  const raw = optional(env, key) ?? DEFAULTS[key];
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${key} must be a whole number of ${unit} from ${min} to ${max}, for example ${DEFAULTS[key]} (got "${raw}")`,
    );
  }
  return value;
}

/** `on`/`off` (also true/false, 1/0); undefined when unset. */
function onOff(env: Env, key: string): boolean | undefined {
  const raw = optional(env, key)?.toLowerCase();
  if (raw === undefined) return undefined;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${key} must be "on" or "off" (got "${env[key]}")`);
}

const TEN_MINUTES = 10 * 60 * 1000;
const DAY = 24 * 60 * 60 * 1000;
/** The hourly cap is one counter item; far above any sender's reputation budget is a typo. */
export const MAX_CONFIRMATIONS_PER_HOUR = 100_000;

export function readSignupSettings(env: Env = process.env): SignupSettings {
  const siteKey = optional(env, ENV.captchaSiteKey);
  const dnsServers = optional(env, ENV.dnsServers)
    ?.split(',')
    .map((server) => server.trim())
    .filter(Boolean);
  return {
    limits: onOff(env, ENV.signupLimits) ?? true,
    perClient: [
      { limit: count(env, ENV.clientSignupsPer10Minutes, 1, 1000, 'signups'), windowMs: TEN_MINUTES },
      { limit: count(env, ENV.clientSignupsPerDay, 1, 1000, 'signups'), windowMs: DAY },
    ],
    perMailbox: [
      { limit: count(env, ENV.mailboxConfirmationsPer10Minutes, 1, 100, 'emails'), windowMs: TEN_MINUTES },
      { limit: count(env, ENV.mailboxConfirmationsPerDay, 1, 100, 'emails'), windowMs: DAY },
    ],
    confirmationsPerHour: count(env, ENV.confirmationsPerHour, 1, MAX_CONFIRMATIONS_PER_HOUR, 'emails'),
    checkDomainDns: onOff(env, ENV.checkEmailDomain) ?? false,
    ...(dnsServers && dnsServers.length > 0 ? { dnsServers } : {}),
    dnsTimeoutMs: count(env, ENV.dnsTimeoutMs, 100, 10_000, 'milliseconds'),
    ...(siteKey
      ? {
          captcha: {
            siteKey,
            verifyUrl: checkUrl(
              ENV.captchaVerifyUrl,
              optional(env, ENV.captchaVerifyUrl) ?? DEFAULTS[ENV.captchaVerifyUrl],
            ),
          },
        }
      : {}),
  };
}

/** The table of signup limits and waiting confirmations (the API function's only). */
export function readLimitsTable(env: Env = process.env): string {
  return optional(env, ENV.limitsTable) ?? 'pushletter-limits';
}

export function readSettings(env: Env = process.env): Settings {
  const rate = Number(read(env, ENV.maxSendRate));
  if (!Number.isFinite(rate) || rate <= 0) {
    throw new ConfigError(
      `${ENV.maxSendRate} must be a positive number of emails per second, for example 14 (got "${env[ENV.maxSendRate]}")`,
    );
  }
  const repository = optional(env, ENV.repository);
  if (repository !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(repository)) {
    throw new ConfigError(`${ENV.repository} must be owner/name, for example octocat/blog (got "${repository}")`);
  }
  const editors = (optional(env, ENV.editors) ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean)
    .map((address) => checkAddress(ENV.editors, address));
  const replyTo = optional(env, ENV.replyTo);
  const resendAfterSeconds = Number(read(env, ENV.resendAfterSeconds));
  if (!Number.isInteger(resendAfterSeconds) || resendAfterSeconds < 1) {
    throw new ConfigError(
      `${ENV.resendAfterSeconds} must be a whole number of seconds, at least 1, for example 900 (got "${env[ENV.resendAfterSeconds]}")`,
    );
  }
  return {
    siteUrl: checkUrl(ENV.siteUrl, read(env, ENV.siteUrl)),
    siteTitle: read(env, ENV.siteTitle),
    language: optional(env, ENV.language),
    fromAddress: checkAddress(ENV.fromAddress, read(env, ENV.fromAddress)),
    fromName: optional(env, ENV.fromName) ?? read(env, ENV.siteTitle),
    replyTo: replyTo === undefined ? undefined : checkAddress(ENV.replyTo, replyTo),
    postalAddress: read(env, ENV.postalAddress),
    publicUrl: checkUrl(ENV.publicUrl, read(env, ENV.publicUrl)),
    listName: read(env, ENV.listName),
    repository,
    branch: read(env, ENV.branch),
    githubApiUrl: checkUrl(ENV.githubApiUrl, read(env, ENV.githubApiUrl)),
    editors,
    maxSendRate: rate,
    configurationSet: optional(env, ENV.configurationSet),
    resendAfterSeconds,
    signup: readSignupSettings(env),
    topics: parseTopics(optional(env, ENV.topics)),
    timezone: readTimezone(env),
    ...readTracking(env),
    digest: readDigestSchedule(env),
  };
}

function readTimezone(env: Env): string {
  const timezone = optional(env, ENV.timezone) ?? 'UTC';
  if (!isIanaTimeZone(timezone)) {
    throw new ConfigError(
      `${ENV.timezone} must be an IANA time zone, for example Asia/Shanghai or Europe/Paris (got "${timezone}")`,
    );
  }
  return timezone;
}

/** The site's clock: PUSHLETTER_TIMEZONE when set, else the blog's `_config.yml` `timezone`, else UTC. */
export function blogTimezone(settings: Settings, configured: string | undefined, env: Env = process.env): string {
  return optional(env, ENV.timezone) !== undefined ? settings.timezone : (configured ?? settings.timezone);
}

/** Who the newsletter is: the blog it sends, as its `_config.yml` says (the local stack). */
export interface SiteIdentity {
  title: string;
  /** Where its pages answer. */
  url: string;
  language?: string;
  /** Its `_config.yml` `timezone`. */
  timezone?: string;
}

/**
 * The settings with one site identity throughout: pages, confirmation emails and the sender
 * name all carry the blog's title, and "Back to …" links go where the blog answers. An
 * explicit PUSHLETTER_FROM_NAME still names the sender.
 */
export function withSiteIdentity(settings: Settings, site: SiteIdentity, env: Env = process.env): Settings {
  const timezone = blogTimezone(settings, site.timezone, env);
  return {
    ...settings,
    siteTitle: site.title,
    siteUrl: withoutTrailingSlash(site.url),
    blogServedAt: withoutTrailingSlash(site.url),
    language: site.language ?? settings.language,
    timezone,
    fromName: optional(env, ENV.fromName) ?? site.title,
    digest: { ...settings.digest, timeZone: timezone },
  };
}

export function readResources(env: Env = process.env): Resources {
  return {
    subscribersTable: read(env, ENV.subscribersTable),
    issuesTable: read(env, ENV.issuesTable),
    deliveriesTable: read(env, ENV.deliveriesTable),
    countersTable: read(env, ENV.countersTable),
  };
}

/**
 * The tables of a deployed function, read when first used: the stack names to each function
 * only the tables it is granted, and a name that is used but not set is a deployment error, not
 * a reason to fall back to the local stack's default (which would name a table that does not
 * exist in the account).
 */
export function readDeployedResources(env: Env = process.env): Resources {
  const table = (
    key: typeof ENV.subscribersTable | typeof ENV.issuesTable | typeof ENV.deliveriesTable | typeof ENV.countersTable,
  ): string => {
    const value = optional(env, key);
    if (value === undefined)
      throw new ConfigError(
        `${key} must be set for this function (the CDK stack sets it where the function is granted the table)`,
      );
    return value;
  };
  return {
    get subscribersTable() {
      return table(ENV.subscribersTable);
    },
    get issuesTable() {
      return table(ENV.issuesTable);
    },
    get deliveriesTable() {
      return table(ENV.deliveriesTable);
    },
    get countersTable() {
      return table(ENV.countersTable);
    },
  };
}

/** Other environment values a module needs, read here so `process.env` stays in one place. */
export function readEnv(key: string, env: Env = process.env): string | undefined {
  return optional(env, key);
}

/** Where the local stack listens; the other CLI commands reach a running stack through them. */
export interface LocalPorts {
  http: number;
  ses: number;
  dynamodb: number;
}

/** The environment setting that moves each local port, for error messages. */
export const LOCAL_PORT_SETTINGS: Record<keyof LocalPorts, string> = {
  http: ENV.httpPort,
  ses: ENV.sesPort,
  dynamodb: ENV.dynamodbPort,
};

export function readLocalPorts(env: Env = process.env): LocalPorts {
  const port = (key: keyof LocalPorts, fallback: number): number => {
    const name = LOCAL_PORT_SETTINGS[key];
    const raw = optional(env, name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new ConfigError(
        `${name} must be a TCP port number between 1 and 65535, or 0 for any free port (got "${raw}")`,
      );
    }
    return value;
  };
  return { http: port('http', 3000), ses: port('ses', 8005), dynamodb: port('dynamodb', 8000) };
}

/**
 * Whether a CI service runs us (they set CI, mostly to "true"): progress bars then print
 * lines instead of redrawing. CI=false or CI=0 says it is not.
 */
export function readRunningInCi(env: Env = process.env): boolean {
  const value = optional(env, ENV.ci);
  return value !== undefined && value.toLowerCase() !== 'false' && value !== '0';
}

/** The local stack's folder for DynamoDB files and generated secrets. */
export function readDataDir(env: Env = process.env): string {
  return optional(env, ENV.dataDir) ?? '.data';
}

/**
 * The Secrets Manager secrets a Lambda reads, one per concern (functions/commons/secrets.ts);
 * the CDK stack sets the variable of each secret a function is granted, and only those.
 */
export interface SecretArns {
  tokenKey?: string;
  api?: string;
  githubToken?: string;
}

/** The variable of each secret; infra/constructs/secrets.ts sets them under this name (SECRET_ENVIRONMENT). */
export const SECRET_ARN_VARIABLES = {
  tokenKey: ENV.tokenKeySecretArn,
  api: ENV.apiSecretArn,
  githubToken: ENV.githubTokenSecretArn,
} as const satisfies Record<keyof SecretArns, string>;

export function readSecretArns(env: Env = process.env): SecretArns {
  return {
    tokenKey: optional(env, SECRET_ARN_VARIABLES.tokenKey),
    api: optional(env, SECRET_ARN_VARIABLES.api),
    githubToken: optional(env, SECRET_ARN_VARIABLES.githubToken),
  };
}

/** The ARN of one secret this function needs; a missing one is named in the error. */
export function requiredSecretArn(arns: SecretArns, which: keyof SecretArns): string {
  const arn = arns[which];
  if (arn === undefined) {
    throw new ConfigError(
      `${SECRET_ARN_VARIABLES[which]} must name the Secrets Manager secret of this function (the CDK stack sets it; for the CLI's --aws, eval the stack's CliEnvironment output)`,
    );
  }
  return arn;
}

/**
 * What the ingest function hands its work to on AWS: the dispatcher (started now, or at a
 * post's date by a one-time EventBridge schedule in the stack's group, run with a role that
 * may only invoke it). Names match infra/constructs/pipeline.ts.
 */
export interface IngestResources {
  dispatchFunctionArn: string;
  scheduleGroup: string;
  schedulerRoleArn: string;
}

export function readIngestResources(env: Env = process.env): IngestResources {
  const required = (key: string): string => {
    const value = optional(env, key);
    if (value === undefined)
      throw new ConfigError(`${key} must be set for the ingest function (the CDK stack sets it)`);
    return value;
  };
  return {
    dispatchFunctionArn: required(ENV.dispatchFunctionArn),
    scheduleGroup: required(ENV.scheduleGroup),
    schedulerRoleArn: required(ENV.schedulerRoleArn),
  };
}

/** The dispatch function the digest function starts (AWS). */
export function readDispatchFunctionArn(env: Env = process.env): string {
  const value = optional(env, ENV.dispatchFunctionArn);
  if (value === undefined)
    throw new ConfigError(`${ENV.dispatchFunctionArn} must be set for the digest function (the CDK stack sets it)`);
  return value;
}

/** The SQS queue the dispatcher puts send jobs on and the send function reads (AWS). */
export function readSendQueueUrl(env: Env = process.env): string | undefined {
  return optional(env, ENV.sendQueueUrl);
}

/**
 * SES calls one sender keeps in flight. The stack sets PUSHLETTER_SENDER_CONCURRENCY to this
 * and plans the number of senders with it (infra/constructs/pipeline.ts).
 */
export const SENDER_CONCURRENCY = 16;
const MAX_SENDER_CONCURRENCY = 256;

export function readSenderConcurrency(env: Env = process.env): number {
  const raw = optional(env, ENV.senderConcurrency);
  if (raw === undefined) return SENDER_CONCURRENCY;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_SENDER_CONCURRENCY) {
    throw new ConfigError(
      `${ENV.senderConcurrency} must be a whole number of SES calls in flight from 1 to ${MAX_SENDER_CONCURRENCY}, for example ${SENDER_CONCURRENCY} (got "${raw}")`,
    );
  }
  return value;
}

/** The SQS queue the webhook puts pushed posts on (AWS); locally the in-process queue. */
export function readIngestQueueUrl(env: Env = process.env): string | undefined {
  return optional(env, ENV.ingestQueueUrl);
}

/**
 * Where CLI commands act: the running local stack (default) or the deployed stack on AWS with
 * the default credentials (`${ENV.target}=aws`, or the command's `--aws`).
 */
export function readTarget(env: Env = process.env): 'local' | 'aws' {
  const value = optional(env, ENV.target);
  if (value === undefined || value === 'local') return 'local';
  if (value === 'aws') return 'aws';
  throw new ConfigError(`${ENV.target} must be "local" or "aws" (got "${value}")`);
}
