import { describe, expect, it } from 'vitest';
import type { Template } from './cloud-assembly';
import { isResourceStepError, TemplateError } from './errors';
import { TemplateResolver, type ResolverStack } from './template-resolver';

const deployed: Record<string, { physicalId: string; attributes: Record<string, unknown> }> = {
  Bucket: { physicalId: 'my-bucket', attributes: { Arn: 'arn:aws:s3:::my-bucket' } },
};

function resolver(parameters?: Record<string, unknown>): TemplateResolver {
  const stack: ResolverStack = {
    stackName: 'Thingcert',
    stackId: 'arn:aws:cloudformation:eu-west-1:000000000000:stack/Thingcert/id',
    region: 'eu-west-1',
    accountId: '000000000000',
    parameters,
    ref: (id) => deployed[id]?.physicalId,
    getAtt: (id, attribute) => deployed[id]?.attributes[attribute],
  };
  return new TemplateResolver(stack);
}

const template: Template = {
  Parameters: {
    Stage: { Type: 'String', Default: 'dev' },
    BootstrapVersion: {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/cdk-bootstrap/hnb659fds/version',
    },
  },
  Conditions: {
    IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
  },
  Resources: {
    Bucket: { Type: 'AWS::S3::Bucket' },
    ProdOnly: { Type: 'AWS::SNS::Topic', Condition: 'IsProd' },
    Instance: {
      Type: 'AWS::EC2::Instance',
      Properties: { Name: { 'Fn::Sub': '${AWS::StackName}-${Stage}' } },
      Metadata: { Bucket: { Ref: 'Bucket' } },
    },
    Broken: { Type: 'AWS::IAM::Role', Properties: { Target: { Ref: 'NotDeployed' } } },
  },
  Outputs: {
    BucketArn: { Value: { 'Fn::GetAtt': ['Bucket', 'Arn'] } },
    Version: { Value: { Ref: 'BootstrapVersion' } },
    ProdValue: { Value: 'x', Condition: 'IsProd' },
  },
};

describe('Class: TemplateResolver', () => {
  describe('Method: includes', () => {
    it('evaluates conditions, one referring to another, from the given parameters', () => {
      // Prepare
      const dev = resolver();
      const prod = resolver({ Stage: 'prod' });

      // Act
      dev.use(template);
      prod.use(template);

      // Assess
      expect(dev.includes(template.Resources.ProdOnly!)).toBe(false);
      expect(prod.includes(template.Resources.ProdOnly!)).toBe(true);
      expect(dev.context().conditions).toEqual({ IsProd: false, IsDev: true });
    });
  });

  describe('Method: resolveProperties', () => {
    it('resolves pseudo parameters and parameter defaults', () => {
      const subject = resolver();
      subject.use(template);

      expect(subject.resolveProperties('Instance', template.Resources.Instance!)).toEqual({
        Name: 'Thingcert-dev',
      });
    });

    it('names the resource and the step when a property cannot be resolved', () => {
      const subject = resolver();
      subject.use(template);

      const error = (() => {
        try {
          subject.resolveProperties('Broken', template.Resources.Broken!);
        } catch (caught) {
          return caught;
        }
      })();

      expect(isResourceStepError(error)).toBe(true);
      expect(error).toMatchObject({ logicalId: 'Broken', step: 'resolve properties' });
      expect((error as Error).message).toContain('NotDeployed');
    });
  });

  describe('Method: resolveMetadata', () => {
    it('resolves a resource metadata against the deployed resources', () => {
      const subject = resolver();
      subject.use(template);

      expect(subject.resolveMetadata('Instance')).toEqual({ Bucket: 'my-bucket' });
    });
  });

  describe('Method: outputs', () => {
    it('resolves the outputs whose condition holds; SSM bootstrap parameters get a local value', () => {
      const subject = resolver();
      subject.use(template);

      expect(subject.outputs()).toEqual({ BucketArn: 'arn:aws:s3:::my-bucket', Version: '30' });
    });
  });

  it('fails with a TemplateError for a parameter without value or default', () => {
    const subject = resolver();

    expect(() =>
      subject.use({
        Parameters: { Needed: { Type: 'String' } },
        Conditions: { Any: { 'Fn::Equals': [{ Ref: 'Needed' }, 'x'] } },
        Resources: {},
      }),
    ).toThrow(TemplateError);
  });
});
