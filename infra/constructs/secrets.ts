import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRET_ARN_VARIABLES } from '../../functions/commons/config';

/**
 * The variables naming each secret to the functions, as `readSecretArns` reads them: defined
 * beside that reader (functions/commons/config.ts), which cannot import infra.
 */
export const SECRET_ENVIRONMENT = SECRET_ARN_VARIABLES;

export type SecretName = keyof typeof SECRET_ENVIRONMENT;

/** 64 letters and digits: valid base64 of 48 bytes for the token key, and a strong webhook secret. */
const GENERATED = { passwordLength: 64, excludePunctuation: true, includeSpace: false } as const;

/**
 * One secret per concern, each read only by the functions that need it:
 *
 * - `tokenKey`: the token key, the secret's whole value (signs confirm and unsubscribe links,
 *   keys subscriber ids). Read by api, send, dispatch and ses-events.
 * - `api`: JSON `{"webhookSecret": …}`, shared with GitHub to sign webhook deliveries; further
 *   keys only the API reads (a CAPTCHA secret key) go into the same JSON. Read by api.
 * - `githubToken`: JSON `{"githubToken": ""}` until the editor puts a token for a private
 *   repository. Read by ingest.
 *
 * CloudFormation generates each value once, when it creates the secret, and the template holds
 * no value: a stack update never rewrites what the editor put there (only changing the
 * generation settings below would). The `unused` key of the GitHub token secret is the random
 * value CloudFormation must generate to create a secret without a value in the template.
 */
export class Secrets extends Construct {
  readonly tokenKey: secretsmanager.Secret;
  readonly api: secretsmanager.Secret;
  readonly githubToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The construct id of the first deployments' token key seed: a stack deployed before keeps
    // its key, and with it the links in every email already delivered.
    this.tokenKey = new secretsmanager.Secret(this, 'TokenKeySeed', {
      description: 'pushletter: the token key that signs confirmation and unsubscribe links (never change it)',
      generateSecretString: GENERATED,
      // Losing the key would break the unsubscribe link in every email already delivered.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new secretsmanager.Secret(this, 'ApiSecret', {
      description:
        'pushletter: JSON read by the API function: webhookSecret (also set in the GitHub webhook) and its other keys',
      generateSecretString: { ...GENERATED, secretStringTemplate: '{}', generateStringKey: 'webhookSecret' },
    });
    this.githubToken = new secretsmanager.Secret(this, 'GitHubToken', {
      description:
        'pushletter: JSON {"githubToken": "…"} read by the ingest function; empty for a public blog repository',
      generateSecretString: {
        ...GENERATED,
        secretStringTemplate: JSON.stringify({ githubToken: '' }),
        generateStringKey: 'unused',
      },
    });

    const rotation =
      'Rotation is not automatic on purpose: a new token key would break the unsubscribe link in every email already delivered (RFC 8058 and CAN-SPAM need them to keep working), the webhook secret is also stored in GitHub, which rotation cannot update, and the GitHub token is issued by GitHub. The README shows how to replace the webhook secret and the token by hand.';
    for (const secret of [this.tokenKey, this.api, this.githubToken]) {
      Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: rotation });
    }
  }

  /** Lets `fn` read one secret's value, and names it through the variable the function reads. */
  bind(fn: lambda.Function, name: SecretName): void {
    const secret = this[name];
    fn.addEnvironment(SECRET_ENVIRONMENT[name], secret.secretArn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
  }
}
