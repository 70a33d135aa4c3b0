import {
  CreateKeysAndCertificateCommand,
  DescribeCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startCloudFixture, type CloudFixture } from '../test/helpers';

let fixture: CloudFixture;
beforeAll(async () => {
  fixture = await startCloudFixture();
  await fixture.s3.send(new CreateBucketCommand({ Bucket: 'faults' }));
});
afterAll(async () => {
  await fixture.stop();
});

describe('Class: FaultInjector (cloud.faults)', () => {
  it('refuses the matching S3 requests with the AWS error, changes nothing, and lifts on remove()', async () => {
    const { cloud, s3 } = fixture;
    const fault = cloud.faults.add({
      service: 's3',
      operation: 'PutObject',
      when: (request) => request.bucket === 'faults' && request.key === 'dir/current.json',
      error: { code: 'AccessDenied', status: 403, message: 'Access Denied' },
    });
    const put = (key: string) =>
      s3.send(new PutObjectCommand({ Bucket: 'faults', Key: key, Body: key }));

    expect(await failure(put('dir/current.json'))).toMatchObject({
      name: 'AccessDenied',
      status: 403,
      message: 'Access Denied',
    });
    await put('dir/other.json');
    expect(
      await failure(s3.send(new GetObjectCommand({ Bucket: 'faults', Key: 'dir/current.json' }))),
    ).toMatchObject({ name: 'NoSuchKey' });
    expect(fault.hits).toBe(1);

    fault.remove();
    await put('dir/current.json');
    expect(fault.hits).toBe(1);
  });

  it('refuses the matching IoT operation with the error name the SDK reads (x-amzn-errortype)', async () => {
    const { cloud, iot } = fixture;
    const { certificateId } = await iot.send(
      new CreateKeysAndCertificateCommand({ setAsActive: true }),
    );
    const fault = cloud.faults.add({
      service: 'iot',
      operation: 'UpdateCertificate',
      when: (request) => request.params?.[0] === certificateId,
      error: { code: 'ServiceUnavailableException', status: 503 },
    });
    try {
      const deactivate = () =>
        iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
      expect(await failure(deactivate())).toMatchObject({
        name: 'ServiceUnavailableException',
        status: 503,
      });
      expect(fault.hits).toBe(1); // the fixture's clients make one attempt

      const described = await iot.send(new DescribeCertificateCommand({ certificateId }));
      expect(described.certificateDescription?.status).toBe('ACTIVE');
    } finally {
      fault.remove();
    }
  });
});
