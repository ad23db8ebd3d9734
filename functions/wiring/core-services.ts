import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SESClient } from '@aws-sdk/client-ses';
import { DynamoCounterStore } from '../adapters/dynamodb/counter-store';
import { DynamoFollowUps } from '../adapters/dynamodb/follow-up-store';
import { readIssueLinks } from '../adapters/dynamodb/issue-links';
import { DynamoSubscriberStore } from '../adapters/dynamodb/subscriber-store';
import { DynamoWelcomeStore } from '../adapters/dynamodb/welcome-store';
import { SesMailer } from '../adapters/ses-mailer';
import type { Clock } from '../commons/clock';
import { type Resources, readLimitsTable, type Settings } from '../commons/config';
import type { Secrets } from '../commons/secrets';
import type { AppDependencies } from '../http/types';
import type { Mailer } from '../mail/mailer';
import type { CounterStore } from '../stats/counters';
import { cachedLinks, LinkSigner } from '../stats/tracked-links';
import type { CaptchaVerifier } from '../subscribers/captcha';
import { ConfirmationMailer } from '../subscribers/confirmation-email';
import type { SignupGuard } from '../subscribers/guard';
import { deriveKeys } from '../subscribers/keys';
import { SubscriptionService } from '../subscribers/service';
import type { SignupLimits } from '../subscribers/signup-limits';
import { WelcomeEmails } from '../subscribers/welcome-email';

/** What guards the public form (built by wiring/signup.ts, for the API function and the local stack only). */
export interface SignupProtection {
  guard: SignupGuard;
  limits: SignupLimits;
  captcha?: CaptchaVerifier;
}

/**
 * The wiring both environments share: given clients, settings and secrets, build the domain
 * objects. wiring/lambda-services.ts and local/local-services.ts differ only in where those inputs come from
 * (and in the queue, which is SQS on AWS and in-process locally).
 *
 * Keep this free of anything that loads mjml: the API and send Lambdas bundle it.
 */
export interface CoreInputs {
  dynamo: DynamoDBClient;
  ses: SESClient;
  settings: Settings;
  resources: Resources;
  /** The token key, and the API's CAPTCHA key: the other secrets belong to one function each. */
  secrets: Pick<Secrets, 'tokenKey' | 'captchaSecret'>;
  clock: Clock;
  /** The signup limits table; LIMITS_TABLE (or its default) when not given. */
  limitsTable?: string;
  /** `signupProtection` from ./signup, passed in by the API entry and the local stack only. */
  protection?: (inputs: CoreInputs, hashKey: Buffer) => SignupProtection;
  /** Where everything is counted; the counters table (COUNTERS_TABLE) unless given. */
  counters?: CounterStore;
}

export interface CoreServices extends CoreInputs {
  mailer: Mailer;
  /** The blog's welcome email, in the issues table: ingest writes it, the API reads it. */
  welcomes: DynamoWelcomeStore;
  subscribers: DynamoSubscriberStore;
  subscriptions: SubscriptionService;
  /** The aggregate counters; the table is named on first use (only functions granted it count). */
  counters: CounterStore;
  /** Where the protection was built: the API function and the local stack. */
  signupLimits?: SignupLimits;
  /** What the HTTP app needs; see functions/http/app.ts. */
  http: AppDependencies;
  /** Signs the redirect links of posts sent with tracking `aggregate` (ingest). */
  linkKey: Buffer;
}

export function buildCoreServices(inputs: CoreInputs): CoreServices {
  const { settings, clock } = inputs;
  const keys = deriveKeys(Buffer.from(inputs.secrets.tokenKey, 'base64'));
  const mailer = new SesMailer(inputs.ses, settings.configurationSet);
  const subscribers = new DynamoSubscriberStore({
    client: inputs.dynamo,
    tableName: inputs.resources.subscribersTable,
    idKey: keys.idKey,
    listName: settings.listName,
    clock,
  });
  let store: DynamoCounterStore | undefined;
  const table = () => (store ??= new DynamoCounterStore(inputs.dynamo, inputs.resources.countersTable));
  const counters: CounterStore = inputs.counters ?? {
    add: (increments) => table().add(increments),
    read: (scope) => table().read(scope),
  };
  const protection = inputs.protection?.(inputs, keys.ipKey);
  const confirmations = new ConfirmationMailer(mailer, settings);
  const welcomes = new DynamoWelcomeStore(inputs.dynamo, inputs.resources);
  const subscriptions = new SubscriptionService({
    store: subscribers,
    keys,
    mailer: confirmations,
    clock,
    publicUrl: settings.publicUrl,
    defaultLanguage: settings.language,
    guard: protection?.guard,
    // Where readers sign up and confirm (the API function, the local stack): their follow-ups
    // wait in the limits table beside the signup limits.
    followUps: protection && {
      followUps: new DynamoFollowUps(inputs.dynamo, inputs.limitsTable ?? readLimitsTable()),
      mailer,
      welcome: new WelcomeEmails(settings, welcomes),
      confirmations,
    },
    counters,
    timeZone: settings.timezone,
  });
  const captcha = protection?.captcha;
  // The redirect answers whatever the setting (links of posts sent while it was on must keep
  // working) and counts only while it is `aggregate` (http/tracking-routes.ts).
  const tracking = {
    signer: new LinkSigner(keys.linkKey),
    links: cachedLinks((postId) => readIssueLinks(inputs.dynamo, inputs.resources.issuesTable, postId)),
    counters,
  };
  return {
    ...inputs,
    mailer,
    welcomes,
    subscribers,
    subscriptions,
    counters,
    signupLimits: protection?.limits,
    http: { settings, clock, subscriptions, tracking, ...(captcha ? { captcha } : {}) },
    linkKey: keys.linkKey,
  };
}
