import type { Template, TemplateResource } from './cloud-assembly';
import { ResourceStepError, TemplateError } from './errors';
import { evaluateCondition, resolveValue, type ResolveContext } from './intrinsics';

/** Values CDK's bootstrap would have put in SSM; the local cloud has no SSM. */
const SSM_PARAMETER_DEFAULTS: Record<string, string> = {
  '/cdk-bootstrap/hnb659fds/version': '30',
};

/** What a {@link TemplateResolver} reads from the stack it resolves against. */
export interface ResolverStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly region: string;
  readonly accountId: string;
  /** Template parameter values given by the caller. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** Physical id of a deployed resource (what `Ref` gives). */
  ref(logicalId: string): string | undefined;
  /** Attribute of a deployed resource (what `Fn::GetAtt` gives). */
  getAtt(logicalId: string, attribute: string): unknown;
}

/**
 * The stack's current template, resolved against the stack as it is now:
 * parameters (SSM bootstrap parameters get a local value), pseudo parameters,
 * conditions, each resource's properties and metadata, and the outputs.
 */
export class TemplateResolver {
  private template: Template = { Resources: {} };
  private conditions: Record<string, boolean> = {};

  constructor(private readonly stack: ResolverStack) {}

  /** The template in use. */
  get current(): Template {
    return this.template;
  }

  /** Switches to a new template and evaluates its conditions. */
  use(template: Template): void {
    this.template = template;
    this.conditions = {};
    for (const [name, expression] of Object.entries(this.template.Conditions ?? {})) {
      const value = resolveValue(expression, this.context());
      this.conditions[name] = value === true || value === 'true';
    }
  }

  /** The context `resolveValue` needs, reading the stack's state at each call. */
  context(): ResolveContext {
    const parameters: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(this.template.Parameters ?? {})) {
      const given = this.stack.parameters?.[name];
      if (given !== undefined) parameters[name] = given;
      else if (spec.Type.startsWith('AWS::SSM::Parameter::Value')) {
        parameters[name] = SSM_PARAMETER_DEFAULTS[String(spec.Default)] ?? '';
      } else if (spec.Default !== undefined) parameters[name] = spec.Default;
      else throw new TemplateError(`parameter ${name} has no value and no default`);
    }
    return {
      pseudo: {
        'AWS::Region': this.stack.region,
        'AWS::AccountId': this.stack.accountId,
        'AWS::Partition': 'aws',
        'AWS::StackName': this.stack.stackName,
        'AWS::StackId': this.stack.stackId,
        'AWS::URLSuffix': 'amazonaws.com',
      },
      parameters,
      conditions: this.conditions,
      ref: (id) => this.stack.ref(id),
      getAtt: (id, attribute) => this.stack.getAtt(id, attribute),
    };
  }

  /** Whether the resource's `Condition` (if any) holds. */
  includes(resource: TemplateResource): boolean {
    return (
      resource.Condition === undefined || evaluateCondition(resource.Condition, this.context())
    );
  }

  /** The resource's properties, resolved; a failure names the resource. */
  resolveProperties(logicalId: string, resource: TemplateResource): Record<string, unknown> {
    try {
      return resolveValue(resource.Properties ?? {}, this.context()) as Record<string, unknown>;
    } catch (error) {
      throw new ResourceStepError(
        logicalId,
        'resolve properties',
        error instanceof Error ? error.message : String(error),
        { cause: error },
      );
    }
  }

  /** The resource's `Metadata`, resolved. */
  resolveMetadata(logicalId: string): Record<string, unknown> {
    const resource = this.template.Resources[logicalId];
    return resolveValue(resource?.Metadata ?? {}, this.context()) as Record<string, unknown>;
  }

  /** The template's outputs whose condition holds, resolved. */
  outputs(): Record<string, unknown> {
    const ctx = this.context();
    return Object.fromEntries(
      Object.entries(this.template.Outputs ?? {})
        .filter(
          ([, output]) =>
            output.Condition === undefined || evaluateCondition(output.Condition, ctx),
        )
        .map(([name, output]) => [name, resolveValue(output.Value, ctx)]),
    );
  }
}
