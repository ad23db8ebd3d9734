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
      'apiDomain',
      'https://letters.example.org',
      /"apiDomain" must be a domain name .*-c apiDomain=newsletter\.blog\.example\.com/,
    ],
    [
      'apiCertificateArn',
      'arn:aws:iam::123456789012:role/x',
      /"apiCertificateArn" is for apiDomain: set apiDomain too/,
    ],
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
      topics: [],
      digest: { day: 'monday', hour: 8, timeZone: 'UTC' },
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
