import type { Template } from 'aws-cdk-lib/assertions';

/** Helpers that turn CloudFormation's references into names a reader recognises in assertions. */

type Json = unknown;

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': '${Region}',
  'AWS::AccountId': '${Account}',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Renders an IAM resource or environment value with logical ids replaced by `names[id]` (or the id). */
export function render(value: Json, names: Record<string, string>): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const object = value as Record<string, Json>;
    if ('Ref' in object) {
      const id = object.Ref as string;
      return PSEUDO[id] ?? names[id] ?? id;
    }
    if ('Fn::GetAtt' in object) {
      const [id, attribute] = object['Fn::GetAtt'] as [string, string];
      return `${names[id] ?? id}.${attribute}`;
    }
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, Json[]];
      return parts.map((part) => render(part, names)).join(separator);
    }
  }
  return JSON.stringify(value);
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: Json;
  Condition?: Record<string, Json>;
  Principal?: Json;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Every Allow statement attached to a role, one line each: `action, action -> resource, resource`,
 * followed by ` if {conditions}` for a conditional one. Reading the list for a function is
 * reading everything that function may do.
 */
export function permissionsOfRole(template: Template, roleId: string, names: Record<string, string>): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    list(policy.Properties.Roles as Json[]).some((role) => (role as { Ref?: string }).Ref === roleId),
  );
  const role = template.toJSON().Resources[roleId];
  const documents = [
    ...policies.map((policy) => policy.Properties.PolicyDocument),
    ...list(role?.Properties?.Policies as Json[]).map((policy) => (policy as { PolicyDocument: Json }).PolicyDocument),
  ];
  return documents
    .flatMap((document) => list((document as { Statement: Statement[] }).Statement))
    .filter((statement) => statement.Effect === 'Allow')
    .map((statement) => {
      const allowed = `${list(statement.Action).join(', ')} -> ${list(statement.Resource)
        .map((resource) => render(resource, names))
        .join(', ')}`;
      return statement.Condition ? `${allowed} if ${JSON.stringify(statement.Condition)}` : allowed;
    })
    .sort();
}

/** Every statement of every policy of any kind in the template: IAM, queue, topic and key policies. */
export function allStatements(template: Template): Array<{ resource: string; statement: Statement }> {
  const found: Array<{ resource: string; statement: Statement }> = [];
  for (const [id, resource] of Object.entries(
    template.toJSON().Resources as Record<string, { Properties?: Record<string, Json> }>,
  )) {
    const properties = resource.Properties ?? {};
    const documents = [
      properties.PolicyDocument,
      properties.KeyPolicy,
      properties.AssumeRolePolicyDocument,
      ...list(properties.Policies as Json[]).map((policy) => (policy as { PolicyDocument: Json }).PolicyDocument),
    ].filter(Boolean);
    for (const document of documents) {
      for (const statement of list((document as { Statement: Statement[] }).Statement))
        found.push({ resource: id, statement });
    }
  }
  return found;
}
