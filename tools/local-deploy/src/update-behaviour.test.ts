import { describe, expect, it } from 'vitest';
import { changedProperties, updateBehaviour, updateRulesSource } from './update-behaviour';

describe('Function: updateBehaviour', () => {
  const instance = { ImageId: 'ami-1', InstanceType: 't4g.micro', UserData: 'a', Tags: [] };

  it.each([
    ['nothing changed (a Metadata-only change never reaches the properties)', {}, 'none'],
    ['a tag', { Tags: [{ Key: 'k', Value: 'v' }] }, 'no-interruption'],
    ['the user data', { UserData: 'b' }, 'some-interruptions'],
    ['the instance type', { InstanceType: 't4g.small' }, 'some-interruptions'],
    ['the image', { ImageId: 'ami-2' }, 'replacement'],
    ['the image and the user data', { ImageId: 'ami-2', UserData: 'b' }, 'replacement'],
  ])('an EC2 instance: %s → %s', (_what, change, expected) => {
    expect(updateBehaviour('AWS::EC2::Instance', instance, { ...instance, ...change })).toBe(
      expected,
    );
  });

  it('replaces a thing renamed and an attachment given a new principal', () => {
    expect(updateBehaviour('AWS::IoT::Thing', { ThingName: 'a' }, { ThingName: 'b' })).toBe(
      'replacement',
    );
    const attachment = { Principal: 'arn:cert/1', ThingName: 't' };
    expect(
      updateBehaviour('AWS::IoT::ThingPrincipalAttachment', attachment, {
        ...attachment,
        Principal: 'arn:cert/2',
      }),
    ).toBe('replacement');
    expect(
      updateBehaviour(
        'AWS::IoT::PolicyPrincipalAttachment',
        { PolicyName: 'p' },
        { PolicyName: 'q' },
      ),
    ).toBe('replacement');
  });

  it.each([
    ['AWS::IAM::Policy', 'PolicyDocument', 'no-interruption'],
    ['AWS::IoT::Policy', 'PolicyDocument', 'no-interruption'],
    ['AWS::IoT::Policy', 'PolicyName', 'replacement'],
    ['AWS::IAM::ManagedPolicy', 'PolicyDocument', 'no-interruption'],
    ['AWS::IAM::ManagedPolicy', 'Description', 'replacement'],
    ['AWS::IAM::InstanceProfile', 'Roles', 'no-interruption'],
    ['AWS::S3::BucketPolicy', 'PolicyDocument', 'no-interruption'],
    ['AWS::S3::BucketPolicy', 'Bucket', 'replacement'],
    ['AWS::KMS::Key', 'KeyPolicy', 'no-interruption'],
    ['AWS::KMS::Alias', 'TargetKeyId', 'no-interruption'],
    ['AWS::KMS::Alias', 'AliasName', 'replacement'],
  ])('%s: a new %s → %s', (type, property, expected) => {
    expect(updateBehaviour(type, { [property]: 'a' }, { [property]: 'b' })).toBe(expected);
  });

  it('leaves replacement of a custom resource to its provider', () => {
    expect(updateBehaviour('Custom::X', { Token: '1' }, { Token: '2' })).toBe('provider-decides');
    expect(updateBehaviour('AWS::CloudFormation::CustomResource', { a: 1 }, { a: 1 })).toBe('none');
  });

  it('keeps the id of a type it knows no rules for', () => {
    expect(updateBehaviour('AWS::EC2::VPC', { CidrBlock: 'a' }, { CidrBlock: 'b' })).toBe(
      'no-interruption',
    );
    expect(updateRulesSource('AWS::EC2::VPC')).toBeUndefined();
    expect(updateRulesSource('AWS::IoT::ThingPrincipalAttachment')).toBe(
      'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iot-thingprincipalattachment.html',
    );
  });
});

describe('Function: changedProperties', () => {
  it('compares values whatever their key order, and counts added and removed properties', () => {
    expect(
      changedProperties(
        { Doc: { a: 1, b: [1, { c: 2, d: 3 }] }, Gone: 1 },
        { Doc: { b: [1, { d: 3, c: 2 }], a: 1 }, New: 2 },
      ),
    ).toEqual(['Gone', 'New']);
  });
});
