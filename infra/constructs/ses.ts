import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config';

export interface SesProps {
  config: DeployConfig;
  topicKey: kms.IKey;
}

/**
 * Sending through SES: the identity mail is sent from, the configuration set every send names
 * (reputation metrics on; sends, bounces and complaints published), and the SNS topic those
 * events arrive on. Send events let a recipient whose sender died mid-send be decided: sent
 * if SES took the copy, sent again if not (functions/sending/send.ts).
 *
 * With `domain` configured the identity is that domain with Easy DKIM (three CNAME records to
 * add at the DNS host). Without it, the identity is the from address alone: SES mails it a
 * verification link and sends unsigned by the domain, fine for a trial, not for a list.
 */
export class Sending extends Construct {
  readonly identity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  readonly eventsTopic: sns.Topic;
  readonly configurationSetArn: string;

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
      displayName: 'pushletter SES sends, bounces and complaints',
      enforceSSL: true,
      masterKey: props.topicKey,
    });
    this.configurationSet.addEventDestination('BouncesAndComplaints', {
      destination: ses.EventDestination.snsTopic(this.eventsTopic),
      events: [ses.EmailSendingEvent.SEND, ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    this.identity = new ses.EmailIdentity(this, 'Identity', {
      identity: config.domain ? ses.Identity.domain(config.domain) : ses.Identity.email(config.fromAddress),
      // DKIM belongs to domains; an address identity is left with SES's defaults.
      dkimSigning: config.domain !== undefined ? true : undefined,
      configurationSet: this.configurationSet,
    });
    this.configurationSetArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /** Lets `fn` send raw email from this identity through this configuration set, nothing else. */
  grantSend(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendRawEmail'],
        resources: [this.identity.emailIdentityArn, this.configurationSetArn],
      }),
    );
  }
}
