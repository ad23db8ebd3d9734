import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../functions/contract/env';

/** The variable naming the secret to the functions (`readSecretArn` in functions/commons/config.ts). */
export const SECRET_ENVIRONMENT = ENV.secretArn;

/**
 * The functions read one JSON secret: `tokenKey` (signs confirmation and unsubscribe tokens),
 * `webhookSecret` (shared with GitHub to sign webhook deliveries) and `githubToken` (empty
 * until the editor puts a token for a private blog repository).
 *
 * CloudFormation generates only one random value per secret, so the two random values are
 * generated in two seed secrets and copied into the JSON through dynamic references, resolved
 * by CloudFormation at deploy time: the values appear in no template, output or log. The seeds
 * are read only by CloudFormation; no function is granted them.
 */
export class Secrets extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly tokenKeySeed: secretsmanager.Secret;
  readonly webhookSecretSeed: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // 64 letters and digits: valid base64 of 48 bytes for tokenKey, and a strong webhook secret.
    const generated = { passwordLength: 64, excludePunctuation: true, includeSpace: false };
    this.tokenKeySeed = new secretsmanager.Secret(this, 'TokenKeySeed', {
      description: 'pushletter: random seed of tokenKey (copied into the newsletter secret at deploy)',
      generateSecretString: generated,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.webhookSecretSeed = new secretsmanager.Secret(this, 'WebhookSecretSeed', {
      description: 'pushletter: random seed of webhookSecret (copied into the newsletter secret at deploy)',
      generateSecretString: generated,
    });
    this.secret = new secretsmanager.Secret(this, 'Newsletter', {
      description: 'pushletter: tokenKey, webhookSecret and githubToken (JSON) read by the functions',
      secretObjectValue: {
        tokenKey: this.tokenKeySeed.secretValue,
        webhookSecret: this.webhookSecretSeed.secretValue,
        // Set by the editor for a private repository; empty means "no token".
        githubToken: SecretValue.unsafePlainText(''),
      },
      // Losing tokenKey would break the unsubscribe link in every email already delivered.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const rotation =
      'Rotation is not automatic on purpose: a new tokenKey would break the unsubscribe link in every email already delivered (RFC 8058 and CAN-SPAM need them to keep working), the webhookSecret is also stored in GitHub, which rotation cannot update, and the githubToken is issued by GitHub. The README shows how to rotate the webhook secret and the token by hand.';
    for (const secret of [this.secret, this.tokenKeySeed, this.webhookSecretSeed]) {
      Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: rotation });
    }
  }

  /** Lets `fn` read the secret's value, and names it through the variable the function reads. */
  bind(fn: lambda.Function): void {
    fn.addEnvironment(SECRET_ENVIRONMENT, this.secret.secretArn);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.secret.secretArn] }));
  }
}
