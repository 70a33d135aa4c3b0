import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of {@link FleetFunction}. */
export interface FleetFunctionProps {
  /** What it does, for the console. */
  readonly description: string;
  /** The fleet functions' code (`@thingcert/cert-provisioner`'s `dist/fleet`). */
  readonly code: lambda.Code;
  /** `<file>.handler` inside the code. */
  readonly handler: string;
  /** Lambda timeout. */
  readonly timeout: Duration;
  /** Environment variables. */
  readonly environment: Record<string, string>;
}

/**
 * One of a fleet's Lambda functions (Node.js 22, arm64), with a role of its
 * own that may write only its own log group: callers add what it does.
 */
export class FleetFunction extends Construct {
  /** The function. */
  readonly function: lambda.Function;
  /** Its execution role. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FleetFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Not the default role: it would carry AWSLambdaBasicExecutionRole (every log group).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: props.handler,
      code: props.code,
      timeout: props.timeout,
      memorySize: 256,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: props.environment,
    });
    // The function answers only once its permissions exist, and loses them only after it is gone.
    this.function.node.addDependency(this.role);
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The fleet bundle and the AWS SDK v3 releases it pins target Node.js 22; nodejs22.x is supported until 2027.',
    });
  }

  /** Adds a statement to the function's role. */
  allow(sid: string, actions: readonly string[], resources: readonly string[]): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid, actions: [...actions], resources: [...resources] }),
    );
  }
}
