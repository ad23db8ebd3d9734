import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkQueueProps {
  /** The consumer's timeout: SQS hides a received message for six times this (AWS's advice). */
  consumerTimeout: Duration;
  /** Receives before a message is parked in the dead-letter queue. */
  maxReceiveCount: number;
}

/** Lambda recommends a visibility timeout of at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

function encryptedQueue(scope: Construct, id: string, props: sqs.QueueProps): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    ...props,
  });
}

/** A queue with its dead-letter queue: SSE, TLS-only, and a visibility timeout fit for its consumer. */
export class WorkQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.deadLetterQueue = encryptedQueue(this, 'DeadLetters', {
      // The longest SQS allows: time to find out why a message failed and redrive it.
      retentionPeriod: Duration.days(14),
    });
    this.queue = encryptedQueue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }

  /** Lets `fn` put messages on the queue, and names it through `variable` (a queue URL). */
  bindProducer(fn: lambda.Function, variable: string): void {
    fn.addEnvironment(variable, this.queue.queueUrl);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
  }
}

/** A dead-letter queue for a function invoked asynchronously (SNS, Scheduler, Lambda Invoke). */
export function asyncDeadLetterQueue(scope: Construct, id: string): sqs.Queue {
  return encryptedQueue(scope, id, { retentionPeriod: Duration.days(14) });
}
