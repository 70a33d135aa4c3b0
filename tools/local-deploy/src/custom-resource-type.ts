/**
 * The resource types CloudFormation hands to a custom-resource provider:
 * `Custom::<anything>` and `AWS::CloudFormation::CustomResource`.
 */
export const CUSTOM_RESOURCE_TYPE = /^(Custom::|AWS::CloudFormation::CustomResource$)/;

/** Whether CloudFormation hands resources of `type` to a custom-resource provider. */
export function isCustomResourceType(type: string): boolean {
  return CUSTOM_RESOURCE_TYPE.test(type);
}
