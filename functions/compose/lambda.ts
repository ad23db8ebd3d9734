import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { dynamoClient, secretsClient, sesClient } from '../commons/clients';
import { readResources, readSecretArn, readSettings } from '../commons/config';
import { ConfigError } from '../commons/errors';
import { systemClock } from '../commons/ports';
import { parseSecrets } from '../commons/secrets';
import { buildCorePorts, type CorePorts } from './ports';

/**
 * Ports for the Lambdas: settings from the environment (checked at cold start), clients with
 * the function's role, secrets from Secrets Manager. Built once per container; the promise is
 * started while the module loads, so the work happens in Lambda's init phase.
 */
export type LambdaPorts = CorePorts;

const settings = readSettings();
const resources = readResources();
const dynamo = dynamoClient();
const ses = sesClient();

async function readSecrets() {
  const arn = readSecretArn();
  const result = await secretsClient().send(new GetSecretValueCommand({ SecretId: arn }));
  if (result.SecretString === undefined) throw new ConfigError(`secret ${arn} has no string value; store it as JSON text`);
  return parseSecrets(result.SecretString, `secret ${arn}`);
}

async function compose(): Promise<LambdaPorts> {
  const secrets = await readSecrets();
  return buildCorePorts({ dynamo, ses, settings, resources, secrets, clock: systemClock });
}

let composed: Promise<LambdaPorts> | undefined;

/** The ports; a failed start (say, Secrets Manager unreachable) is retried by the next call. */
export function lambdaPorts(): Promise<LambdaPorts> {
  composed ??= compose().catch((error: unknown) => {
    composed = undefined;
    throw error;
  });
  return composed;
}

// Start during init; the handler awaits the same promise and sees any error.
lambdaPorts().catch(() => undefined);
