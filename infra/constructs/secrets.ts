import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The variables that name each secret to the functions (read in functions/commons/config.ts). */
export const SECRET_ENVIRONMENT = {
  tokenKey: 'TOKEN_KEY_SECRET_ARN',
  webhookSecret: 'WEBHOOK_SECRET_ARN',
  githubToken: 'GITHUB_TOKEN_SECRET_ARN',
} as const;

export type SecretName = keyof typeof SECRET_ENVIRONMENT;

/**
 * - token key: signs confirmation and unsubscribe tokens; generated at deploy.
 * - webhook secret: shared with GitHub to sign webhook deliveries; generated at deploy, the
 *   editor reads it once to paste into the repository's webhook settings.
 * - GitHub token: for private blog repositories; the editor puts `{"token":"github_pat_…"}`
 *   after deploy. It starts as `{"token":""}`: no token, which public repositories need not.
 */
export class Secrets extends Construct {
  readonly tokenKey: secretsmanager.Secret;
  readonly webhookSecret: secretsmanager.Secret;
  readonly githubToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const generated = { passwordLength: 64, excludePunctuation: true, includeSpace: false };
    this.tokenKey = new secretsmanager.Secret(this, 'TokenKey', {
      description: 'pushletter: HMAC key for confirmation and unsubscribe tokens',
      generateSecretString: generated,
      // Losing the key would invalidate every unsubscribe link in every email already sent.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: 'pushletter: secret shared with the GitHub webhook (X-Hub-Signature-256)',
      generateSecretString: generated,
    });
    this.githubToken = new secretsmanager.Secret(this, 'GitHubToken', {
      description: 'pushletter: GitHub token for reading a private blog repository (empty for a public one)',
      // Secrets Manager refuses an empty string; `{"token":""}` is the agreed "no token" value.
      secretObjectValue: { token: SecretValue.unsafePlainText('') },
    });

    Validations.of(this.tokenKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the token key would invalidate the unsubscribe link in every email already delivered, which RFC 8058 and CAN-SPAM require to keep working; the key never leaves Secrets Manager and the functions that read it.',
    });
    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The webhook secret is also stored in the GitHub repository settings, which Secrets Manager rotation cannot update; automatic rotation would break every webhook delivery until the editor pastes the new value.',
    });
    Validations.of(this.githubToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The GitHub token is issued by GitHub and put here by the editor; Secrets Manager cannot mint a new one, so rotation happens at GitHub (fine-grained tokens expire) followed by put-secret-value.',
    });
  }

  /** Lets `fn` read one secret's value, and names it through the variable the function reads. */
  bind(fn: lambda.Function, name: SecretName): void {
    const secret = this[name];
    fn.addEnvironment(SECRET_ENVIRONMENT[name], secret.secretArn);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
  }
}
