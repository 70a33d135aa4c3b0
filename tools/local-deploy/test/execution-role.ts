/**
 * An `AWS::IAM::Role` Lambda may assume, with no permission: what a function
 * that calls no AWS API (the recording custom resource) runs as. With IAM
 * enforced a function needs its `Role`, as on AWS.
 */
export const EXECUTION_ROLE = {
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    },
  },
};

/** `function` (an `AWS::Lambda::Function`) running as the role `roleLogicalId`. */
export function withRole(
  fn: Record<string, unknown>,
  roleLogicalId: string,
): Record<string, unknown> {
  const properties = (fn.Properties ?? {}) as Record<string, unknown>;
  return { ...fn, Properties: { ...properties, Role: { 'Fn::GetAtt': [roleLogicalId, 'Arn'] } } };
}
