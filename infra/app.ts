import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../functions/commons/errors';
import { readDeployConfig } from './config';
import { PushletterStack } from './stack';

/** Builds the app; tests call this with their own context instead of running the CLI. */
export function buildApp(app: App = new App()): { app: App; stack: PushletterStack } {
  const config = readDeployConfig((key) => app.node.tryGetContext(key));
  const stack = new PushletterStack(app, 'Pushletter', {
    config,
    description: 'pushletter: a Jekyll blog as an email newsletter (SES, DynamoDB, Lambda)',
  });
  // cdk-nag 3 runs as a policy-validation plugin; its findings fail `cdk synth`.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const invokedByCli = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedByCli) {
  try {
    buildApp().app.synth();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
