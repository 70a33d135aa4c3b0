import type { PolicyDocument } from '@thingcert/local-cloud';

const allow = (actions: readonly string[]) => ({
  Effect: 'Allow',
  Action: [...actions],
  Resource: '*',
});

/**
 * The AWS managed policies our templates attach, with their documents as AWS publishes them
 * (`https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html`, the default
 * version). None of them grants an S3, IoT or KMS action, so locally they
 * change nothing a request can ask; they are registered anyway, so that a role holds what it
 * holds on AWS. A managed policy that is not here is not known locally: it grants nothing (the
 * deployer says so), which can only make the local world stricter than AWS, never kinder.
 */
const KNOWN: Readonly<Record<string, PolicyDocument>> = {
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
  'service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [allow(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'])],
  },
  // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html (v2)
  AmazonSSMManagedInstanceCore: {
    Version: '2012-10-17',
    Statement: [
      allow([
        'ssm:DescribeAssociation',
        'ssm:GetDeployablePatchSnapshotForInstance',
        'ssm:GetDocument',
        'ssm:DescribeDocument',
        'ssm:GetManifest',
        'ssm:GetParameter',
        'ssm:GetParameters',
        'ssm:ListAssociations',
        'ssm:ListInstanceAssociations',
        'ssm:PutInventory',
        'ssm:PutComplianceItems',
        'ssm:PutConfigurePackageResult',
        'ssm:UpdateAssociationStatus',
        'ssm:UpdateInstanceAssociationStatus',
        'ssm:UpdateInstanceInformation',
      ]),
      allow([
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ]),
      allow([
        'ec2messages:AcknowledgeMessage',
        'ec2messages:DeleteMessage',
        'ec2messages:FailMessage',
        'ec2messages:GetEndpoint',
        'ec2messages:GetMessages',
        'ec2messages:SendReply',
      ]),
    ],
  },
};

/** `arn:<partition>:iam::aws:policy/<path><name>`: an AWS managed policy. */
const AWS_MANAGED_ARN = /^arn:[\w-]+:iam::aws:policy\/(.+)$/;

/**
 * The document of an AWS managed policy by ARN, when it is one this deployer knows.
 * @returns undefined for a policy ARN that is not AWS managed, or not known here.
 */
export function awsManagedPolicyDocument(arn: string): PolicyDocument | undefined {
  const name = AWS_MANAGED_ARN.exec(arn)?.[1];
  return name === undefined ? undefined : KNOWN[name];
}
