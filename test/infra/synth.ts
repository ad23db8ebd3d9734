import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json';
import { buildApp } from '../../infra/app';
import type { PushletterStack } from '../../infra/stack';

/** The context a deployment would pass: cdk.json's defaults overridden like `-c key=value`. */
export const DEPLOYED_CONTEXT = {
  ...cdkJson.context,
  siteUrl: 'https://blog.example.org',
  fromAddress: 'letters@news.example.org',
  fromName: 'Example Letters',
  replyTo: 'editor@example.org',
  repository: 'octocat/blog',
  editors: 'editor@example.org,second@example.org',
  maxSendRate: '50',
  domain: 'example.org',
  alarmEmail: 'ops@example.org',
  topics: [{ name: '旅行', en: 'Travel', zh: '旅行' }, { name: 'rust' }],
};

export interface Synthesized {
  app: App;
  stack: PushletterStack;
  template: Template;
}

/**
 * Builds the app as `cdk synth` does. Without `bundle`, esbuild is skipped (CDK's
 * `aws:cdk:bundling-stacks` context set to no stack): the template is the same, only the code
 * assets are placeholders, and a synth takes a second instead of a minute.
 */
export function synthesize(
  context: Record<string, unknown> = DEPLOYED_CONTEXT,
  options: { bundle?: boolean } = {},
): Synthesized {
  const app = new App({
    context: { ...context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const { stack } = buildApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}
