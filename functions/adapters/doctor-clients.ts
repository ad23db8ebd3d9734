import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * The clients `pushletter doctor --aws` uses, kept out of ./clients so no Lambda bundle loads
 * these SDK packages. Region, credentials and endpoints come from the SDK's own chain
 * (AWS_REGION, AWS_PROFILE, `AWS_ENDPOINT_URL_<SERVICE>`): the doctor checks the deployment
 * the person's shell points at, in whatever region that is.
 */
export interface DoctorClients {
  cloudFormation: CloudFormationClient;
  sesv2: SESv2Client;
  ses: SESClient;
  sns: SNSClient;
  dynamo: DynamoDBClient;
}

// A stuck connection must not hang the checklist; each check reports its own failure.
const OPTIONS = { requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 }, maxAttempts: 3 };

export function doctorClients(): DoctorClients {
  return {
    cloudFormation: new CloudFormationClient(OPTIONS),
    sesv2: new SESv2Client(OPTIONS),
    // The probe is sent once: a retried send could put a second probe in flight.
    ses: new SESClient({ ...OPTIONS, maxAttempts: 1 }),
    sns: new SNSClient(OPTIONS),
    dynamo: new DynamoDBClient(OPTIONS),
  };
}
