/**
 * Lambda entry point (bundled to `dist/lambda/index.mjs`, handler
 * `index.handler`). Clients are built once per container, at init.
 */
import { createAwsClients } from './aws-clients';
import type { LambdaHandler } from '@thingcert/cfn-response';
import { createCertificateResourceHandler } from './certificate-resource-handler';
import {
  createCredentialSwitchWindowHandler,
  isCredentialSwitchWindowEvent,
} from './credential-switch-window';

const certificates = createCertificateResourceHandler(createAwsClients());
const switchWindow = createCredentialSwitchWindowHandler();

/**
 * The provisioner function's handler, wired to real AWS clients: it serves
 * `Custom::ThingcertDeviceCertificate` and the credential switch window that
 * holds a rotation open for the device (one function, one service token).
 */
export const handler: LambdaHandler = (event, context) =>
  isCredentialSwitchWindowEvent(event)
    ? switchWindow(event, context)
    : certificates(event, context);
