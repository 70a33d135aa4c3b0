/**
 * Lambda entry point (bundled to `dist/lambda/index.mjs`, handler
 * `index.handler`). Clients are built once per container, at init.
 */
import { createAwsClients } from './aws-clients';
import { createCertificateResourceHandler } from './certificate-resource-handler';

/** The `Custom::ThingcertDeviceCertificate` Lambda handler, wired to real AWS clients. */
export const handler = createCertificateResourceHandler(createAwsClients());
