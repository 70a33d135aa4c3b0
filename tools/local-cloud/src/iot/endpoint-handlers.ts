import { IotServiceError } from '../errors';
import type { IotHandlers } from './handler';

/** What DescribeEndpoint needs. */
export interface EndpointHandlerDeps {
  /** The data endpoint host every call answers (AWS answers the same address each time). */
  dataEndpoint: string;
}

/** The endpoint types DescribeEndpoint accepts, from the AWS IoT API reference. */
const ENDPOINT_TYPES = ['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'];

/** Handler of DescribeEndpoint. */
export function endpointHandlers({
  dataEndpoint,
}: EndpointHandlerDeps): IotHandlers<'DescribeEndpoint'> {
  return {
    DescribeEndpoint: ({ query }) => {
      const type = query.get('endpointType') ?? 'iot:Data';
      if (!ENDPOINT_TYPES.includes(type)) {
        throw new IotServiceError(
          'InvalidRequestException',
          400,
          `Endpoint type ${type} is not valid.`,
        );
      }
      return { endpointAddress: dataEndpoint };
    },
  };
}
