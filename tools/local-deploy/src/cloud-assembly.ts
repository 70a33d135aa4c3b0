import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceStepError, TemplateError } from './errors';

/** A CloudFormation template as the local deployer reads it. */
export interface Template {
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: unknown; Condition?: string }>;
}

/** One resource of a template. */
export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  Metadata?: Record<string, unknown>;
  /** `Delete` (the default), `Retain`, `RetainExceptOnCreate` or `Snapshot`. */
  DeletionPolicy?: string;
  /** `Delete` (the default), `Retain` or `Snapshot`: what happens to the old resource of a replacement. */
  UpdateReplacePolicy?: string;
}

/** A synthesized stack: its template and where each file asset lives on disk. */
export interface StackArtifact {
  readonly stackName: string;
  readonly template: Template;
  /** Asset object key (e.g. `<hash>.zip`) → absolute path of the asset's source directory/file. */
  readonly assetsByObjectKey: ReadonlyMap<string, string>;
}

interface Manifest {
  artifacts?: Record<
    string,
    {
      type: string;
      displayName?: string;
      properties?: { templateFile?: string; file?: string; stackName?: string };
    }
  >;
}

interface AssetManifest {
  files?: Record<
    string,
    { source: { path?: string }; destinations: Record<string, { objectKey: string }> }
  >;
}

/**
 * Reads a CDK cloud assembly (`cdk.out`) and returns its stacks with their
 * file assets mapped from S3 object key to the directory CDK staged.
 */
export function readCloudAssembly(outdir: string): StackArtifact[] {
  const manifestPath = join(outdir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new TemplateError(
      `${manifestPath} not found: synthesize the app first (pnpm nx synth infra)`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const artifacts = Object.entries(manifest.artifacts ?? {});
  const assets = new Map<string, string>();
  for (const [, artifact] of artifacts) {
    if (artifact.type !== 'cdk:asset-manifest' || !artifact.properties?.file) continue;
    const assetManifest = JSON.parse(
      readFileSync(join(outdir, artifact.properties.file), 'utf8'),
    ) as AssetManifest;
    for (const file of Object.values(assetManifest.files ?? {})) {
      if (!file.source.path) continue;
      for (const destination of Object.values(file.destinations)) {
        assets.set(destination.objectKey, join(outdir, file.source.path));
      }
    }
  }
  return artifacts
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
    .map(([id, artifact]) => {
      const templateFile = artifact.properties?.templateFile;
      if (!templateFile) throw new TemplateError(`stack artifact ${id} has no templateFile`);
      return {
        stackName: artifact.properties?.stackName ?? id,
        template: JSON.parse(readFileSync(join(outdir, templateFile), 'utf8')) as Template,
        assetsByObjectKey: assets,
      };
    });
}

/**
 * Where a file asset of the assembly (a function's code, the device runner
 * bundle) lives on disk, given the S3 object key the template names.
 *
 * @throws {ResourceStepError} for `logicalId` when the assembly has no such asset.
 */
export function assetDirectory(
  assets: ReadonlyMap<string, string>,
  logicalId: string,
  s3Key: unknown,
): string {
  const dir = typeof s3Key === 'string' ? assets.get(s3Key) : undefined;
  if (!dir || !existsSync(dir)) {
    throw new ResourceStepError(
      logicalId,
      'find asset',
      `asset ${String(s3Key)} is not in the cloud assembly`,
    );
  }
  return dir;
}
