import { existsSync, readFileSync } from 'node:fs';

/** The resource type of {@link recordingResource}. */
export const RECORDING_RESOURCE_TYPE = 'Custom::Recorder';

/**
 * The recorder's handler, as inline `Code.ZipFile` (CommonJS, Node.js 22,
 * no dependencies). For each event it appends one JSON line to the file
 * named by its `RECORD_FILE` environment variable, then answers at the
 * `ResponseURL`:
 * - `PhysicalResourceId`: on Delete, and on a FAILED Update, the id it was
 *   sent; otherwise its `PhysicalId` property (so a new `PhysicalId` is a
 *   replacement);
 * - `Status`: FAILED when its `FailOn` property (comma-separated request
 *   types) names the request type, else SUCCESS, after `DelayMs` if set;
 * - `Data`: `{ Id: <physical id> }`.
 */
export const RECORDER_CODE = `
const { appendFileSync } = require('node:fs');
exports.handler = async (event) => {
  const props = event.ResourceProperties || {};
  appendFileSync(process.env.RECORD_FILE, JSON.stringify({
    RequestType: event.RequestType,
    LogicalResourceId: event.LogicalResourceId,
    RequestId: event.RequestId,
    PhysicalResourceId: event.PhysicalResourceId,
    ResourceProperties: event.ResourceProperties,
    OldResourceProperties: event.OldResourceProperties,
  }) + '\\n');
  if (props.DelayMs) await new Promise((resolve) => setTimeout(resolve, Number(props.DelayMs)));
  const failed = String(props.FailOn || '').split(',').includes(event.RequestType);
  const keepsId = event.RequestType === 'Delete' || (failed && event.RequestType === 'Update');
  const id = keepsId ? event.PhysicalResourceId : String(props.PhysicalId || event.LogicalResourceId);
  const body = JSON.stringify({
    Status: failed ? 'FAILED' : 'SUCCESS',
    ...(failed ? { Reason: 'FailOn ' + event.RequestType } : {}),
    PhysicalResourceId: id,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: { Id: id },
  });
  await fetch(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '' }, body });
};
`;

/** An `AWS::Lambda::Function` running {@link RECORDER_CODE}, recording into `recordFile`. */
export function recordingFunction(recordFile: string): Record<string, unknown> {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Code: { ZipFile: RECORDER_CODE },
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Timeout: 10,
      Environment: { Variables: { RECORD_FILE: recordFile } },
    },
  };
}

/** What a {@link recordingResource} is told to do. */
export interface RecordingResourceProperties {
  /** The physical id it answers (a new one makes an Update a replacement). */
  readonly PhysicalId: string;
  /** Request types it answers FAILED, comma-separated, e.g. `Update`. */
  readonly FailOn?: string;
  /** Waits this long before answering. */
  readonly DelayMs?: number;
  /** Anything else, to make an Update. */
  readonly [property: string]: unknown;
}

/** A {@link RECORDING_RESOURCE_TYPE} resource served by the function `functionLogicalId`. */
export function recordingResource(
  functionLogicalId: string,
  properties: RecordingResourceProperties,
  attributes: { DependsOn?: string | string[]; DeletionPolicy?: string } = {},
): Record<string, unknown> {
  return {
    Type: RECORDING_RESOURCE_TYPE,
    ...attributes,
    Properties: { ServiceToken: { 'Fn::GetAtt': [functionLogicalId, 'Arn'] }, ...properties },
  };
}

/** One request the recorder received, `ServiceToken` left out of the properties. */
export interface RecordedCustomResourceRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly LogicalResourceId: string;
  readonly RequestId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** The requests recorded in `recordFile`, in the order they arrived (none if it does not exist). */
export function readRecordedRequests(recordFile: string): RecordedCustomResourceRequest[] {
  if (!existsSync(recordFile)) return [];
  const withoutToken = (properties: Record<string, unknown> | undefined) => {
    if (!properties) return undefined;
    const { ServiceToken: _token, ...rest } = properties;
    return rest;
  };
  return readFileSync(recordFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const request = JSON.parse(line) as RecordedCustomResourceRequest;
      return {
        ...request,
        ResourceProperties: withoutToken(request.ResourceProperties) ?? {},
        ...(request.OldResourceProperties
          ? { OldResourceProperties: withoutToken(request.OldResourceProperties) }
          : {}),
      };
    });
}
