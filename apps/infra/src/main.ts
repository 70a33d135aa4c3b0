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
  env: config.region === undefined ? undefined : { region: config.region },
  description: 'thingcert: AWS IoT devices with certificates provisioned by a custom resource',
  config,
});
app.synth();
