import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The customer-managed key that encrypts the SNS topics at rest. SES and CloudWatch cannot
 * publish to a topic encrypted with the AWS-managed `aws/sns` key, so encrypting the topics
 * takes a key of our own whose policy names those two services.
 *
 * The policy lists the administration actions the account keeps instead of the usual `kms:*`,
 * so the template contains no wildcard action.
 */
const ADMINISTRATION = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateGrant',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

export class TopicKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AccountAdministers',
          principals: [new iam.AccountRootPrincipal()],
          actions: ADMINISTRATION,
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'SesPublishesEvents',
          principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          // In a key policy `*` means this key.
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        // As AWS documents it for alarm actions, without conditions: the alarm topic's own
        // policy decides which alarms may publish (this account's only).
        new iam.PolicyStatement({
          sid: 'CloudWatchPublishesAlarms',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: ['*'],
        }),
      ],
    });
    this.key = new kms.Key(this, 'Key', {
      description: 'pushletter: encrypts the SES event and alarm topics',
      enableKeyRotation: true,
      // It protects messages in flight only (SNS keeps none), so nothing needs it after the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
      policy,
    });
  }
}
