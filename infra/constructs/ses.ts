import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';

/** What the configuration set publishes to ses-events. */
export const SES_EVENTS = [
  ses.EmailSendingEvent.SEND,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.DELIVERY_DELAY,
] as const;

export interface SesProps {
  config: DeployConfig;
  topicKey: kms.IKey;
}

/**
 * Sending through SES: the identity mail is sent from, the configuration set every send names
 * (reputation metrics on; sends, deliveries, bounces, complaints, rejections and delays
 * published), and the SNS topic those events arrive on. Send events let a recipient whose sender died mid-send be decided: sent
 * if SES took the copy, sent again if not (functions/sending/send.ts).
 *
 * With `domain` configured the identity is that domain with Easy DKIM (three CNAME records to
 * add at the DNS host), and optionally a MAIL FROM subdomain (an MX and an SPF TXT record).
 * Without it, the identity is the from address alone: SES mails it a verification link and
 * sends unsigned by the domain, fine for a trial, not for a list. With `existingIdentity` the
 * stack creates no identity and sends from the one already in the account and region.
 */
export class Sending extends Construct {
  /** The identity the stack created; undefined with `existingIdentity`. */
  readonly identity?: ses.EmailIdentity;
  /** ARN of the identity mail is sent from, created here or not. */
  readonly identityArn: string;
  /** The domain or address of that identity. */
  readonly identityName: string;
  readonly configurationSet: ses.ConfigurationSet;
  readonly eventsTopic: sns.Topic;
  readonly configurationSetArn: string;
  private readonly fromAddress: string;

  constructor(scope: Construct, id: string, props: SesProps) {
    super(scope, id);
    const { config } = props;
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      // SES uses TLS whenever the receiving server offers it; REQUIRE would turn a reader's
      // old mail server into a bounce, and a bounce suppresses the reader for good.
      tlsPolicy: ses.ConfigurationSetTlsPolicy.OPTIONAL,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.eventsTopic = new sns.Topic(this, 'Events', {
      displayName: 'pushletter SES sends, deliveries, bounces, complaints, rejects and delays',
      enforceSSL: true,
      masterKey: props.topicKey,
    });
    // Deliveries, rejections and delays are counted per post (functions/stats/counted.ts); the
    // destination keeps its first id, so deploying this changes it in place.
    this.configurationSet.addEventDestination('BouncesAndComplaints', {
      destination: ses.EventDestination.snsTopic(this.eventsTopic),
      events: [...SES_EVENTS],
    });
    this.fromAddress = config.fromAddress;
    this.identityName = config.domain ?? config.fromAddress;
    const stack = Stack.of(this);
    if (config.existingIdentity) {
      // Every send names the configuration set itself (functions/mail/ses-mailer.ts), so events
      // are published without the identity's default set.
      this.identityArn = stack.formatArn({ service: 'ses', resource: 'identity', resourceName: this.identityName });
    } else {
      this.identity = new ses.EmailIdentity(this, 'Identity', {
        identity: config.domain ? ses.Identity.domain(config.domain) : ses.Identity.email(config.fromAddress),
        // DKIM belongs to domains; an address identity is left with SES's defaults.
        dkimSigning: config.domain !== undefined ? true : undefined,
        configurationSet: this.configurationSet,
        mailFromDomain: config.mailFromDomain,
        // Until the MX record is in place SES falls back to its own MAIL FROM instead of refusing to send.
        mailFromBehaviorOnMxFailure: config.mailFromDomain
          ? ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE
          : undefined,
      });
      this.identityArn = this.identity.emailIdentityArn;
    }
    this.configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /**
   * Lets `fn` send raw email from this identity through this configuration set. In the SES
   * sandbox, SES also authorizes the send against the recipient's identity (the sandbox only
   * delivers to verified addresses and domains), so a second statement allows sending to any of
   * the account's identities, but only with our From address: the confirmation and test emails
   * a first deployment sends to its verified addresses work before production access.
   */
  grantSend(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendRawEmail'],
        resources: [this.identityArn, this.configurationSetArn],
      }),
    );
    const identities = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendRawEmail'],
        resources: [identities],
        conditions: { StringEquals: { 'ses:FromAddress': this.fromAddress } },
      }),
    );
    Validations.of(fn.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
      reason:
        "In the SES sandbox the send is also authorized against the recipient's verified identity, whose name is not known to the stack; the statement is limited to ses:SendRawEmail with the newsletter's own From address (ses:FromAddress condition), so it cannot send as anyone else.",
    });
  }
}
