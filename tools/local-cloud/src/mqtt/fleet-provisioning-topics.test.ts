import { describe, expect, it } from 'vitest';
import {
  isFleetReplyTopic,
  parseFleetRequestTopic,
  topicMatchesFilter,
} from './fleet-provisioning-topics';

describe('Function: parseFleetRequestTopic', () => {
  it('names the operation, template and payload format of a request topic', () => {
    expect(parseFleetRequestTopic('$aws/certificates/create/json')).toMatchObject({
      operation: 'CreateKeysAndCertificate',
      format: 'json',
    });
    expect(parseFleetRequestTopic('$aws/certificates/create-from-csr/cbor')).toMatchObject({
      operation: 'CreateCertificateFromCsr',
      format: 'cbor',
    });
    expect(
      parseFleetRequestTopic('$aws/provisioning-templates/fleet-1/provision/json'),
    ).toMatchObject({
      operation: 'RegisterThing',
      templateName: 'fleet-1',
      format: 'json',
    });
  });

  it('is not fooled by reply topics or other topics', () => {
    for (const topic of [
      '$aws/certificates/create/json/accepted',
      '$aws/provisioning-templates/t/provision/json/rejected',
      'aws/certificates/create/json',
      '$aws/things/t/shadow/update',
    ]) {
      expect(parseFleetRequestTopic(topic)).toBeUndefined();
    }
  });
});

describe('Function: isFleetReplyTopic', () => {
  it('recognises the accepted and rejected topics of the three operations', () => {
    expect(isFleetReplyTopic('$aws/certificates/create/json/accepted')).toBe(true);
    expect(isFleetReplyTopic('$aws/certificates/create-from-csr/json/rejected')).toBe(true);
    expect(isFleetReplyTopic('$aws/provisioning-templates/t/provision/json/accepted')).toBe(true);
    expect(isFleetReplyTopic('$aws/certificates/create/json')).toBe(false);
    expect(isFleetReplyTopic('dt/accepted')).toBe(false);
  });
});

describe('Function: topicMatchesFilter', () => {
  it('matches + and # as MQTT does, and keeps $ topics from leading wildcards', () => {
    expect(
      topicMatchesFilter(
        '$aws/certificates/create/json/accepted',
        '$aws/certificates/create/json/accepted',
      ),
    ).toBe(true);
    expect(
      topicMatchesFilter('$aws/certificates/+/json/+', '$aws/certificates/create/json/accepted'),
    ).toBe(true);
    expect(
      topicMatchesFilter('$aws/certificates/#', '$aws/certificates/create/json/accepted'),
    ).toBe(true);
    expect(topicMatchesFilter('a/#', 'a')).toBe(true);
    expect(topicMatchesFilter('#', '$aws/certificates/create/json/accepted')).toBe(false);
    expect(
      topicMatchesFilter(
        '+/certificates/create/json/accepted',
        '$aws/certificates/create/json/accepted',
      ),
    ).toBe(false);
    expect(
      topicMatchesFilter('$aws/certificates/create/json', '$aws/certificates/create/json/accepted'),
    ).toBe(false);
    expect(topicMatchesFilter('a/+', 'a/b/c')).toBe(false);
  });
});
