import { type IoTClient, ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';

/** Largest page ListThingsInThingGroup answers. */
const PAGE_SIZE = 250;

/**
 * The things of a (static) thing group, page by page (250 a call, the most
 * AWS answers), so a caller that has seen enough stops asking. Child groups
 * are not included.
 */
export async function* thingGroupMembers(
  iot: IoTClient,
  thingGroupName: string,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  let nextToken: string | undefined;
  do {
    const page = await iot.send(
      new ListThingsInThingGroupCommand({ thingGroupName, maxResults: PAGE_SIZE, nextToken }),
      { abortSignal: signal },
    );
    yield* page.things ?? [];
    nextToken = page.nextToken;
  } while (nextToken);
}
