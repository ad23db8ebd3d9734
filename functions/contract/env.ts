/**
 * Every environment variable pushletter reads, named once. functions/commons/config.ts reads
 * them, infra/ sets them on the Lambdas, the tests and the README name them through here.
 */
export const ENV = {
  // Settings: cdk.json context on AWS, the environment (with local defaults) on one machine.
  siteUrl: 'PUSHLETTER_SITE_URL',
  siteTitle: 'PUSHLETTER_SITE_TITLE',
  language: 'PUSHLETTER_LANGUAGE',
  fromAddress: 'PUSHLETTER_FROM_ADDRESS',
  fromName: 'PUSHLETTER_FROM_NAME',
  replyTo: 'PUSHLETTER_REPLY_TO',
  postalAddress: 'PUSHLETTER_POSTAL_ADDRESS',
  publicUrl: 'PUSHLETTER_PUBLIC_URL',
  listName: 'PUSHLETTER_LIST_NAME',
  repository: 'PUSHLETTER_REPOSITORY',
  branch: 'PUSHLETTER_BRANCH',
  githubApiUrl: 'PUSHLETTER_GITHUB_API_URL',
  editors: 'PUSHLETTER_EDITORS',
  maxSendRate: 'PUSHLETTER_MAX_SEND_RATE',
  configurationSet: 'PUSHLETTER_CONFIGURATION_SET',
  resendAfterSeconds: 'PUSHLETTER_RESEND_AFTER_SECONDS',
  topics: 'PUSHLETTER_TOPICS',
  timezone: 'PUSHLETTER_TIMEZONE',
  digestDay: 'PUSHLETTER_DIGEST_DAY',
  digestHour: 'PUSHLETTER_DIGEST_HOUR',
  // Signup protection (README: Security).
  signupLimits: 'PUSHLETTER_SIGNUP_LIMITS',
  clientSignupsPer10Minutes: 'PUSHLETTER_CLIENT_SIGNUPS_PER_10_MINUTES',
  clientSignupsPerDay: 'PUSHLETTER_CLIENT_SIGNUPS_PER_DAY',
  mailboxConfirmationsPer10Minutes: 'PUSHLETTER_MAILBOX_CONFIRMATIONS_PER_10_MINUTES',
  mailboxConfirmationsPerDay: 'PUSHLETTER_MAILBOX_CONFIRMATIONS_PER_DAY',
  confirmationsPerHour: 'PUSHLETTER_CONFIRMATIONS_PER_HOUR',
  checkEmailDomain: 'PUSHLETTER_CHECK_EMAIL_DOMAIN',
  dnsServers: 'PUSHLETTER_DNS_SERVERS',
  dnsTimeoutMs: 'PUSHLETTER_DNS_TIMEOUT_MS',
  captchaSiteKey: 'PUSHLETTER_CAPTCHA_SITE_KEY',
  captchaVerifyUrl: 'PUSHLETTER_CAPTCHA_VERIFY_URL',
  // Resources the stack makes and names to each function that uses them.
  subscribersTable: 'SUBSCRIBERS_TABLE',
  issuesTable: 'ISSUES_TABLE',
  deliveriesTable: 'DELIVERIES_TABLE',
  limitsTable: 'LIMITS_TABLE',
  tokenKeySecretArn: 'PUSHLETTER_TOKEN_KEY_SECRET_ARN',
  apiSecretArn: 'PUSHLETTER_API_SECRET_ARN',
  githubTokenSecretArn: 'PUSHLETTER_GITHUB_TOKEN_SECRET_ARN',
  ingestQueueUrl: 'INGEST_QUEUE_URL',
  sendQueueUrl: 'SEND_QUEUE_URL',
  dispatchFunctionArn: 'DISPATCH_FUNCTION_ARN',
  scheduleGroup: 'SCHEDULE_GROUP_NAME',
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  senderConcurrency: 'PUSHLETTER_SENDER_CONCURRENCY',
  // One machine and the CLI.
  httpPort: 'PORT',
  sesPort: 'SES_PORT',
  dynamodbPort: 'DYNAMODB_PORT',
  dataDir: 'PUSHLETTER_DATA_DIR',
  target: 'PUSHLETTER_TARGET',
  ci: 'CI',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
