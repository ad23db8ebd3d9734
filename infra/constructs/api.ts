import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES as ROUTE_CONTRACT } from '../../functions/contract/routes';
import { PushletterFunction } from './function';

/** Every route the API function answers (the contract's); anything else gets API Gateway's 404 without a Lambda call. */
export const ROUTES: ReadonlyArray<{ method: apigw.HttpMethod; path: string }> = ROUTE_CONTRACT.map((route) => ({
  method: apigw.HttpMethod[route.method],
  path: route.path,
}));

/**
 * Requests per second the whole API accepts (steady and burst). A signup form and a webhook
 * see a few requests a minute; the limit is there so a flood costs a bounded amount of Lambda
 * time, while one-click unsubscribes right after a large send still fit.
 */
export const THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/**
 * Limits of their own for the routes that must not share one: a flood of signups (each a
 * confirmation email) is held at its own low limit and cannot use the capacity one-click
 * unsubscribes and GitHub's deliveries need. Routes not listed get THROTTLE, each on its own.
 */
export const ROUTE_THROTTLES: Readonly<Record<string, { rateLimit: number; burstLimit: number }>> = {
  'POST /subscribe': { rateLimit: 10, burstLimit: 20 },
  // Mail providers send one-click unsubscribes in bursts right after a large send.
  'POST /unsubscribe': { rateLimit: 50, burstLimit: 100 },
  'POST /hooks/github': { rateLimit: 10, burstLimit: 20 },
  // Readers click a new post's links in a burst after the send; a throttled click is a reader
  // who gets an error instead of the page (aggregate tracking: README "Tracking").
  'GET /r/{post}/{link}': { rateLimit: 200, burstLimit: 400 },
  'GET /o/{pixel}': { rateLimit: 200, burstLimit: 400 },
  // Scanners' HEADs, in their own buckets: a scanner's burst does not take readers' clicks.
  'HEAD /r/{post}/{link}': { rateLimit: 200, burstLimit: 400 },
  'HEAD /o/{pixel}': { rateLimit: 200, burstLimit: 400 },
};

/** The API on a domain of the editor's, with the certificate for it (or one the stack requests). */
export interface ApiDomain {
  name: string;
  certificateArn?: string;
}

export interface ApiProps {
  /** The blog's origin, the only one whose pages may call the API from a script. */
  siteOrigin: string;
  /** The function's environment, given the API's public URL (links in emails point at it). */
  environment: (publicUrl: string) => Record<string, string>;
  domain?: ApiDomain;
}

/**
 * The HTTP API: reader pages, signup, confirmation, unsubscribe (with RFC 8058 one-click POST)
 * and the GitHub webhook, all answered by one function. The `$default` stage keeps the paths
 * the same as the local server's (no stage prefix in URLs).
 */
export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly handler: PushletterFunction;
  readonly accessLogs: logs.LogGroup;
  /**
   * Base URL of links in emails and of the outputs, without a trailing slash: `https://<apiDomain>`
   * when a domain is configured, else `https://<id>.execute-api.<region>.amazonaws.com`.
   */
  readonly url: string;
  readonly domainName?: apigw.DomainName;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'pushletter: reader pages and the GitHub webhook',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [props.siteOrigin],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST],
        allowHeaders: ['content-type'],
        maxAge: Duration.hours(1),
      },
    });
    if (props.domain) {
      const certificate = props.domain.certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn)
        : // CloudFormation waits at this resource until the validation CNAME ACM asks for is in DNS.
          new acm.Certificate(this, 'Certificate', {
            domainName: props.domain.name,
            validation: acm.CertificateValidation.fromDns(),
          });
      this.domainName = new apigw.DomainName(this, 'Domain', { domainName: props.domain.name, certificate });
    }
    this.url = props.domain ? `https://${props.domain.name}` : this.httpApi.apiEndpoint;
    this.handler = new PushletterFunction(this, 'Handler', {
      entry: 'api',
      description: 'pushletter: signup, confirm and unsubscribe pages and the GitHub webhook',
      memorySize: 512,
      // GitHub gives a webhook delivery 10 s; the handler only verifies and enqueues.
      timeout: Duration.seconds(10),
      environment: props.environment(this.url),
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: THROTTLE,
      ...(this.domainName ? { domainMapping: { domainName: this.domainName } } : {}),
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        // No source IP, no query string: tokens travel in the query string and IPs are
        // personal data the logs do not need.
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    // Route-level limits: the L2 stage sets only the default route's. The property is free-form
    // JSON to CDK, so it is written in CloudFormation's own casing.
    (this.stage.node.defaultChild as apigw.CfnStage).routeSettings = Object.fromEntries(
      Object.entries(ROUTE_THROTTLES).map(([route, limit]) => [
        route,
        { ThrottlingRateLimit: limit.rateLimit, ThrottlingBurstLimit: limit.burstLimit },
      ]),
    );

    const integration = new HttpLambdaIntegration('Handler', this.handler);
    for (const route of ROUTES) {
      const routes = this.httpApi.addRoutes({ path: route.path, methods: [route.method], integration });
      for (const added of routes) {
        // API Gateway refuses route settings for a route that does not exist yet.
        if (`${route.method} ${route.path}` in ROUTE_THROTTLES) this.stage.node.addDependency(added);
        Validations.of(added).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Public by design: readers sign up and unsubscribe without an account (RFC 8058 forbids requiring a login to unsubscribe), confirm and unsubscribe carry HMAC-signed tokens checked by the function, and GitHub authenticates the webhook with an HMAC signature, not an AWS authorizer.',
        });
      }
    }
  }
}
