// Composition root of the CDK app: reads context, builds the stack, runs
// cdk-nag. `cdk synth` runs `node dist/main.js` (see cdk.json).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readAppConfig } from './app-config';
import { ThingcertStack } from './thingcert-stack';

const app = new App();
const config = readAppConfig(
  (key) => app.node.tryGetContext(key) as unknown,
  process.env['CDK_DEFAULT_REGION'],
);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
new ThingcertStack(app, config.stackName, {
  stackName: config.stackName,
  // With the account the CLI resolved (it has one whenever it deploys), the
  // device image is looked up once and pinned in cdk.context.json; offline,
  // without credentials, the stack stays environment-agnostic.
  env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: config.region },
  description: 'thingcert: AWS IoT devices with certificates provisioned by a custom resource',
  config,
});
app.synth();
