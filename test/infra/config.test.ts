import { describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { readSettings, readSignupSettings } from '../../functions/commons/config';
import { readDeployConfig, settingsEnvironment } from '../../infra/config';
import { DEPLOYED_CONTEXT, synthesize } from './synth';

const fromContext = (context: Record<string, unknown>) => () => readDeployConfig((key) => context[key]);

describe('deploy configuration', () => {
  it('accepts the cdk.json defaults, which serve the local stack', () => {
    const config = readDeployConfig((key) => (cdkJson.context as Record<string, unknown>)[key]);
    expect(config).toMatchObject({
      siteUrl: 'http://localhost:4000',
      fromAddress: 'newsletter@example.com',
      maxSendRate: 14,
      language: 'en',
      editors: [],
    });
    expect(config.domain).toBeUndefined();
    expect(config.topics).toEqual([]);
  });

  it('reads topics as a cdk.json list, labels defaulting to the name, or from a -c flag as JSON or names', () => {
    const read = (topics: unknown) =>
      readDeployConfig((key) => ({ ...DEPLOYED_CONTEXT, topics })[key as 'topics']).topics;
    expect(
      read([
        { name: ' 旅行 ', en: 'Travel' },
        { name: 'rust', zh: 'Rust 编程' },
      ]),
    ).toEqual([
      { name: '旅行', en: 'Travel', zh: '旅行' },
      { name: 'rust', en: 'rust', zh: 'Rust 编程' },
    ]);
    expect(read('[{"name":"旅行","en":"Travel"}]')).toEqual([{ name: '旅行', en: 'Travel', zh: '旅行' }]);
    expect(read('旅行, rust,')).toEqual([
      { name: '旅行', en: '旅行', zh: '旅行' },
      { name: 'rust', en: 'rust', zh: 'rust' },
    ]);
    expect(read(undefined)).toEqual([]);
  });

  it('passes topics to the functions as JSON, which their settings reader takes back whole', () => {
    const config = readDeployConfig(
      (key) => ({ ...DEPLOYED_CONTEXT, topics: [{ name: 'a, b', en: 'A and B', zh: '甲乙' }] })[key as 'topics'],
    );
    const environment = settingsEnvironment(config, { publicUrl: 'https://api.example.org', configurationSet: 'set' });
    expect(readSettings({ ...environment, PUSHLETTER_PUBLIC_URL: 'https://api.example.org' }).topics).toEqual([
      { name: 'a, b', en: 'A and B', zh: '甲乙' },
    ]);
    const none = readDeployConfig((key) => ({ ...DEPLOYED_CONTEXT, topics: [] })[key as 'topics']);
    expect(
      settingsEnvironment(none, { publicUrl: 'https://api.example.org', configurationSet: 'set' }),
    ).not.toHaveProperty('PUSHLETTER_TOPICS');
  });

  it('reads -c flags, which arrive as strings: numbers and comma-separated lists', () => {
    const config = readDeployConfig((key) => (DEPLOYED_CONTEXT as Record<string, unknown>)[key]);
    expect(config.maxSendRate).toBe(50);
    expect(config.editors).toEqual(['editor@example.org', 'second@example.org']);
    expect(config.domain).toBe('example.org');
  });

  it.each([
    ['siteUrl', undefined, /"siteUrl" is missing: pass -c siteUrl=https:\/\/blog\.example\.com/],
    [
      'siteUrl',
      'blog.example.com',
      /"siteUrl" must be an absolute http\(s\) URL .*-c siteUrl=https:\/\/blog\.example\.com/,
    ],
    [
      'fromAddress',
      'newsletter',
      /"fromAddress" must be an email address \(got "newsletter"\).*-c fromAddress=newsletter@blog\.example\.com/,
    ],
    ['fromAddress', '', /"fromAddress" is missing/],
    ['maxSendRate', 'fast', /"maxSendRate" must be a number .*-c maxSendRate=14/],
    ['maxSendRate', 0, /"maxSendRate" must be a number/],
    ['language', 'fr', /"language" must be one of en, zh-CN \(got "fr"\)/],
    ['repository', 'blog', /"repository" must be owner\/name .*-c repository=octocat\/blog/],
    ['editors', 'editor@example.org,not-an-address', /"editors" must be an email address \(got "not-an-address"\)/],
    ['replyTo', 'editor@example.org\r\nBcc: victim@example.com', /"replyTo" must be an email address/],
    ['domain', 'not a domain', /"domain" must be a domain name/],
    ['domain', 'other.example', /"domain" must be the domain of fromAddress "letters@news\.example\.org"/],
    ['alarmEmail', 'ops', /"alarmEmail" must be an email address/],
    ['mailFromDomain', 'mail.other.example', /"mailFromDomain" must be a subdomain of "domain" .*mail\.example\.org/],
    ['mailFromDomain', 'example.org', /"mailFromDomain" must be a subdomain of "domain"/],
    ['existingIdentity', 'yes', /"existingIdentity" must be true or false/],
    ['timezone', 'Mars/Olympus', /"timezone" must be an IANA time zone .*-c timezone=Asia\/Shanghai/],
    [
      'digestDay',
      'someday',
      /"digestDay" must be a weekday such as monday or mon \(got "someday"\).*-c digestDay=monday/,
    ],
    ['digestHour', '8am', /"digestHour" must be a whole hour from 0 to 23 \(got "8am"\)/],
    ['digestHour', 24, /"digestHour" must be a whole hour/],
    [
      'topics',
      { name: 'rust' },
      /"topics" must be a list of topics \(got \{"name":"rust"\}\).*set "topics" under "context"/,
    ],
    [
      'topics',
      [{ name: 'rust' }, { en: 'Travel' }],
      /"topics" item 2 needs a "name": a category or tag as the posts' front matter writes it/,
    ],
    [
      'topics',
      [{ name: 'rust', label: 'Rust' }],
      /"topics" item 1 has "label"; a topic has only "name", "en" and "zh"/,
    ],
    [
      'topics',
      [{ name: 'Rust' }, { name: 'rust' }],
      /"topics" names "Rust" and "rust", one topic \(names compare without case\)/,
    ],
    ['topics', [{ name: 7 }], /"topics" item 1 "name" must be a string \(got 7\)/],
    ['topics', ['rust'], /"topics" item 1 must be an object with a "name" \(got "rust"\)/],
    ['topics', '[{"name":', /"topics" is not a valid JSON list/],
    [
      'apiDomain',
      'https://letters.example.org',
      /"apiDomain" must be a domain name .*-c apiDomain=newsletter\.blog\.example\.com/,
    ],
    [
      'apiCertificateArn',
      'arn:aws:iam::123456789012:role/x',
      /"apiCertificateArn" is for apiDomain: set apiDomain too/,
    ],
    [
      'tracking',
      'per-reader',
      /"tracking" must be off or aggregate; there is no per-reader tracking .*-c tracking=aggregate/,
    ],
    ['opens', 'yes', /"opens" must be true or false/],
    ['opens', true, /"opens" counts opens only with tracking aggregate: set -c tracking=aggregate too/],
  ])('rejects %s = %j with a message naming the key and an example', (key, value, message) => {
    expect(fromContext({ ...DEPLOYED_CONTEXT, [key]: value })).toThrow(message);
  });

  it('checks the mail and domain options together: MAIL FROM below the domain, on an identity the stack creates, a certificate of ACM', () => {
    const config = readDeployConfig(
      (key) =>
        (
          ({
            ...DEPLOYED_CONTEXT,
            mailFromDomain: 'Bounce.Example.org',
            apiDomain: 'letters.example.org',
            existingIdentity: false,
          }) as Record<string, unknown>
        )[key],
    );
    expect(config).toMatchObject({
      mailFromDomain: 'bounce.example.org',
      apiDomain: 'letters.example.org',
      existingIdentity: false,
    });
    expect(
      fromContext({ ...DEPLOYED_CONTEXT, mailFromDomain: 'bounce.example.org', existingIdentity: 'true' }),
    ).toThrow(
      /"mailFromDomain" is set on an identity the stack creates; with existingIdentity set the MAIL FROM domain in the SES console/,
    );
    expect(fromContext({ ...DEPLOYED_CONTEXT, domain: undefined, mailFromDomain: 'bounce.example.org' })).toThrow(
      /"mailFromDomain" must be a subdomain of "domain" \(set domain too\)/,
    );
    expect(
      fromContext({
        ...DEPLOYED_CONTEXT,
        apiDomain: 'letters.example.org',
        apiCertificateArn: 'arn:aws:iam::123456789012:role/x',
      }),
    ).toThrow(/"apiCertificateArn" must be the ARN of an ACM certificate/);
  });

  it('reads context as cdk.json writes it (lists, numbers, booleans) and names a value of the wrong kind', () => {
    const config = readDeployConfig(
      (key) =>
        (
          ({
            ...DEPLOYED_CONTEXT,
            editors: [' editor@example.org ', ''],
            siteTitle: 2026,
            existingIdentity: 'true',
            checkEmailDomain: true,
          }) as Record<string, unknown>
        )[key],
    );
    expect(config).toMatchObject({ editors: ['editor@example.org'], siteTitle: '2026', existingIdentity: true });
    expect(config.signupEnvironment).toEqual({ PUSHLETTER_CHECK_EMAIL_DOMAIN: 'on' });
    expect(fromContext({ ...DEPLOYED_CONTEXT, editors: ['editor@example.org', 3] })).toThrow(
      /cdk context "editors" must list addresses as strings \(got 3\): pass -c editors=/,
    );
    expect(fromContext({ ...DEPLOYED_CONTEXT, editors: { first: 'editor@example.org' } })).toThrow(
      /cdk context "editors" must be a comma-separated list of addresses/,
    );
    expect(fromContext({ ...DEPLOYED_CONTEXT, siteTitle: ['My blog'] })).toThrow(
      /cdk context "siteTitle" must be a string \(got \["My blog"\]\)/,
    );
    expect(fromContext({ ...DEPLOYED_CONTEXT, captchaSiteKey: { key: 'x' } })).toThrow(
      /^cdk context "captchaSiteKey" must be a string, number or true\/false \(got \{"key":"x"\}\)$/,
    );
  });

  it('fails synthesis itself, before any resource is built, on an invalid value', () => {
    expect(() => synthesize({ ...DEPLOYED_CONTEXT, fromAddress: 'nobody' })).toThrow(/cdk context "fromAddress"/);
  });

  it('names the sender after the site unless fromName says otherwise', () => {
    const { fromName: _, ...withoutName } = DEPLOYED_CONTEXT;
    const read = (context: Record<string, unknown>) => readDeployConfig((key) => context[key]);
    expect(read({ ...withoutName, siteTitle: 'Field Notes · 田野笔记' }).fromName).toBe('Field Notes · 田野笔记');
    expect(read({ ...DEPLOYED_CONTEXT, siteTitle: 'Field Notes' }).fromName).toBe('Example Letters');
  });

  it('accepts a subdomain sender under the configured domain', () => {
    expect(
      fromContext({ ...DEPLOYED_CONTEXT, fromAddress: 'a@mail.news.example.org', domain: 'example.org' }),
    ).not.toThrow();
  });

  it('hands the functions settings their own config reader accepts, unchanged', () => {
    const config = readDeployConfig((key) => (DEPLOYED_CONTEXT as Record<string, unknown>)[key]);
    const environment = settingsEnvironment(config, {
      publicUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      configurationSet: 'set',
    });
    expect(readSettings(environment)).toEqual({
      siteUrl: 'https://blog.example.org',
      siteTitle: config.siteTitle,
      language: 'en',
      fromAddress: 'letters@news.example.org',
      fromName: 'Example Letters',
      replyTo: 'editor@example.org',
      postalAddress: config.postalAddress,
      publicUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      listName: 'newsletter',
      repository: 'octocat/blog',
      branch: 'main',
      githubApiUrl: 'https://api.github.com',
      editors: ['editor@example.org', 'second@example.org'],
      maxSendRate: 50,
      configurationSet: 'set',
      // The sender's timeout at 50/s plus 600 s, raised to the 900 s floor.
      resendAfterSeconds: 900,
      signup: { ...readSignupSettings({}), checkDomainDns: true },
      timezone: 'UTC',
      topics: [
        { name: '旅行', en: 'Travel', zh: '旅行' },
        { name: 'rust', en: 'rust', zh: 'rust' },
      ],
      digest: { day: 'monday', hour: 8, timeZone: 'UTC' },
      tracking: 'off',
      opens: false,
    });
    const tracked = readDeployConfig(
      (key) => (({ ...DEPLOYED_CONTEXT, tracking: 'aggregate', opens: true }) as Record<string, unknown>)[key],
    );
    expect(
      readSettings(settingsEnvironment(tracked, { publicUrl: 'https://x.example', configurationSet: 'set' })),
    ).toMatchObject({
      tracking: 'aggregate',
      opens: true,
    });
  });

  it('refuses a tracking setting the functions would not know, naming the variable', () => {
    expect(() => readSettings({ PUSHLETTER_TRACKING: 'per-reader' })).toThrow(
      /PUSHLETTER_TRACKING must be "off" or "aggregate" \(got "per-reader"\); there is no per-reader tracking/,
    );
    expect(() => readSettings({ PUSHLETTER_TRACKING_OPENS: 'on' })).toThrow(
      /PUSHLETTER_TRACKING_OPENS must be "true" or "false"/,
    );
    expect(() => readSettings({ PUSHLETTER_TRACKING_OPENS: 'true' })).toThrow(
      /PUSHLETTER_TRACKING_OPENS=true counts opens only with PUSHLETTER_TRACKING=aggregate/,
    );
    expect(readSettings({ PUSHLETTER_TRACKING: ' Aggregate ', PUSHLETTER_TRACKING_OPENS: 'TRUE' })).toMatchObject({
      tracking: 'aggregate',
      opens: true,
    });
  });

  it('reads the signup protection from context, with the key named when a value is wrong', () => {
    const config = readDeployConfig(
      (key) =>
        (
          ({
            ...DEPLOYED_CONTEXT,
            confirmationsPerHour: 50,
            clientSignupsPerDay: '10',
            checkEmailDomain: false,
            captchaSiteKey: '0x4AAA',
          }) as Record<string, unknown>
        )[key],
    );
    const signup = readSettings(
      settingsEnvironment(config, { publicUrl: 'https://x.example', configurationSet: 'set' }),
    ).signup;
    expect(signup).toMatchObject({
      confirmationsPerHour: 50,
      checkDomainDns: false,
      captcha: { siteKey: '0x4AAA', verifyUrl: 'https://challenges.cloudflare.com/turnstile/v0/siteverify' },
    });
    expect(signup.perClient[1]).toEqual({ limit: 10, windowMs: 24 * 60 * 60 * 1000 });
    expect(fromContext({ ...DEPLOYED_CONTEXT, confirmationsPerHour: 'lots' })).toThrow(
      /cdk context "confirmationsPerHour": must be a whole number of emails from 1 to 100000, for example 200 \(got "lots"\)/,
    );
    expect(fromContext({ ...DEPLOYED_CONTEXT, signupLimits: 'maybe' })).toThrow(
      /cdk context "signupLimits": must be "on" or "off"/,
    );
  });
});
