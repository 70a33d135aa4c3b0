import { describe, expect, it } from 'vitest';
import { IOT_OPERATIONS, type IotOperation } from '../iot/routes';
import { AccessEvaluator } from './access-evaluator';
import { roleSessionPrincipal } from '../../test/helpers';
import { iotAccessRequest } from './iot-access-requests';

const PREFIX = 'arn:aws:iot:us-east-1:000000000000';
const CERT = `${PREFIX}:cert/${'ab'.repeat(32)}`;
const call = {
  params: ['name-1'],
  headers: { 'x-amzn-principal': CERT },
  body: {
    target: CERT,
    thingGroupName: 'group-1',
    thingName: 'thing-1',
    templateName: 'template-1',
  },
};

describe('Function: iotAccessRequest', () => {
  it.each(IOT_OPERATIONS)(
    'maps %s to an action and resource the IAM simulator accepts',
    async (operation) => {
      const request = iotAccessRequest(operation as IotOperation, call, PREFIX);
      expect(request?.action).toBe(`iot:${operation}`);
      const evaluator = new AccessEvaluator('000000000000', 'us-east-1');
      const allowAll = await roleSessionPrincipal([
        { Effect: 'Allow', Action: 'iot:*', Resource: '*' },
      ]);
      const none = await roleSessionPrincipal([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
      ]);
      const transport = { secure: true, sourceIp: '127.0.0.1' };
      expect((await evaluator.decide(allowAll, request!, transport)).allowed).toBe(true);
      expect((await evaluator.decide(none, request!, transport)).allowed).toBe(false);
    },
  );

  it('scopes certificate, thing and policy operations by ARN', () => {
    expect(
      iotAccessRequest('UpdateCertificate', { ...call, params: ['c1'] }, PREFIX)?.resource,
    ).toBe(`${PREFIX}:cert/c1`);
    expect(iotAccessRequest('CreateThing', call, PREFIX)?.resource).toBe(`${PREFIX}:thing/name-1`);
    expect(iotAccessRequest('DeletePolicy', call, PREFIX)?.resource).toBe(
      `${PREFIX}:policy/name-1`,
    );
    expect(iotAccessRequest('AttachThingPrincipal', call, PREFIX)).toEqual({
      action: 'iot:AttachThingPrincipal',
      resource: CERT,
      context: { 'iot:thingArn': `${PREFIX}:thing/name-1` },
    });
    expect(
      iotAccessRequest('DetachPolicy', { ...call, body: { target: 'cognito-id' } }, PREFIX),
    ).toBeUndefined();
  });
});
