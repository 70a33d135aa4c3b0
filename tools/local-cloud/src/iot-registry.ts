import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Certificate states of AWS IoT that this emulator keeps. */
export type CertificateStatus =
  'ACTIVE' | 'INACTIVE' | 'REVOKED' | 'PENDING_TRANSFER' | 'PENDING_ACTIVATION';

/** A registered certificate. */
export interface CertificateRecord {
  certificateId: string;
  certificateArn: string;
  certificatePem: string;
  status: CertificateStatus;
  /** Epoch milliseconds. */
  creationDate: number;
  lastModifiedDate: number;
  generationId: string;
}

/** A registered thing. */
export interface ThingRecord {
  thingName: string;
  thingId: string;
  thingArn: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
}

/** A fleet provisioning (or JITP) template, as CreateProvisioningTemplate stores it (version 1 only). */
export interface ProvisioningTemplateRecord {
  templateName: string;
  templateArn: string;
  description?: string;
  /** The JSON text as given (validated when it was stored). */
  templateBody: string;
  enabled: boolean;
  provisioningRoleArn: string;
  preProvisioningHook?: { targetArn: string; payloadVersion: string };
  type: 'FLEET_PROVISIONING' | 'JITP';
  /** Epoch milliseconds. */
  creationDate: number;
  lastModifiedDate: number;
}

/** A static thing group. */
export interface ThingGroupRecord {
  thingGroupName: string;
  thingGroupId: string;
  thingGroupArn: string;
  parentGroupName?: string;
  description?: string;
  attributes: Record<string, string>;
  version: number;
  /** Epoch milliseconds. */
  creationDate: number;
}

/**
 * A certificate ownership token handed out by the fleet provisioning MQTT API. Only a hash of
 * the token is kept (in memory and in `stateDir`), so the state never holds a usable token.
 */
export interface OwnershipTokenRecord {
  /** SHA-256 hex of the token. */
  tokenHash: string;
  certificateId: string;
  /** Epoch milliseconds after which the token is refused and the certificate, if still pending, deleted. */
  expiresAt: number;
}

/** A stored policy (one version: the emulator keeps no version history). */
export interface PolicyRecord {
  policyName: string;
  policyArn: string;
  policyDocument: string;
  creationDate: number;
  lastModifiedDate: number;
  generationId: string;
}

/** Whether two attribute maps hold the same pairs, whatever their order. */
export function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const entries = (record: Record<string, string>) =>
    JSON.stringify(Object.entries(record).sort(([x], [y]) => x.localeCompare(y)));
  return entries(a) === entries(b);
}

/** AWS's maximum depth of a thing group hierarchy. */
export const MAX_GROUP_DEPTH = 7;

interface Snapshot {
  certificates: CertificateRecord[];
  things: ThingRecord[];
  policies: PolicyRecord[];
  /** policy name → target ARNs */
  policyTargets: Record<string, string[]>;
  /** thing name → principal ARNs */
  thingPrincipals: Record<string, string[]>;
  // Optional: state files written before fleet provisioning have none of these.
  provisioningTemplates?: ProvisioningTemplateRecord[];
  thingGroups?: ThingGroupRecord[];
  /** group name → thing names */
  thingGroupMembers?: Record<string, string[]>;
  ownershipTokens?: OwnershipTokenRecord[];
}

/**
 * The IoT registry state: certificates, things, policies and their
 * attachments, thing groups, provisioning templates and ownership tokens. Pure data with optional write-through persistence to one JSON
 * file, so `stateDir` survives restarts.
 */
export class IotRegistry {
  readonly certificates = new Map<string, CertificateRecord>();
  readonly things = new Map<string, ThingRecord>();
  readonly policies = new Map<string, PolicyRecord>();
  readonly policyTargets = new Map<string, Set<string>>();
  readonly thingPrincipals = new Map<string, Set<string>>();
  readonly provisioningTemplates = new Map<string, ProvisioningTemplateRecord>();
  readonly thingGroups = new Map<string, ThingGroupRecord>();
  /** group name → thing names */
  readonly thingGroupMembers = new Map<string, Set<string>>();
  /** token hash → token */
  readonly ownershipTokens = new Map<string, OwnershipTokenRecord>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string | undefined) {}

  /** An in-memory registry, or one loaded from (and saved to) `dir/iot-state.json`. */
  static async open(dir: string | undefined): Promise<IotRegistry> {
    if (dir === undefined) return new IotRegistry(undefined);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const registry = new IotRegistry(join(dir, 'iot-state.json'));
    let text: string | undefined;
    try {
      text = await readFile(join(dir, 'iot-state.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) registry.restore(JSON.parse(text) as Snapshot);
    return registry;
  }

  /** Schedules a save of the whole state (serialised, last write wins). */
  save(): Promise<void> {
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    const snapshot = JSON.stringify(this.snapshot());
    this.writing = this.writing.then(async () => {
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, snapshot, { mode: 0o600 });
      await rename(temp, file);
    });
    return this.writing;
  }

  /** Certificate ARN → its id, if the ARN names a registered certificate. */
  certificateByArn(arn: string): CertificateRecord | undefined {
    const match = /:cert\/([0-9a-f]{64})$/.exec(arn);
    return match?.[1] === undefined ? undefined : this.certificates.get(match[1]);
  }

  /** Policies attached to a target ARN, in attachment order. */
  policiesFor(target: string): PolicyRecord[] {
    const result: PolicyRecord[] = [];
    for (const [name, targets] of this.policyTargets) {
      const policy = this.policies.get(name);
      if (policy !== undefined && targets.has(target)) result.push(policy);
    }
    return result;
  }

  /** Things a principal ARN is attached to. */
  thingsFor(principal: string): string[] {
    const result: string[] = [];
    for (const [thing, principals] of this.thingPrincipals) {
      if (principals.has(principal)) result.push(thing);
    }
    return result;
  }

  /** Names of the static thing groups `thingName` belongs to, in creation order of the groups. */
  groupsOfThing(thingName: string): string[] {
    const result: string[] = [];
    for (const [group, things] of this.thingGroupMembers) {
      if (things.has(thingName)) result.push(group);
    }
    return result;
  }

  /** `groupName` and its ancestors, the group first and the root last. */
  groupLineage(groupName: string): ThingGroupRecord[] {
    const lineage: ThingGroupRecord[] = [];
    let current = this.thingGroups.get(groupName);
    while (current !== undefined && lineage.length <= MAX_GROUP_DEPTH) {
      lineage.push(current);
      current =
        current.parentGroupName === undefined
          ? undefined
          : this.thingGroups.get(current.parentGroupName);
    }
    return lineage;
  }

  /** A fresh generation id (AWS uses opaque strings). */
  static generationId(): string {
    return randomUUID().replace(/-/g, '');
  }

  private snapshot(): Snapshot {
    const entries = (map: Map<string, Set<string>>): Record<string, string[]> =>
      Object.fromEntries([...map].map(([k, v]) => [k, [...v]]));
    return {
      certificates: [...this.certificates.values()],
      things: [...this.things.values()],
      policies: [...this.policies.values()],
      policyTargets: entries(this.policyTargets),
      thingPrincipals: entries(this.thingPrincipals),
      provisioningTemplates: [...this.provisioningTemplates.values()],
      thingGroups: [...this.thingGroups.values()],
      thingGroupMembers: entries(this.thingGroupMembers),
      ownershipTokens: [...this.ownershipTokens.values()],
    };
  }

  private restore(snapshot: Snapshot): void {
    for (const c of snapshot.certificates) this.certificates.set(c.certificateId, c);
    for (const t of snapshot.things) this.things.set(t.thingName, t);
    for (const p of snapshot.policies) this.policies.set(p.policyName, p);
    for (const [k, v] of Object.entries(snapshot.policyTargets))
      this.policyTargets.set(k, new Set(v));
    for (const [k, v] of Object.entries(snapshot.thingPrincipals)) {
      this.thingPrincipals.set(k, new Set(v));
    }
    for (const t of snapshot.provisioningTemplates ?? []) {
      this.provisioningTemplates.set(t.templateName, t);
    }
    for (const g of snapshot.thingGroups ?? []) this.thingGroups.set(g.thingGroupName, g);
    for (const [k, v] of Object.entries(snapshot.thingGroupMembers ?? {})) {
      this.thingGroupMembers.set(k, new Set(v));
    }
    for (const t of snapshot.ownershipTokens ?? []) this.ownershipTokens.set(t.tokenHash, t);
  }
}
