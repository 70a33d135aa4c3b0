/**
 * The world of the fleet functions' integration tests: a local cloud, a
 * recorder standing in for both CloudFormation's response URL and the Auto
 * Scaling API (the local cloud has none: CompleteLifecycleAction is a form
 * POST the recorder keeps and answers 200), the BUNDLED fleet functions
 * (dist/fleet/*.mjs) imported as Lambda would with the environment the
 * construct gives them, and a real IoT client over loopback.
 */
import { fileURLToPath } from 'node:url';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { FLEET_FUNCTION_ENVIRONMENT } from '@thingcert/contracts';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import { startResponseRecorder, type ResponseRecorder } from '@thingcert/test-support';
import { afterAll, beforeAll } from 'vitest';

const FLEET_BUNDLE = (name: string) =>
  fileURLToPath(new URL(`../dist/fleet/${name}.mjs`, import.meta.url));

/** The fleet every test of a file shares. */
export const FLEET = {
  thingNamePrefix: 'fleet-',
  thingGroupName: 'fleet-group',
  maxDevices: 3,
  policyName: 'fleet-device',
} as const;

/** A Lambda handler as imported from a bundle. */
export type BundledHandler = (event: unknown, context?: unknown) => Promise<unknown>;

/** What a fleet integration test talks to. */
export interface FleetWorld {
  readonly cloud: LocalCloud;
  readonly recorder: ResponseRecorder;
  readonly iot: IoTClient;
  readonly hook: BundledHandler;
  readonly deregistration: BundledHandler;
  /** What the bundles logged. */
  readonly logLines: string[];
  /** Registers a thing as a provisioning template would: thing, active certificate, policy, group. */
  readonly register: (
    thingName: string,
  ) => Promise<{ certificateId: string; certificateArn: string }>;
}

/** Starts one {@link FleetWorld} for the test file and stops it afterwards. */
export function useFleetWorld(): () => FleetWorld {
  let world: FleetWorld | undefined;
  let cloud: LocalCloud | undefined;
  let recorder: ResponseRecorder | undefined;
  const originalLog = console.log;
  const originalError = console.error;
  beforeAll(async () => {
    cloud = await startLocalCloud({ detachDelayMs: 300 });
    recorder = await startResponseRecorder();
    Object.assign(process.env, cloud.env, {
      AWS_ENDPOINT_URL_AUTO_SCALING: recorder.url,
      [FLEET_FUNCTION_ENVIRONMENT.thingNamePrefix]: FLEET.thingNamePrefix,
      [FLEET_FUNCTION_ENVIRONMENT.thingGroupName]: FLEET.thingGroupName,
      [FLEET_FUNCTION_ENVIRONMENT.maxDevices]: String(FLEET.maxDevices),
    });
    const logLines: string[] = [];
    const capture = (line: unknown) => logLines.push(String(line));
    console.log = capture;
    console.error = capture;
    const load = async (name: string) =>
      ((await import(FLEET_BUNDLE(name))) as { handler: BundledHandler }).handler;
    const iot = new IoTClient({
      region: cloud.region,
      endpoint: cloud.iotEndpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    await iot.send(new CreateThingGroupCommand({ thingGroupName: FLEET.thingGroupName }));
    await iot.send(
      new CreatePolicyCommand({
        policyName: FLEET.policyName,
        policyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }],
        }),
      }),
    );
    world = {
      cloud,
      recorder,
      iot,
      logLines,
      hook: await load('pre-provisioning-hook'),
      deregistration: await load('fleet-deregistration'),
      async register(thingName) {
        await iot.send(new CreateThingCommand({ thingName }));
        const made = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
        const certificateArn = made.certificateArn!;
        await iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificateArn }));
        await iot.send(
          new AttachPolicyCommand({ policyName: FLEET.policyName, target: certificateArn }),
        );
        await iot.send(
          new AddThingToThingGroupCommand({ thingName, thingGroupName: FLEET.thingGroupName }),
        );
        return { certificateId: made.certificateId!, certificateArn };
      },
    };
  }, 60_000);
  afterAll(async () => {
    console.log = originalLog;
    console.error = originalError;
    await recorder?.close();
    await cloud?.stop();
  });
  return () => {
    if (world === undefined) throw new Error('the fleet world has not started');
    return world;
  };
}
